// The JSON log line (common/logging.hpp) parsed back with a small strict JSON
// reader: stable keys in order, ISO-8601 UTC timestamps with milliseconds,
// and messages with quotes, newlines, control characters and invalid UTF-8
// that still parse to what was logged (bad bytes as U+FFFD).
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "common/logging.hpp"

namespace lg = wibwob::logging;

namespace {

// A strict reader of one flat JSON object of string values, keys in order.
// Returns nullopt on anything else (so a malformed line fails the test).
struct Reader {
  std::string_view s;
  std::size_t i = 0;
  bool eat(char c) {
    if (i < s.size() && s[i] == c) return ++i, true;
    return false;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i < s.size() && s[i] != '"') {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20) return std::nullopt;  // raw control characters are not JSON
      if (c != '\\') { out += s[i++]; continue; }
      if (++i >= s.size()) return std::nullopt;
      const char e = s[i++];
      if (e == 'n') out += '\n';
      else if (e == 't') out += '\t';
      else if (e == 'r') out += '\r';
      else if (e == '"' || e == '\\' || e == '/') out += e;
      else if (e == 'u' && i + 4 <= s.size()) {
        put_utf8(out, static_cast<unsigned>(std::stoul(std::string(s.substr(i, 4)), nullptr, 16)));
        i += 4;
      } else return std::nullopt;
    }
    if (!eat('"')) return std::nullopt;
    return out;
  }
  std::optional<std::vector<std::pair<std::string, std::string>>> object() {
    std::vector<std::pair<std::string, std::string>> kv;
    if (!eat('{')) return std::nullopt;
    do {
      auto k = string();
      if (!k || !eat(':')) return std::nullopt;
      auto v = string();
      if (!v) return std::nullopt;
      kv.emplace_back(*k, *v);
    } while (eat(','));
    if (!eat('}') || i != s.size()) return std::nullopt;
    return kv;
  }
};

std::optional<std::vector<std::pair<std::string, std::string>>> parse(std::string_view line) {
  return Reader{line}.object();
}

const auto t0 = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795948651123));  // 2026-11-29

}  // namespace

TEST(Logging, JsonLineHasTheStableKeysInOrder) {
  const auto line = lg::json_line(t0, spdlog::level::warn, "rooms", "bridge exited", {{"room", "shared"}});
  auto kv = parse(line);
  ASSERT_TRUE(kv) << line;
  ASSERT_EQ(kv->size(), 5u);
  EXPECT_EQ((*kv)[0], (std::pair<std::string, std::string>{"ts", "2026-11-29T10:37:31.123Z"}));
  EXPECT_EQ((*kv)[1].first, "level");
  EXPECT_EQ((*kv)[1].second, "warn");
  EXPECT_EQ((*kv)[2].second, "rooms");
  EXPECT_EQ((*kv)[3], (std::pair<std::string, std::string>{"msg", "bridge exited"}));
  EXPECT_EQ((*kv)[4], (std::pair<std::string, std::string>{"room", "shared"}));
}

TEST(Logging, EveryLevelHasItsName) {
  const std::map<spdlog::level::level_enum, std::string> names = {
      {spdlog::level::trace, "trace"}, {spdlog::level::debug, "debug"}, {spdlog::level::info, "info"},
      {spdlog::level::warn, "warn"},   {spdlog::level::err, "error"},   {spdlog::level::critical, "critical"}};
  for (const auto& [l, name] : names) EXPECT_EQ((*parse(lg::json_line(t0, l, "c", "m", {})))[1].second, name);
}

TEST(Logging, MessagesWithQuotesNewlinesAndControlCharactersParseBack) {
  const std::string msg = "say \"hi\"\\ then\nnext\r\tline \x01\x1f\x7f end: caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80";
  const auto line = lg::json_line(t0, spdlog::level::info, "c\"omp", msg, {{"k\n", "v\"\x02"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto kv = parse(line);
  ASSERT_TRUE(kv) << line;
  EXPECT_EQ((*kv)[2].second, "c\"omp");
  EXPECT_EQ((*kv)[3].second, msg);
  EXPECT_EQ((*kv)[4], (std::pair<std::string, std::string>{"k\n", "v\"\x02"}));
}

TEST(Logging, InvalidUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xef\xbf\xbd";
  const std::map<std::string, std::string> cases = {
      {"a\xff" "b", "a" + fffd + "b"},                       // never valid
      {"\xc3", fffd},                                         // truncated at the end
      {"\xc0\xaf", fffd + fffd},                              // overlong '/'
      {"\xed\xa0\x80", fffd + fffd + fffd},                   // a surrogate
      {"\xf4\x90\x80\x80", fffd + fffd + fffd + fffd},        // above U+10FFFF
      {"\xe2\x9c" "x", fffd + fffd + "x"},                    // cut short by ASCII
  };
  for (const auto& [in, want] : cases) {
    auto kv = parse(lg::json_line(t0, spdlog::level::info, "c", in, {}));
    ASSERT_TRUE(kv) << in;
    EXPECT_EQ((*kv)[3].second, want);
  }
}

TEST(Logging, FieldsNamedLikeFixedKeysArePrefixed) {
  auto kv = parse(lg::json_line(t0, spdlog::level::info, "c", "m", {{"msg", "x"}, {"ts", "y"}}));
  ASSERT_TRUE(kv);
  EXPECT_EQ((*kv)[3], (std::pair<std::string, std::string>{"msg", "m"}));
  EXPECT_EQ((*kv)[4].first, "_msg");
  EXPECT_EQ((*kv)[5].first, "_ts");
}

TEST(Logging, TimestampsAreUtcWithMilliseconds) {
  using std::chrono::milliseconds;
  EXPECT_EQ(lg::iso8601_utc_ms(std::chrono::system_clock::time_point(milliseconds(0))), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(lg::iso8601_utc_ms(std::chrono::system_clock::time_point(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(lg::iso8601_utc_ms(t0), "2026-11-29T10:37:31.123Z");
}

TEST(Logging, ParseFormat) {
  EXPECT_EQ(lg::parse_format("text"), lg::Format::text);
  EXPECT_EQ(lg::parse_format("json"), lg::Format::json);
  EXPECT_FALSE(lg::parse_format("JSON"));
  EXPECT_FALSE(lg::parse_format(""));
}

// The configured logger itself: stderr captured into a file, one JSON object
// per line, level filtering applied, fields attached to their message only.
TEST(Logging, ConfiguredJsonLoggerWritesOneObjectPerLine) {
  char path[] = "/tmp/wibwob-logging-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  lg::configure_logging("unit", lg::Format::json, spdlog::level::info);
  spdlog::debug("hidden");
  spdlog::info("two\nlines");
  lg::log_fields(spdlog::level::warn, "with fields", {{"room", "r1"}, {"role", "app"}});
  spdlog::error("after");
  spdlog::default_logger()->flush();
  ::dup2(saved, 2);
  ::close(saved);
  std::string text;
  char buf[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  ::unlink(path);
  spdlog::drop("unit");
  lg::configure_logging("test", lg::Format::text, spdlog::level::info);  // stderr again, for later tests

  std::vector<std::vector<std::pair<std::string, std::string>>> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto kv = parse(std::string_view(text).substr(start, nl - start));
    ASSERT_TRUE(kv) << text;
    lines.push_back(*kv);
  }
  EXPECT_EQ(start, text.size()) << "a partial line: " << text;
  ASSERT_EQ(lines.size(), 3u) << text;
  EXPECT_EQ(lines[0][3].second, "two\nlines");
  EXPECT_EQ(lines[0].size(), 4u);
  EXPECT_EQ(lines[1][1].second, "warn");
  EXPECT_EQ(lines[1][4], (std::pair<std::string, std::string>{"room", "r1"}));
  EXPECT_EQ(lines[1][5], (std::pair<std::string, std::string>{"role", "app"}));
  EXPECT_EQ(lines[2].size(), 4u);  // fields belong to one message only
  EXPECT_EQ(lines[2][2].second, "unit");
  EXPECT_TRUE(std::regex_match(lines[2][0].second, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}
