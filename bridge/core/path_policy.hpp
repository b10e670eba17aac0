// PathPolicy: which local files a window from the room may open.
//
// A room peer can put any `path` into a text_view or frame_player window;
// opened here, the file is shown on this desktop to everyone watching it.
// So a path window is created only when its path lies inside one of the
// folders the operator allowed (--allow-path, WIBWOB_ALLOW_PATHS); by
// default none is. Paths are compared by components after resolving `.`,
// `..` and symlinks on this machine, so /home/a allows /home/a/x but not
// /home/ab/x, and not /home/a/link-to-etc/passwd.
//
// Pure apart from the injected resolver: the shell resolves with the file
// system (bridge/io/local_paths), the simulator and tests lexically.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/result.hpp"

namespace wibwob::bridge {

class PathPolicy {
 public:
  // The canonical form of an absolute path on this machine (symlinks
  // resolved), or nullopt when it cannot be resolved.
  using Resolver = std::function<std::optional<std::string>(const std::string&)>;

  PathPolicy() = default;  // nothing allowed
  // `allowed` must already be canonical (the shell resolves them at start).
  PathPolicy(std::vector<std::string> allowed, Resolver resolve);

  // Why `path` may not be opened here, or success.
  protocol::Result<void> check(const std::string& path) const;
  bool allows_any() const noexcept { return !allowed_.empty(); }
  const std::vector<std::string>& allowed() const noexcept { return allowed_; }

  // `.` and `..` removed without touching the file system.
  static std::optional<std::string> lexical(const std::string& path);

 private:
  std::vector<std::string> allowed_;
  Resolver resolve_;
};

// Whether `path` equals `dir` or lies below it, by path components (both
// absolute and normalised).
bool path_within(const std::string& path, const std::string& dir);

}  // namespace wibwob::bridge
