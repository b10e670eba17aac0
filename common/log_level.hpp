// The one log-level type of the project. Pure cores emit log effects with it;
// the shells map it to their logger (spdlog) with to_spdlog-style switches of
// their own, so this header stays free of any logging library.
#pragma once

#include <optional>
#include <string_view>

namespace wibwob {

enum class LogLevel { debug, info, warn, error };

constexpr std::string_view to_string(LogLevel l) noexcept {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

// "debug", "info", "warn" (or "warning"), "error"; nullopt for anything else.
constexpr std::optional<LogLevel> parse_log_level(std::string_view s) noexcept {
  if (s == "debug") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "warn" || s == "warning") return LogLevel::warn;
  if (s == "error") return LogLevel::error;
  return std::nullopt;
}

}  // namespace wibwob
