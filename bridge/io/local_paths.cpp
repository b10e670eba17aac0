#include "bridge/io/local_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bridge/core/handover.hpp"

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

std::string socket_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return {};
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec);
}

protocol::Result<std::string> read_handover_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::string();
    return make_error(Errc::bad_value, "handover file '" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return make_error(Errc::bad_value, "handover file '" + path + "' is not a regular file");
  if (st.st_uid != ::geteuid())
    return make_error(Errc::bad_value, "handover file '" + path + "' belongs to another user; refusing it");
  if (static_cast<std::size_t>(st.st_size) > max_handover_bytes)
    return make_error(Errc::too_large, "handover file '" + path + "' is larger than " +
                                           std::to_string(max_handover_bytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return make_error(Errc::bad_value, "handover file '" + path + "' cannot be read");
  return text.str();
}

protocol::Result<void> write_handover_file(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(Errc::bad_value, "handover file '" + tmp + "' cannot be written: " + std::strerror(errno));
    ::chmod(tmp.c_str(), 0600);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out.flush()) return make_error(Errc::bad_value, "handover file '" + tmp + "': write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error(Errc::bad_value, "handover file '" + path + "' cannot be replaced: " + std::strerror(errno));
  return {};
}

}  // namespace wibwob::bridge
