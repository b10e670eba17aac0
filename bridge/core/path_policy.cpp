#include "bridge/core/path_policy.hpp"

#include <algorithm>
#include <filesystem>

namespace wibwob::bridge {

using protocol::Errc;
using protocol::make_error;
namespace fs = std::filesystem;

PathPolicy::PathPolicy(std::vector<std::string> allowed, Resolver resolve)
    : allowed_(std::move(allowed)), resolve_(std::move(resolve)) {
  if (!resolve_) resolve_ = &PathPolicy::lexical;
}

std::optional<std::string> PathPolicy::lexical(const std::string& path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::string out = fs::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool path_within(const std::string& path, const std::string& dir) {
  const fs::path p(path), d(dir);
  auto pi = p.begin();
  for (const auto& part : d) {
    if (part.empty()) continue;  // a trailing separator
    if (pi == p.end() || *pi != part) return false;
    ++pi;
  }
  return true;
}

protocol::Result<void> PathPolicy::check(const std::string& path) const {
  if (path.empty() || path[0] != '/') return make_error(Errc::bad_value, "path '" + path.substr(0, 200) + "' is not absolute");
  if (std::any_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
    return make_error(Errc::bad_value, "path has control characters");
  if (allowed_.empty())
    return make_error(Errc::bad_value, "path windows are not allowed here (allow a folder with --allow-path DIR)");
  const auto resolved = resolve_(path);
  if (!resolved) return make_error(Errc::bad_value, "path '" + path.substr(0, 200) + "' cannot be resolved");
  for (const auto& dir : allowed_)
    if (path_within(*resolved, dir)) return {};
  return make_error(Errc::bad_value, "path '" + path.substr(0, 200) + "'" +
                                         (*resolved != path ? " (resolves to '" + resolved->substr(0, 200) + "')" : "") +
                                         " is outside the allowed folders (allow one with --allow-path DIR)");
}

}  // namespace wibwob::bridge
