// Tests for the WibWob-DOS IPC codec (protocol/ipc.hpp) against
// spec/wibwob-ipc.md: percent-encoding, request building and the app's
// request parsing quirks, reply classification, get_state, events, auth.
#include "protocol/ipc.hpp"
#include "protocol/server_url.hpp"
#include "protocol/socket_paths.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace ipc = wibwob::protocol::ipc;
using wibwob::protocol::Errc;

namespace {

// Arbitrary bytes, all 256 values equally likely (rapidcheck's string
// generator favours printable characters).
rc::Gen<std::string> gen_bytes() {
  return rc::gen::map(rc::gen::container<std::vector<unsigned char>>(rc::gen::arbitrary<unsigned char>()),
                      [](const std::vector<unsigned char>& v) { return std::string(v.begin(), v.end()); });
}

// Names and keys the builder accepts: printable ASCII without '=', '%' is
// fine (keys are not decoded).
rc::Gen<std::string> gen_token() {
  return rc::gen::suchThat(
      rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(
          std::string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.%:/")))),
      [](const std::string& s) { return s.rfind("cmd:", 0) != 0; });
}

// Valid UTF-8 text without control characters, rich in what the app's
// escaping must handle ('"' and '\') and multi-byte sequences.
rc::Gen<std::string> gen_text() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(std::vector<std::string>{
          "a", "Z", "0", " ", "\"", "\\", "/", "{", "}", "[", "]", ":", ",", "é", "日本", "🎲", "\x7f", "%"})),
      [](const std::vector<std::string>& parts) {
        std::string s;
        for (const auto& p : parts) s += p;
        return s;
      });
}

rc::Gen<ipc::AppWindow> gen_app_window() {
  return rc::gen::apply(
      [](int n, std::string type, std::int32_t x, std::int32_t y, std::int32_t w, std::int32_t h, std::int32_t z,
         bool focused, std::string title, rc::Maybe<std::string> path) {
        ipc::AppWindow win;
        win.id = "w" + std::to_string(n);
        win.type = std::move(type);
        win.x = x; win.y = y; win.w = w; win.h = h; win.z = z;
        win.focused = focused;
        win.title = std::move(title);
        if (path) win.path = *path;
        return win;
      },
      rc::gen::inRange(1, 100000), rc::gen::elementOf(std::vector<std::string>{"verse", "text_view", "frame_player", "test_pattern"}),
      rc::gen::arbitrary<std::int32_t>(), rc::gen::arbitrary<std::int32_t>(), rc::gen::arbitrary<std::int32_t>(),
      rc::gen::arbitrary<std::int32_t>(), rc::gen::inRange(0, 50), rc::gen::arbitrary<bool>(), gen_text(),
      rc::gen::maybe(gen_text()));
}

rc::Gen<ipc::AppState> gen_app_state() {
  return rc::gen::apply(
      [](std::vector<ipc::AppWindow> ws, std::vector<std::tuple<std::int64_t, std::string, std::string>> chat) {
        ipc::AppState s;
        s.windows = std::move(ws);
        for (auto& [seq, sender, text] : chat) s.chat_log.push_back({seq, sender, text});
        return s;
      },
      rc::gen::container<std::vector<ipc::AppWindow>>(gen_app_window()),
      rc::gen::container<std::vector<std::tuple<std::int64_t, std::string, std::string>>>(
          rc::gen::tuple(rc::gen::inRange<std::int64_t>(1, 1000000), gen_text(), gen_text())));
}

std::string nested(int depth, char open, char close) {
  return std::string(static_cast<std::size_t>(depth), open) + std::string(static_cast<std::size_t>(depth), close);
}

}  // namespace

// --- percent-encoding -------------------------------------------------------

RC_GTEST_PROP(IpcPercent, RoundTripsArbitraryBytes, ()) {
  const std::string raw = *gen_bytes();
  const std::string enc = ipc::percent_encode(raw);
  RC_ASSERT(ipc::percent_decode(enc) == raw);
  // Encoded text is safe on the wire: no whitespace, no '=', no '+'.
  for (char c : enc) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    RC_ASSERT(unreserved || c == '%');
  }
}

TEST(IpcPercent, EncodesReservedBytesUpperCase) {
  EXPECT_EQ(ipc::percent_encode("a b/c%d+e"), "a%20b%2Fc%25d%2Be");
  EXPECT_EQ(ipc::percent_encode(std::string("\0\n\xff", 3)), "%00%0A%FF");
  EXPECT_EQ(ipc::percent_encode("é"), "%C3%A9");
  EXPECT_EQ(ipc::percent_encode("Az09-._~"), "Az09-._~");
}

TEST(IpcPercent, AppDecodeQuirks) {
  EXPECT_EQ(ipc::percent_decode("a%20b"), "a b");
  EXPECT_EQ(ipc::percent_decode("%2f%2F"), "//");           // either hex case
  EXPECT_EQ(ipc::percent_decode("a+b"), "a+b");             // '+' is not a space
  EXPECT_EQ(ipc::percent_decode("100%"), "100%");           // bad % stays literal
  EXPECT_EQ(ipc::percent_decode("%4"), "%4");
  EXPECT_EQ(ipc::percent_decode("%zz%4g"), "%zz%4g");
  EXPECT_EQ(ipc::percent_decode("%%41"), "%A");             // first % bad, second good
  EXPECT_EQ(ipc::percent_decode("%00"), std::string("\0", 1));
}

// --- requests ---------------------------------------------------------------

RC_GTEST_PROP(IpcRequest, BuiltRequestFitsOrIsTooLarge, ()) {
  const std::string name = *gen_token();
  const auto n = *rc::gen::inRange<std::size_t>(0, 6);
  ipc::Params params;
  std::size_t expected = 4 + name.size() + 1;  // "cmd:" name "\n"
  for (std::size_t i = 0; i < n; ++i) {
    std::string key = *gen_token();
    std::string value = *rc::gen::resize(800, gen_bytes());
    expected += 1 + key.size() + 1 + ipc::percent_encode(value).size();
    params.emplace_back(std::move(key), std::move(value));
  }
  const auto r = ipc::build_request(name, params);
  if (r) {
    RC_ASSERT(r->size() <= ipc::max_request_bytes);
    RC_ASSERT(r->size() == expected);
    RC_ASSERT(r->back() == '\n');
    RC_ASSERT(r->find('\n') == r->size() - 1);  // exactly one line
  } else {
    RC_ASSERT(r.error().code == Errc::too_large);
    RC_ASSERT(expected > ipc::max_request_bytes);
  }
}

RC_GTEST_PROP(IpcRequest, ParseRecoversBuiltRequest, ()) {
  const std::string name = *gen_token();
  const auto params = *rc::gen::container<ipc::Params>(
      rc::gen::pair(gen_token(), rc::gen::resize(60, gen_bytes())));
  const auto line = ipc::build_request(name, params);
  RC_PRE(line.ok());
  const ipc::Command cmd = ipc::parse_request(*line);
  RC_ASSERT(cmd.name == name);
  std::map<std::string, std::string> want;
  for (const auto& [k, v] : params) want[k] = v;  // duplicate keys: last wins
  RC_ASSERT(cmd.params == want);
}

TEST(IpcRequest, BuildsTheWireFormat) {
  auto r = ipc::build_request("create_window", {{"type", "figlet_text"}, {"text", "hello world"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "cmd:create_window type=figlet_text text=hello%20world\n");
  auto g = ipc::build_request("get_state");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g, "cmd:get_state\n");
}

TEST(IpcRequest, RejectsMalformedNamesAndKeys) {
  EXPECT_EQ(ipc::build_request("").error().code, Errc::bad_value);
  EXPECT_EQ(ipc::build_request("get state").error().code, Errc::bad_value);
  EXPECT_EQ(ipc::build_request("get\nstate").error().code, Errc::bad_value);
  EXPECT_EQ(ipc::build_request("x", {{"", "v"}}).error().code, Errc::bad_value);
  EXPECT_EQ(ipc::build_request("x", {{"a=b", "v"}}).error().code, Errc::bad_value);
  EXPECT_EQ(ipc::build_request("x", {{"a b", "v"}}).error().code, Errc::bad_value);
  EXPECT_EQ(ipc::build_request("x", {{"cmd:evil", "v"}}).error().code, Errc::bad_value);
  EXPECT_EQ(ipc::build_request("x", {{std::string("k\0", 2), "v"}}).error().code, Errc::bad_value);
}

TEST(IpcRequest, SizeLimitBoundary) {
  // "cmd:x k=" is 8 bytes, plus "\n": a value of 2038 bytes fills 2047.
  EXPECT_TRUE(ipc::build_request("x", {{"k", std::string(2038, 'a')}}).ok());
  EXPECT_EQ(ipc::build_request("x", {{"k", std::string(2039, 'a')}}).error().code, Errc::too_large);
  // Encoding triples a reserved byte: 680 spaces = 2040 bytes > 2038.
  EXPECT_EQ(ipc::build_request("x", {{"k", std::string(680, ' ')}}).error().code, Errc::too_large);
  EXPECT_EQ(ipc::build_request("x", {{"k", std::string(100000, ' ')}}).error().code, Errc::too_large);
}

TEST(IpcRequest, AppParseQuirks) {
  // Either hex case; '+' not a space; keys not decoded; bad % literal.
  auto c = ipc::parse_request("cmd:move_window id=w1 x=%4a y=%4A t=a+b k%20=v p=50%\n");
  EXPECT_EQ(c.name, "move_window");
  EXPECT_EQ(c.params.at("x"), "J");
  EXPECT_EQ(c.params.at("y"), "J");
  EXPECT_EQ(c.params.at("t"), "a+b");
  EXPECT_EQ(c.params.at("k%20"), "v");
  EXPECT_EQ(c.params.at("p"), "50%");
  // Duplicate key: last wins. Tokens without '=' ignored.
  c = ipc::parse_request("cmd:x a=1 junk a=2 more\n");
  EXPECT_EQ(c.name, "x");
  EXPECT_EQ(c.params, (std::map<std::string, std::string>{{"a", "2"}}));
  // Any whitespace separates; value split at the first '='.
  c = ipc::parse_request("\t cmd:x\ta=b=c\r\n");
  EXPECT_EQ(c.params.at("a"), "b=c");
  // Two lines in one read merge into one command (the last cmd: names it).
  c = ipc::parse_request("cmd:move_window id=w1 x=1\ncmd:close_window id=w2\n");
  EXPECT_EQ(c.name, "close_window");
  EXPECT_EQ(c.params, (std::map<std::string, std::string>{{"id", "w2"}, {"x", "1"}}));
  // Names and keys are case-sensitive.
  c = ipc::parse_request("CMD:x ID=w1");
  EXPECT_EQ(c.name, "");
  EXPECT_EQ(c.params.count("id"), 0u);
  EXPECT_EQ(c.params.at("ID"), "w1");
  // No command at all.
  EXPECT_EQ(ipc::parse_request("").name, "");
  EXPECT_EQ(ipc::parse_request("hello world").name, "");
}

TEST(IpcRequest, HostileRequestBytes) {
  const std::string with_nul("cmd:get_state a=\0b c=%00\n", 24);
  auto c = ipc::parse_request(with_nul);
  EXPECT_EQ(c.name, "get_state");
  EXPECT_EQ(c.params.at("a"), std::string("\0b", 2));
  EXPECT_EQ(c.params.at("c"), std::string("\0", 1));
  c = ipc::parse_request("cmd:\xff\xfe x=\xc3\x28");
  EXPECT_EQ(c.name, "\xff\xfe");
  EXPECT_EQ(c.params.at("x"), "\xc3\x28");
  const std::string big(100 * 1024, 'a');
  c = ipc::parse_request(big);
  EXPECT_EQ(c.name, "");
  EXPECT_TRUE(c.params.empty());
}

// --- replies ----------------------------------------------------------------

TEST(IpcReply, ClassifiesEveryFormatOfTheSpec) {
  auto r = ipc::classify_reply("ok\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::ok);
  EXPECT_EQ(r.message, "");
  r = ipc::classify_reply("ok queued\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::ok);
  EXPECT_EQ(r.message, "queued");
  r = ipc::classify_reply("err unknown cmd\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::err);
  EXPECT_EQ(r.message, "unknown cmd");
  r = ipc::classify_reply("err missing text param\r\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::err);
  EXPECT_EQ(r.message, "missing text param");
  r = ipc::classify_reply("{\"success\":true}\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::success);
  EXPECT_FALSE(r.id.has_value());
  r = ipc::classify_reply("{\"success\":true,\"id\":\"w7\"}\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::success);
  EXPECT_EQ(r.id, "w7");
  r = ipc::classify_reply("{\"error\":\"Window not found\"}\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::failure);
  EXPECT_EQ(r.message, "Window not found");
  r = ipc::classify_reply("{\"error\":\"Close failed\"}\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::failure);
  EXPECT_EQ(r.message, "Close failed");
  r = ipc::classify_reply("{\"windows\":[],\"chat_log\":[]}\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::data);
  EXPECT_TRUE(r.data.is_object());
  r = ipc::classify_reply("[\"hi\",\"there\"]\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::data);
  EXPECT_EQ(r.data.size(), 2u);
  r = ipc::classify_reply("amber-fox\n");
  EXPECT_EQ(r.kind, ipc::ReplyKind::text);
  EXPECT_EQ(r.message, "amber-fox");
  r = ipc::classify_reply("\n");  // empty display name
  EXPECT_EQ(r.kind, ipc::ReplyKind::text);
  EXPECT_EQ(r.message, "");
  // Words that merely start like ok/err are text.
  EXPECT_EQ(ipc::classify_reply("okay\n").kind, ipc::ReplyKind::text);
  EXPECT_EQ(ipc::classify_reply("error\n").kind, ipc::ReplyKind::text);
}

TEST(IpcReply, FormatsAsTheAppWrites) {
  EXPECT_EQ(ipc::format_ok(), "ok\n");
  EXPECT_EQ(ipc::format_ok("queued"), "ok queued\n");
  EXPECT_EQ(ipc::format_err("unknown cmd"), "err unknown cmd\n");
  EXPECT_EQ(ipc::format_success(), "{\"success\":true}\n");
  EXPECT_EQ(ipc::format_success("w7"), "{\"success\":true,\"id\":\"w7\"}\n");
  EXPECT_EQ(ipc::format_failure("Window not found"), "{\"error\":\"Window not found\"}\n");
  // Round trip through the classifier.
  EXPECT_EQ(ipc::classify_reply(ipc::format_success("w3")).id, "w3");
  EXPECT_EQ(ipc::classify_reply(ipc::format_failure("Close failed")).message, "Close failed");
  EXPECT_EQ(ipc::classify_reply(ipc::format_err("missing path")).message, "missing path");
}

TEST(IpcReply, HostileRepliesAreValues) {
  // Broken JSON that looks like data: raw text, not a crash.
  auto r = ipc::classify_reply("{\"windows\":[{\"title\":\"a\x01\"}]");
  EXPECT_EQ(r.kind, ipc::ReplyKind::text);
  EXPECT_EQ(ipc::classify_reply(nested(100000, '[', ']')).kind, ipc::ReplyKind::text);
  EXPECT_EQ(ipc::classify_reply(std::string("{\"success\":true}\0junk", 21)).kind, ipc::ReplyKind::text);
  EXPECT_EQ(ipc::classify_reply("{\"success\":\"yes\"}").kind, ipc::ReplyKind::data);
  EXPECT_EQ(ipc::classify_reply("{\"success\":false}").kind, ipc::ReplyKind::failure);
  EXPECT_EQ(ipc::classify_reply("{\"error\":42}").kind, ipc::ReplyKind::data);
  r = ipc::classify_reply("{\"success\":true,\"id\":7}");
  EXPECT_EQ(r.kind, ipc::ReplyKind::success);
  EXPECT_FALSE(r.id.has_value());
  EXPECT_EQ(ipc::classify_reply("\xff\xfe\n").kind, ipc::ReplyKind::text);
  EXPECT_EQ(ipc::classify_reply(std::string(100 * 1024, 'x')).message.size(), 100u * 1024u);
}

RC_GTEST_PROP(IpcReply, ParsersAreTotalOnArbitraryBytes, ()) {
  const std::string s = *gen_bytes();
  (void)ipc::classify_reply(s);
  (void)ipc::parse_get_state(s);
  (void)ipc::parse_event_line(s);
  (void)ipc::parse_challenge(s);
  (void)ipc::extract_hmac(s);
  (void)ipc::classify_auth_result(s);
  (void)ipc::parse_request(s);
  RC_SUCCEED();
}

// --- get_state --------------------------------------------------------------

TEST(IpcGetState, SpecExampleParses) {
  const std::string example =
      R"({"windows":[{"id":"w3","type":"frame_player","x":2,"y":1,"w":42,"h":14,"z":0,"focused":true,"title":"","path":"/abs/file.txt"},)"
      R"({"id":"w2","type":"verse","x":12,"y":4,"w":96,"h":30,"z":1,"focused":false,"title":""},)"
      R"({"id":"w1","type":"room_chat","x":10,"y":5,"w":100,"h":28,"z":2,"focused":false,"title":"Room Chat"}],)"
      R"("chat_log":[{"seq":1,"sender":"you","text":"hello"}]})"
      "\n";
  auto s = ipc::parse_get_state(example);
  ASSERT_TRUE(s.ok()) << wibwob::protocol::to_string(s.error());
  ASSERT_EQ(s->windows.size(), 3u);
  EXPECT_EQ(s->windows[0], (ipc::AppWindow{"w3", "frame_player", 2, 1, 42, 14, 0, true, "", "/abs/file.txt"}));
  EXPECT_EQ(s->windows[1], (ipc::AppWindow{"w2", "verse", 12, 4, 96, 30, 1, false, "", std::nullopt}));
  EXPECT_EQ(s->windows[2].title, "Room Chat");
  ASSERT_EQ(s->chat_log.size(), 1u);
  EXPECT_EQ(s->chat_log[0], (ipc::ChatEntry{1, "you", "hello"}));
  // The formatter writes the example byte for byte.
  EXPECT_EQ(ipc::format_get_state(*s), example);
}

RC_GTEST_PROP(IpcGetState, FormatParseRoundTrip, ()) {
  const ipc::AppState s = *gen_app_state();
  const std::string line = ipc::format_get_state(s);
  RC_ASSERT(line.back() == '\n');
  RC_ASSERT(line.find('\n') == line.size() - 1);
  const auto back = ipc::parse_get_state(line);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == s);
}

TEST(IpcGetState, ControlCharacterInTitleIsAnError) {
  ipc::AppState s;
  s.windows.push_back({"w1", "verse", 0, 0, 10, 10, 0, true, "bad\ttitle", std::nullopt});
  const std::string line = ipc::format_get_state(s);
  EXPECT_NE(line.find("bad\ttitle"), std::string::npos);  // the app's quirk: unescaped
  auto r = ipc::parse_get_state(line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_json);
  s.windows[0].title = std::string("nul\0here", 8);
  EXPECT_FALSE(ipc::parse_get_state(ipc::format_get_state(s)).ok());
  s.windows[0].title = "new\nline";
  EXPECT_FALSE(ipc::parse_get_state(ipc::format_get_state(s)).ok());
}

TEST(IpcGetState, EscapesOnlyQuoteAndBackslash) {
  ipc::AppState s;
  s.windows.push_back({"w1", "verse", 0, 0, 1, 1, 0, false, "a\"b\\c/d", std::nullopt});
  EXPECT_NE(ipc::format_get_state(s).find(R"("title":"a\"b\\c/d")"), std::string::npos);
}

TEST(IpcGetState, HostileInputIsTypedError) {
  auto code = [](std::string_view line) {
    auto r = ipc::parse_get_state(line);
    return r.ok() ? std::optional<Errc>() : std::optional<Errc>(r.error().code);
  };
  EXPECT_EQ(code("not json"), Errc::not_json);
  EXPECT_EQ(code(""), Errc::not_json);
  EXPECT_EQ(code("[]"), Errc::wrong_type);
  EXPECT_EQ(code("{}"), Errc::missing_field);
  EXPECT_EQ(code(R"({"windows":{}})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"windows":[null]})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"windows":[{"id":"w1"}]})"), Errc::missing_field);
  EXPECT_EQ(code(R"({"windows":[{"id":1,"type":"verse","x":0,"y":0,"w":1,"h":1,"z":0}]})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"windows":[{"id":"w1","type":"verse","x":"0","y":0,"w":1,"h":1,"z":0}]})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"windows":[{"id":"w1","type":"verse","x":1.5,"y":0,"w":1,"h":1,"z":0}]})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"windows":[{"id":"w1","type":"verse","x":99999999999,"y":0,"w":1,"h":1,"z":0}]})"), Errc::bad_value);
  EXPECT_EQ(code(R"({"windows":[{"id":"w1","type":"verse","x":0,"y":0,"w":1,"h":1,"z":0,"focused":1}]})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"windows":[],"chat_log":{}})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"windows":[],"chat_log":[{"seq":"1","sender":"a","text":"b"}]})"), Errc::wrong_type);
  EXPECT_EQ(code("{\"windows\":[],\"chat_log\":[{\"seq\":1,\"sender\":\"\xff\",\"text\":\"b\"}]}"), Errc::not_json);
  EXPECT_EQ(code(std::string("{\"windows\":[]}\0", 15)), Errc::not_json);
  EXPECT_EQ(code("{\"windows\":" + nested(65, '[', ']') + "}"), Errc::too_deep);
  EXPECT_EQ(code(nested(1000000, '{', '}')), Errc::too_deep);
  // Brackets inside strings do not count towards depth.
  EXPECT_EQ(code(R"({"windows":[],"x":")" + std::string(1000, '[') + R"("})"), std::nullopt);
  // 100 KB of valid data still parses; 100 KB of garbage is an error.
  std::string big = R"({"windows":[{"id":"w1","type":"verse","x":0,"y":0,"w":1,"h":1,"z":0,"title":")" +
                    std::string(100 * 1024, 'a') + R"("}],"chat_log":[]})";
  EXPECT_EQ(code(big), std::nullopt);
  EXPECT_EQ(code(std::string(100 * 1024, '{')), Errc::too_deep);
  EXPECT_EQ(code(std::string(100 * 1024, 'x')), Errc::not_json);
}

// parse_get_state reads the app's own form in one pass and leaves anything
// else to the JSON path; where the fast reader answers, both must agree, and
// on any text parse_get_state answers as the JSON path does.
namespace {

void agrees_with_json_path(const std::string& line) {
  const auto fast = ipc::parse_get_state_app_form(line);
  const auto json = ipc::parse_get_state_json(line);
  const auto both = ipc::parse_get_state(line);
  if (fast) {
    RC_ASSERT(json.ok());
    RC_ASSERT(*fast == *json);
  }
  RC_ASSERT(both.ok() == json.ok());
  if (json.ok()) RC_ASSERT(*both == *json);
  else RC_ASSERT(both.error().code == json.error().code);
}

// The app's reply with every string cut to ASCII (which the fast reader
// takes), then up to four edits from bytes that matter to JSON.
rc::Gen<std::string> gen_edited_app_form() {
  return rc::gen::exec([] {
    ipc::AppState st = *gen_app_state();
    auto ascii = [](std::string& t) {
      for (auto& c : t)
        if (static_cast<unsigned char>(c) >= 0x80) c = 'x';
    };
    for (auto& w : st.windows) {
      ascii(w.title);
      if (w.path) ascii(*w.path);
    }
    for (auto& e : st.chat_log) {
      ascii(e.sender);
      ascii(e.text);
    }
    std::string line = ipc::format_get_state(st);
    const std::string bytes("\"\\{}[],:-+.eE0123456789 \t\n\r\0\x01\x7f\x80\xc3\xa9nulltruefalse", 46);
    for (int edits = *rc::gen::inRange(0, 5); edits > 0 && !line.empty(); --edits) {
      const auto at = *rc::gen::inRange<std::size_t>(0, line.size());
      const char b = bytes[*rc::gen::inRange<std::size_t>(0, bytes.size())];
      switch (*rc::gen::inRange(0, 4)) {
        case 0: line[at] = b; break;
        case 1: line.insert(line.begin() + static_cast<std::ptrdiff_t>(at), b); break;
        case 2: line.erase(at, *rc::gen::inRange<std::size_t>(1, 8)); break;
        default: line.resize(at); break;
      }
    }
    return line;
  });
}

}  // namespace

RC_GTEST_PROP(IpcGetState, AppFormReaderAgreesWithTheJsonPathOnEditedReplies, ()) {
  const std::string line = *gen_edited_app_form();
  RC_CLASSIFY(ipc::parse_get_state_app_form(line).has_value(), "read by the fast reader");
  agrees_with_json_path(line);
}

RC_GTEST_PROP(IpcGetState, AppFormReaderAgreesWithTheJsonPathOnFormattedStates, ()) {
  const std::string line = ipc::format_get_state(*gen_app_state());
  agrees_with_json_path(line);
}

RC_GTEST_PROP(IpcGetState, AppFormReaderAgreesWithTheJsonPathOnArbitraryBytes, ()) {
  agrees_with_json_path(*gen_bytes());
}

TEST(IpcGetState, AppFormReaderTakesTheAppsOwnForm) {
  ipc::AppState s;
  s.windows.push_back({"w1", "verse", -2147483647 - 1, 2147483647, 0, -7, 3, true, "a\"b\\c/d {}[],:", "/p \"q\""});
  s.windows.push_back({"w22", "text_view", 10, 0, 1, 1, 0, false, "", std::nullopt});
  s.chat_log.push_back({9007199254740993, "me", "hi \\ there"});
  const auto line = ipc::format_get_state(s);
  ASSERT_EQ(ipc::parse_get_state_app_form(line), s);
  ASSERT_EQ(ipc::parse_get_state_app_form(line.substr(0, line.size() - 1) + "\r\n"), s);
  EXPECT_EQ(ipc::parse_get_state_app_form("{\"windows\":[],\"chat_log\":[]}"), ipc::AppState{});
}

TEST(IpcGetState, AppFormReaderLeavesEverythingElseToTheJsonPath) {
  const std::string head = R"({"windows":[{"id":"w1","type":"verse","x":)";
  const std::string tail = R"(,"y":0,"w":1,"h":1,"z":0,"focused":false,"title":"t"}],"chat_log":[]})";
  ASSERT_TRUE(ipc::parse_get_state_app_form(head + "5" + tail).has_value());
  // Valid JSON, and the same state, but not the app's exact form.
  for (const char* x : {"05", "-0", "5.0", "5e0", " 5", "2147483648", "-2147483649", "99999999999999999999"}) {
    EXPECT_FALSE(ipc::parse_get_state_app_form(head + x + tail).has_value()) << x;
    agrees_with_json_path(head + x + tail);
  }
  for (const std::string& line : {
           std::string(R"({"windows":[],"chat_log":[]} )"),
           std::string(R"({ "windows":[],"chat_log":[]})"),
           std::string(R"({"chat_log":[],"windows":[]})"),
           std::string(R"({"windows":[]})"),
           std::string(R"({"windows":[],"chat_log":[],"extra":1})"),
           std::string(R"({"windows":[{"id":"w1","type":"verse","x":0,"y":0,"w":1,"h":1,"z":0,"focused":false,"title":"t","path":null}],"chat_log":[]})"),
           std::string(R"({"windows":[{"id":"w1","type":"verse","x":0,"y":0,"w":1,"h":1,"z":0,"title":"t"}],"chat_log":[]})"),
           std::string(R"({"windows":[{"id":"w1","type":"verse","x":0,"y":0,"w":1,"h":1,"z":0,"focused":false,"title":"a\nb"}],"chat_log":[]})"),
           std::string(R"({"windows":[{"id":"w1","type":"verse","x":0,"y":0,"w":1,"h":1,"z":0,"focused":false,"title":"\u0041"}],"chat_log":[]})"),
           std::string("{\"windows\":[{\"id\":\"w1\",\"type\":\"verse\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"z\":0,\"focused\":false,\"title\":\"\xc3\xa9\"}],\"chat_log\":[]}"),
           std::string("{\"windows\":[{\"id\":\"w1\",\"type\":\"verse\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"z\":0,\"focused\":false,\"title\":\"a\tb\"}],\"chat_log\":[]}"),
           std::string(R"({"windows":[],"chat_log":[]})" "\n\n"),
       }) {
    EXPECT_FALSE(ipc::parse_get_state_app_form(line).has_value()) << line;
    agrees_with_json_path(line);
  }
  // More windows than max_windows: the JSON path's too_large, not a fast read.
  ipc::AppState many;
  many.windows.assign(4097, ipc::AppWindow{"w1", "verse", 0, 0, 1, 1, 0, false, "", std::nullopt});
  const auto line = ipc::format_get_state(many);
  EXPECT_FALSE(ipc::parse_get_state_app_form(line).has_value());
  auto r = ipc::parse_get_state(line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::too_large);
  many.windows.resize(4096);
  EXPECT_TRUE(ipc::parse_get_state_app_form(ipc::format_get_state(many)).has_value());
}

// --- events -----------------------------------------------------------------

TEST(IpcEvents, ParsesTheSpecLines) {
  auto s = ipc::parse_event_line("{\"type\":\"subscribed\"}\n");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(std::holds_alternative<ipc::Subscribed>(*s));
  auto e = ipc::parse_event_line(R"({"type":"event","seq":1,"event":"state_changed","payload":{"id":"w5"}})" "\n");
  ASSERT_TRUE(e.ok());
  const auto& ev = std::get<ipc::Event>(*e);
  EXPECT_EQ(ev.seq, 1);
  EXPECT_EQ(ev.event, "state_changed");
  EXPECT_EQ(ev.window_id(), "w5");
  e = ipc::parse_event_line(R"({"type":"event","seq":2,"event":"window_closed","payload":{"id":"w5"}})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(std::get<ipc::Event>(*e).event, "window_closed");
  EXPECT_EQ(std::get<ipc::Event>(*e).seq, 2);
}

TEST(IpcEvents, FormatRoundTrip) {
  EXPECT_EQ(ipc::format_subscribed(), "{\"type\":\"subscribed\"}\n");
  ipc::Event ev{7, "state_changed", {{"id", "w9"}}};
  const std::string line = ipc::format_event(ev);
  EXPECT_EQ(line, R"({"type":"event","seq":7,"event":"state_changed","payload":{"id":"w9"}})" "\n");
  auto back = ipc::parse_event_line(line);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<ipc::Event>(*back), ev);
}

TEST(IpcEvents, HostileEventLines) {
  auto code = [](std::string_view line) {
    auto r = ipc::parse_event_line(line);
    return r.ok() ? std::optional<Errc>() : std::optional<Errc>(r.error().code);
  };
  EXPECT_EQ(code("garbage"), Errc::not_json);
  EXPECT_EQ(code("[1]"), Errc::wrong_type);
  EXPECT_EQ(code("{}"), Errc::missing_field);
  EXPECT_EQ(code(R"({"type":5})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"type":"mystery"})"), Errc::unsupported);
  EXPECT_EQ(code(R"({"type":"event","event":"state_changed"})"), Errc::missing_field);
  EXPECT_EQ(code(R"({"type":"event","seq":"1","event":"x"})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"type":"event","seq":1})"), Errc::missing_field);
  EXPECT_EQ(code(R"({"type":"event","seq":1,"event":"x","payload":)" + nested(200, '[', ']') + "}"), Errc::too_deep);
  EXPECT_EQ(code("{\"type\":\"ev\xffnt\"}"), Errc::not_json);
  // An event without payload or with an odd payload parses; window_id() is empty.
  auto e = ipc::parse_event_line(R"({"type":"event","seq":3,"event":"x","payload":{"id":42}})");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(std::get<ipc::Event>(*e).window_id().has_value());
  e = ipc::parse_event_line(R"({"type":"event","seq":3,"event":"x"})");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(std::get<ipc::Event>(*e).window_id().has_value());
}

// --- authentication ---------------------------------------------------------

// Vectors computed with:
//   printf '%s' 0123456789abcdef0123456789abcdef | openssl dgst -sha256 -hmac 'correct horse battery staple'
//   printf '%s' 'The quick brown fox jumps over the lazy dog' | openssl dgst -sha256 -hmac key
TEST(IpcAuth, HmacKnownVectors) {
  EXPECT_EQ(ipc::hmac_sha256_hex("correct horse battery staple", "0123456789abcdef0123456789abcdef"),
            "5e8b9220bb96ffb857c9efcdd497743681deddd9b34c98dd47d88a5f77772ed1");
  EXPECT_EQ(ipc::hmac_sha256_hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  EXPECT_EQ(ipc::hmac_sha256_hex("", "").size(), 64u);
  // RFC 4231, test cases 2, 3, 6 and 7 (keys longer than a block are hashed first).
  EXPECT_EQ(ipc::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(ipc::hmac_sha256_hex(std::string(20, '\xaa'), std::string(50, '\xdd')),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  EXPECT_EQ(ipc::hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(ipc::hmac_sha256_hex(std::string(131, '\xaa'),
                                 "This is a test using a larger than block-size key and a larger than block-size data. "
                                 "The key needs to be hashed before being used by the HMAC algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(IpcAuth, ChallengeAnswerVerify) {
  const std::string nonce = "0123456789abcdef0123456789abcdef";
  const std::string challenge = ipc::format_challenge(nonce);
  EXPECT_EQ(challenge, "{\"type\":\"challenge\",\"nonce\":\"" + nonce + "\"}\n");
  auto parsed = ipc::parse_challenge(challenge);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, nonce);
  auto answer = ipc::answer_challenge(challenge, "correct horse battery staple");
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(*answer, "{\"type\":\"auth\",\"hmac\":\"5e8b9220bb96ffb857c9efcdd497743681deddd9b34c98dd47d88a5f77772ed1\"}\n");
  EXPECT_TRUE(ipc::verify_auth(*answer, "correct horse battery staple", nonce));
  EXPECT_FALSE(ipc::verify_auth(*answer, "wrong secret", nonce));
  EXPECT_FALSE(ipc::verify_auth(*answer, "correct horse battery staple", "ffffffffffffffffffffffffffffffff"));
  EXPECT_EQ(ipc::format_auth_ok(), "{\"type\":\"auth_ok\"}\n");
  EXPECT_EQ(ipc::format_auth_failed(), "{\"error\":\"auth_failed\"}\n");
  EXPECT_EQ(ipc::classify_auth_result(ipc::format_auth_ok()), ipc::AuthResult::ok);
  EXPECT_EQ(ipc::classify_auth_result(ipc::format_auth_failed()), ipc::AuthResult::failed);
  EXPECT_EQ(ipc::classify_auth_result("ok\n"), ipc::AuthResult::unexpected);
  EXPECT_EQ(ipc::classify_auth_result("{\"type\":\"challenge\"}"), ipc::AuthResult::unexpected);
}

TEST(IpcAuth, ExtractHmacFollowsTheAppsRule) {
  EXPECT_EQ(ipc::extract_hmac(R"({"type":"auth","hmac":"abc"})"), "abc");
  // The app does not parse JSON: field order and surrounding text do not matter.
  EXPECT_EQ(ipc::extract_hmac(R"(junk "hmac":"xyz" more)"), "xyz");
  EXPECT_EQ(ipc::extract_hmac(R"({"hmac":"","type":"auth"})"), "");
  // After `"hmac":` the app takes what lies between the next two quotes:
  // Python's json.dumps default (a space after the colon) works, a space
  // before the colon does not.
  EXPECT_EQ(ipc::extract_hmac(R"({"type": "auth", "hmac": "abc"})"), "abc");
  EXPECT_EQ(ipc::extract_hmac("{\"hmac\":\t\n \"abc\"}"), "abc");
  EXPECT_EQ(ipc::extract_hmac(R"({"type":"auth","hmac" : "abc"})"), std::nullopt);
  // Not JSON: a value that is not a string yields the next quoted text.
  EXPECT_EQ(ipc::extract_hmac(R"({"hmac":123,"type":"auth"})"), "type");
  EXPECT_EQ(ipc::extract_hmac(R"({"type":"auth","hmac":"abc)"), std::nullopt);  // unterminated
  EXPECT_EQ(ipc::extract_hmac(R"({"type":"auth","hmac":)"), std::nullopt);
  EXPECT_EQ(ipc::extract_hmac(R"({"type":"auth","hmac": "abc)"), std::nullopt);
  EXPECT_EQ(ipc::extract_hmac(R"({"type":"auth"})"), std::nullopt);
  EXPECT_EQ(ipc::extract_hmac(""), std::nullopt);
  // First occurrence wins; an escaped quote ends the value (no JSON unescaping).
  EXPECT_EQ(ipc::extract_hmac(R"("hmac":"a","hmac":"b")"), "a");
  EXPECT_EQ(ipc::extract_hmac(R"("hmac":"a\"b")"), "a\\");
  // Upper-case hex is not the lowercase digest the app compares against.
  const std::string nonce = "0123456789abcdef0123456789abcdef";
  std::string upper = ipc::hmac_sha256_hex("s", nonce);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(ipc::verify_auth(ipc::format_auth(upper), "s", nonce));
  EXPECT_FALSE(ipc::verify_auth("garbage", "s", nonce));
  EXPECT_FALSE(ipc::verify_auth(std::string(100 * 1024, '"'), "s", nonce));
}

TEST(IpcAuth, ParseChallengeRejectsNonChallenges) {
  auto code = [](std::string_view line) {
    auto r = ipc::parse_challenge(line);
    return r.ok() ? std::optional<Errc>() : std::optional<Errc>(r.error().code);
  };
  // A server without auth replies to the command instead: a configuration error.
  EXPECT_EQ(code("err unknown cmd\n"), Errc::not_json);
  EXPECT_EQ(code("{\"windows\":[],\"chat_log\":[]}\n"), Errc::unsupported);
  EXPECT_EQ(code("{\"error\":\"auth_failed\"}\n"), Errc::auth_failed);
  EXPECT_EQ(code("[]"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"type":"challenge"})"), Errc::missing_field);
  EXPECT_EQ(code(R"({"type":"challenge","nonce":7})"), Errc::wrong_type);
  EXPECT_EQ(code(R"({"type":"challenge","nonce":"abc"})"), Errc::bad_value);
  EXPECT_EQ(code(R"({"type":"challenge","nonce":"0123456789ABCDEF0123456789abcdef"})"), Errc::bad_value);
  EXPECT_EQ(code(nested(5000, '{', '}')), Errc::too_deep);
  EXPECT_FALSE(ipc::answer_challenge("nonsense", "s").ok());
}

RC_GTEST_PROP(IpcAuth, AnswerVerifiesForAnySecretAndNonce, ()) {
  const std::string secret = *gen_bytes();
  const std::string nonce = *rc::gen::container<std::string>(32, rc::gen::elementOf(std::string("0123456789abcdef")));
  const auto answer = ipc::answer_challenge(ipc::format_challenge(nonce), secret);
  RC_ASSERT(answer.ok());
  RC_ASSERT(ipc::verify_auth(*answer, secret, nonce));
  RC_ASSERT(ipc::extract_hmac(*answer) == ipc::hmac_sha256_hex(secret, nonce));
}

// --- the shared JSON parse ---------------------------------------------------

TEST(IpcJson, ParseJsonIsGuarded) {
  auto ok = ipc::parse_json(R"([{"id":"amber-fox"}])");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0]["id"], "amber-fox");
  EXPECT_EQ(ipc::parse_json("{").error().code, Errc::not_json);
  EXPECT_EQ(ipc::parse_json("\"\xff\"").error().code, Errc::not_json);
  EXPECT_EQ(ipc::parse_json(std::string("1\0", 2)).error().code, Errc::not_json);
  EXPECT_EQ(ipc::parse_json(nested(ipc::max_json_depth + 1, '[', ']')).error().code, Errc::too_deep);
  EXPECT_TRUE(ipc::parse_json(nested(ipc::max_json_depth, '[', ']')).ok());
}

// --- socket paths (protocol/socket_paths.hpp) ------------------------------------

TEST(SocketPaths, TheAppsDefaultAndAnInstanceInADirectory) {
  using wibwob::protocol::default_socket_path;
  using wibwob::protocol::instance_socket_path;
  EXPECT_EQ(default_socket_path(std::nullopt), "/tmp/wwdos.sock");
  EXPECT_EQ(default_socket_path(std::string()), "/tmp/wwdos.sock");  // WIBWOB_INSTANCE set but empty
  EXPECT_EQ(default_socket_path(std::string("7")), "/tmp/wibwob_7.sock");
  EXPECT_EQ(instance_socket_path("/run/test", "2"), "/run/test/wibwob_2.sock");
  EXPECT_EQ(instance_socket_path("/tmp//", "5"), "/tmp/wibwob_5.sock");
  EXPECT_EQ(instance_socket_path("", "5"), "/tmp/wibwob_5.sock");
  EXPECT_EQ(instance_socket_path("/", "5"), "/wibwob_5.sock");
}

TEST(SocketPaths, TheBridgeStatusSocketSitsBesideTheAppsSocket) {
  using wibwob::protocol::bridge_status_path;
  EXPECT_EQ(bridge_status_path("/tmp/wibwob_2.sock"), "/tmp/wibwob_2.bridge.sock");
  EXPECT_EQ(bridge_status_path("/run/a.sock.d/wibwob_10.sock"), "/run/a.sock.d/wibwob_10.bridge.sock");
  EXPECT_EQ(bridge_status_path("/tmp/odd"), "/tmp/odd.bridge.sock");
  EXPECT_EQ(bridge_status_path(".sock"), ".sock.bridge.sock");  // no name left to keep
  EXPECT_EQ(wibwob::protocol::bridge_handover_path("/tmp/wibwob_2.sock"), "/tmp/wibwob_2.bridge.handover");
  EXPECT_EQ(wibwob::protocol::bridge_handover_path("/tmp/odd"), "/tmp/odd.bridge.handover");
}

// --- the room server's URL (protocol/server_url.hpp) -----------------------------

TEST(ServerUrl, SchemesPortsAndPaths) {
  using wibwob::protocol::parse_server_url;
  auto u = parse_server_url("wss://rooms.example:8443/base//");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "rooms.example");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->base_path, "/base");
  EXPECT_EQ(parse_server_url("HTTP://h")->port, "80");
  EXPECT_EQ(parse_server_url("https://h")->port, "443");
  for (const char* bad : {"", "h:1", "ftp://h", "http://", "http://h:0", "http://h:65536", "http://h:99999999999",
                          "http://h:-1", "http://h:12ab", "http://h\x01", "not a url"}) {
    auto r = parse_server_url(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Errc::bad_value) << bad;
  }
}

RC_GTEST_PROP(ServerUrl, AnyBytesGiveAUsableUrlOrAnError, ()) {
  const std::string text = *gen_bytes();
  auto r = wibwob::protocol::parse_server_url(text);
  if (!r.ok()) {
    RC_ASSERT(!r.error().message.empty());
    return;
  }
  RC_ASSERT(!r->host.empty());
  RC_ASSERT(std::stoi(r->port) >= 1 && std::stoi(r->port) <= 65535);
  RC_ASSERT(r->base_path.empty() || (r->base_path[0] == '/' && r->base_path.back() != '/'));
}

TEST(AppWindowId, IsTheAppsFormOnly) {
  for (const char* id : {"w1", "w27", "w0", "w12345678901234567890"}) EXPECT_TRUE(ipc::is_app_window_id(id)) << id;
  for (const char* id : {"", "w", "W1", "x1", "w1a", "w-1", "w 1", "b1.0:w1", "w123456789012345678901"})
    EXPECT_FALSE(ipc::is_app_window_id(id)) << id;
}
