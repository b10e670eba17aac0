#include "bridge/io/local_paths.hpp"

#include <fcntl.h>
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
    return make_error(Errc::io_failed, "handover file '" + path + "': " + std::strerror(errno));
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
  if (!in) return make_error(Errc::io_failed, "handover file '" + path + "' cannot be read");
  return text.str();
}

protocol::Result<void> write_handover_file(const std::string& path, std::string_view text) {
  // The file sits beside the app's socket, often in /tmp: the temporary file
  // is made anew (O_EXCL), never through a link someone planted there
  // (O_NOFOLLOW), and is 0600 from its first byte. rename() replaces a link
  // at `path` itself, not what it points to.
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a stale one from a crash (or a planted link: unlink removes the link)
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(Errc::io_failed, "handover file '" + tmp + "' cannot be created: " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(Errc::io_failed, "handover file '" + tmp + "': write failed: " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(Errc::io_failed, "handover file '" + path + "' cannot be replaced: " + why);
  }
  return {};
}

}  // namespace wibwob::bridge
