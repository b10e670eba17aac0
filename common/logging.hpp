// One way to set up logging for every binary: `--log-format text|json`.
//
//   text  (the default) the binary's spdlog pattern, as before. Fields are
//         left out: a text message says everything itself.
//   json  one object per line on stderr, keys in this order:
//         {"ts":"2026-11-30T10:17:31.123Z","level":"info","component":"rooms",
//          "msg":"...", <fields>...}
//         ts is UTC with milliseconds; level is trace, debug, info, warn,
//         error or critical; every value is a JSON string. Messages are
//         escaped (quotes, backslashes, control characters as \n \t \uXXXX)
//         and invalid UTF-8 becomes U+FFFD, so every line parses.
//
// Fields: log_fields() attaches key/value pairs to one message, for JSON. A
// field named like a fixed key (ts, level, component, msg) is written as
// `_<name>`.
//
// Not pure (spdlog): the `wibwob_logging` target, apart from the pure
// `wibwob_common`.
#pragma once

#include "common/log_level.hpp"
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/common.h>

namespace wibwob::logging {

enum class Format { text, json };

// The project's one LogLevel (common/log_level.hpp) as spdlog's.
spdlog::level::level_enum to_spdlog(LogLevel l) noexcept;

// "text" or "json"; nullopt for anything else.
std::optional<Format> parse_format(std::string_view s) noexcept;

using Field = std::pair<std::string, std::string>;
using Fields = std::vector<Field>;

// Makes a logger writing to stderr the default spdlog logger. `text_pattern`
// is the spdlog pattern for text (empty: spdlog's default pattern); text is
// coloured on a terminal, JSON never is.
void configure_logging(const std::string& component, Format format, spdlog::level::level_enum level,
                       const std::string& text_pattern = {});

// Logs `msg` at `level` on the default logger with `fields`.
void log_fields(spdlog::level::level_enum level, std::string_view msg, const Fields& fields);

// Pure pieces, exposed for tests.
// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);
// "2026-11-30T10:17:31.123Z"
std::string iso8601_utc_ms(std::chrono::system_clock::time_point t);
// One JSON log line, without the newline.
std::string json_line(std::chrono::system_clock::time_point t, spdlog::level::level_enum level,
                      std::string_view component, std::string_view msg, const Fields& fields);

}  // namespace wibwob::logging
