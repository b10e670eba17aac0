#include "common/logging.hpp"

#include <ctime>
#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace wibwob::logging {

namespace {

// The fields of the message being logged on this thread (loggers here are
// synchronous: the formatter runs inside the log call).
thread_local const Fields* current_fields = nullptr;

}  // namespace

spdlog::level::level_enum to_spdlog(LogLevel l) noexcept {
  switch (l) {
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

namespace {

std::string_view level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool reserved(std::string_view key) {
  return key == "ts" || key == "level" || key == "component" || key == "msg";
}

class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string component) : component_(std::move(component)) {}
  void format(const spdlog::details::log_msg& m, spdlog::memory_buf_t& dest) override {
    static const Fields none;
    const auto line = json_line(m.time, m.level, component_, std::string_view(m.payload.data(), m.payload.size()),
                                current_fields ? *current_fields : none);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(component_); }

 private:
  std::string component_;
};

}  // namespace

std::optional<Format> parse_format(std::string_view s) noexcept {
  if (s == "text") return Format::text;
  if (s == "json") return Format::json;
  return std::nullopt;
}

std::string json_quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\\ufffd";  // invalid UTF-8: one replacement character per bad byte
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(s.substr(i, n));
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    i += n;
  }
  out += '"';
  return out;
}

std::string iso8601_utc_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  long long frac = ms % 1000;
  if (frac < 0) {  // before 1970: floor, not truncate
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%.*s.%03lldZ", static_cast<int>(n), buf, frac);
  return out;
}

std::string json_line(std::chrono::system_clock::time_point t, spdlog::level::level_enum level,
                      std::string_view component, std::string_view msg, const Fields& fields) {
  std::string o = "{\"ts\":" + json_quote(iso8601_utc_ms(t)) + ",\"level\":" + json_quote(level_name(level)) +
                  ",\"component\":" + json_quote(component) + ",\"msg\":" + json_quote(msg);
  for (const auto& [k, v] : fields) o += "," + json_quote(reserved(k) ? "_" + k : k) + ":" + json_quote(v);
  o += '}';
  return o;
}

void configure_logging(const std::string& component, Format format, spdlog::level::level_enum level,
                       const std::string& text_pattern) {
  spdlog::drop(component);  // configuring twice (tests) replaces the logger
  std::shared_ptr<spdlog::logger> logger;
  if (format == Format::json) {
    logger = spdlog::stderr_logger_mt(component);
    logger->set_formatter(std::make_unique<JsonFormatter>(component));
  } else {
    logger = spdlog::stderr_color_mt(component);
    if (!text_pattern.empty()) logger->set_pattern(text_pattern);
  }
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

void log_fields(spdlog::level::level_enum level, std::string_view msg, const Fields& fields) {
  current_fields = &fields;
  try {
    spdlog::default_logger_raw()->log(level, "{}", msg);
  } catch (...) {
    current_fields = nullptr;
    throw;
  }
  current_fields = nullptr;
}

}  // namespace wibwob::logging
