#include "bridge/io/local_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace wibwob::bridge {

using protocol::Errc;
using protocol::make_error;
namespace fs = std::filesystem;

PathPolicy::Resolver filesystem_resolver() {
  return [](const std::string& path) -> std::optional<std::string> {
    if (path.empty() || path[0] != '/') return std::nullopt;
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(fs::path(path), ec);
    if (ec) return std::nullopt;
    return PathPolicy::lexical(p.string());
  };
}

protocol::Result<std::string> canonical_folder(const std::string& dir) {
  if (dir.empty()) return make_error(Errc::bad_value, "an empty --allow-path");
  std::error_code ec;
  const fs::path p = fs::canonical(fs::path(dir), ec);
  if (ec) return make_error(Errc::bad_value, "--allow-path '" + dir + "': " + ec.message());
  if (!fs::is_directory(p, ec)) return make_error(Errc::bad_value, "--allow-path '" + dir + "' is not a folder");
  return p.string();
}

protocol::Result<std::string> read_secret_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(Errc::bad_value, "--secret-file '" + path + "' cannot be read");
  if (!S_ISREG(st.st_mode)) return make_error(Errc::bad_value, "--secret-file '" + path + "' is not a regular file");
  if (st.st_uid != ::geteuid())
    return make_error(Errc::bad_value, "--secret-file '" + path + "' belongs to another user; refusing it");
  if ((st.st_mode & 077) != 0)
    return make_error(Errc::bad_value, "--secret-file '" + path +
                                           "' can be read by other users; refusing it (chmod 600 it)");
  std::ifstream in(path);
  std::string secret;
  if (!std::getline(in, secret)) return make_error(Errc::bad_value, "--secret-file '" + path + "' is empty");
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  if (secret.empty()) return make_error(Errc::bad_value, "--secret-file '" + path + "' is empty");
  return secret;
}

}  // namespace wibwob::bridge
