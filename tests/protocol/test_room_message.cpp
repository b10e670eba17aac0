// Room message codec (protocol/room_message.hpp): round-trip properties for
// every message type, the spec's examples (spec/partykit-room.md), and
// hostile input.
#include "protocol/room_message.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/test_support.hpp"

namespace wibwob::protocol::room {
namespace {

using test::gen_delta;
using test::gen_window_with_extra;

// --- generators ---------------------------------------------------------------

// Valid UTF-8 from arbitrary code points (surrogates excluded): encode
// refuses other strings, which a separate test covers.
void append_utf8(std::string& s, std::uint32_t cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A vector of 0..max_n elements. rapidcheck's default container size grows
// to 100, which nested JSON turns into millions of nodes.
template <class T>
rc::Gen<std::vector<T>> gen_small_vector(rc::Gen<T> g, int max_n = 6) {
  return rc::gen::mapcat(rc::gen::inRange(0, max_n + 1), [g](int n) {
    return rc::gen::container<std::vector<T>>(static_cast<std::size_t>(n), g);
  });
}

rc::Gen<std::uint32_t> gen_code_point() {
  return rc::gen::weightedOneOf<std::uint32_t>({
      {6, rc::gen::inRange<std::uint32_t>(0x00, 0x80)},   // ASCII incl. controls, '"', '\'
      {2, rc::gen::inRange<std::uint32_t>(0x80, 0xD800)},
      {1, rc::gen::inRange<std::uint32_t>(0xE000, 0x110000)},
  });
}

rc::Gen<std::string> gen_utf8() {
  return rc::gen::map(gen_small_vector(gen_code_point(), 24),
                      [](const std::vector<std::uint32_t>& cps) {
                        std::string s;
                        for (auto cp : cps) append_utf8(s, cp);
                        return s;
                      });
}

rc::Gen<std::optional<std::string>> gen_opt_utf8() {
  return rc::gen::map(rc::gen::maybe(gen_utf8()), [](rc::Maybe<std::string> m) {
    return m ? std::optional<std::string>(*m) : std::nullopt;
  });
}

rc::Gen<std::optional<std::int64_t>> gen_opt_int() {
  return rc::gen::map(rc::gen::maybe(rc::gen::arbitrary<std::int64_t>()), [](rc::Maybe<std::int64_t> m) {
    return m ? std::optional<std::int64_t>(*m) : std::nullopt;
  });
}

// JSON of any shape that survives a text round trip: UTF-8 strings and finite
// doubles (NaN/inf serialise as null, as in JavaScript).
rc::Gen<Json> gen_wire_json(int depth) {
  auto scalar = rc::gen::oneOf(
      rc::gen::just(Json(nullptr)),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Json(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return Json(i); }),
      rc::gen::map(rc::gen::arbitrary<std::uint64_t>(), [](std::uint64_t u) { return Json(u); }),
      rc::gen::map(rc::gen::suchThat(rc::gen::arbitrary<double>(), [](double d) { return std::isfinite(d); }),
                   [](double d) { return Json(d); }),
      rc::gen::map(gen_utf8(), [](std::string s) { return Json(std::move(s)); }));
  if (depth <= 0) return scalar;
  auto child = rc::gen::lazy([depth] { return gen_wire_json(depth - 1); });
  auto array = rc::gen::map(gen_small_vector(child), [](std::vector<Json> v) {
    Json a = Json::array();
    for (auto& e : v) a.push_back(std::move(e));
    return a;
  });
  auto object = rc::gen::map(gen_small_vector(rc::gen::pair(gen_utf8(), child)),
                             [](std::vector<std::pair<std::string, Json>> kv) {
                               Json o = Json::object();
                               for (auto& [k, v] : kv) o[k] = std::move(v);
                               return o;
                             });
  return rc::gen::weightedOneOf<Json>({{3, scalar}, {1, array}, {2, object}});
}

// Window objects as the server stores them: generated windows whose extra
// strings are made UTF-8 (the shared generator draws arbitrary bytes).
rc::Gen<Json> gen_stored_window() {
  return rc::gen::apply(
      [](Window w, rc::Maybe<std::string> text) {
        w.extra = Json::object();
        if (text) w.extra["text"] = *text;
        return protocol::to_json(w);
      },
      test::gen_window(), rc::gen::maybe(gen_utf8()));
}

rc::Gen<RoomState> gen_room_state() {
  return rc::gen::apply(
      [](std::vector<Json> wins, std::int64_t version) {
        RoomState s;
        for (auto& w : wins) s.windows[w["id"].get<std::string>()] = w;
        s.version = version;
        return s;
      },
      gen_small_vector(gen_stored_window(), 12),
      rc::gen::inRange<std::int64_t>(0, std::int64_t{1} << 53));
}

rc::Gen<StateSync> gen_state_sync() {
  return rc::gen::apply([](RoomState s, std::string r) { return StateSync{std::move(s), std::move(r)}; },
                        gen_room_state(), gen_utf8());
}

rc::Gen<Presence> gen_presence() {
  return rc::gen::apply(
      [](std::string event, std::vector<std::string> conns, std::optional<std::string> self,
         std::optional<std::string> id, std::int64_t count) {
        return Presence{std::move(event), std::move(conns), std::move(self), std::move(id), count};
      },
      rc::gen::weightedOneOf<std::string>({{3, rc::gen::elementOf(std::vector<std::string>{"sync", "join", "leave"})},
                                           {1, gen_utf8()}}),
      gen_small_vector(gen_utf8(), 10), gen_opt_utf8(), gen_opt_utf8(),
      rc::gen::arbitrary<std::int64_t>());
}

rc::Gen<StateDelta> gen_state_delta() {
  // Mostly well-formed deltas (with UTF-8 extras), sometimes any JSON at all:
  // the codec carries `delta` raw.
  auto well_formed = rc::gen::map(gen_delta(), [](Delta d) {
    for (auto* list : {&d.add, &d.update})
      for (auto& w : *list) w.extra.erase("text");
    return protocol::to_json(d);
  });
  auto raw = rc::gen::weightedOneOf<Json>({{3, well_formed}, {1, gen_wire_json(3)}});
  return rc::gen::apply(
      [](rc::Maybe<Json> delta, std::optional<std::int64_t> version, std::optional<std::string> from) {
        StateDelta m;
        if (delta) m.delta = *delta;
        m.version = version;
        m.from = std::move(from);
        return m;
      },
      rc::gen::maybe(raw), gen_opt_int(), gen_opt_utf8());
}

rc::Gen<ChatMsg> gen_chat() {
  return rc::gen::apply(
      [](std::string s, std::string t, std::optional<std::int64_t> ts, std::optional<std::string> from) {
        return ChatMsg{std::move(s), std::move(t), ts, std::move(from)};
      },
      gen_utf8(), gen_utf8(), gen_opt_int(), gen_opt_utf8());
}

rc::Gen<CursorPos> gen_cursor() {
  return rc::gen::apply(
      [](std::string s, std::int64_t x, std::int64_t y, std::optional<std::string> from) {
        return CursorPos{std::move(s), x, y, std::move(from)};
      },
      gen_utf8(), rc::gen::arbitrary<std::int64_t>(), rc::gen::arbitrary<std::int64_t>(), gen_opt_utf8());
}

rc::Gen<Rename> gen_rename() {
  return rc::gen::apply(
      [](std::string c, std::string n, std::optional<std::string> from) {
        return Rename{std::move(c), std::move(n), std::move(from)};
      },
      gen_utf8(), gen_utf8(), gen_opt_utf8());
}

rc::Gen<Pong> gen_pong() {
  return rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t ts) { return Pong{ts}; });
}

bool is_known_type(const std::string& t) {
  for (const char* k : {"state_sync", "presence", "state_delta", "chat_msg", "cursor_pos", "rename", "ping", "pong"})
    if (t == k) return true;
  return false;
}

// Unknown as decode produces it: raw is the whole object, type inside it.
rc::Gen<Unknown> gen_unknown() {
  return rc::gen::apply(
      [](std::string type, std::vector<std::pair<std::string, Json>> fields) {
        Json raw = Json::object();
        for (auto& [k, v] : fields) raw[k] = std::move(v);
        raw["type"] = type;
        return Unknown{std::move(type), std::move(raw)};
      },
      rc::gen::suchThat(gen_utf8(), [](const std::string& t) { return !is_known_type(t); }),
      gen_small_vector(rc::gen::pair(gen_utf8(), gen_wire_json(2))));
}

rc::Gen<Message> gen_message() {
  return rc::gen::oneOf(rc::gen::cast<Message>(gen_state_sync()), rc::gen::cast<Message>(gen_presence()),
                        rc::gen::cast<Message>(gen_state_delta()), rc::gen::cast<Message>(gen_chat()),
                        rc::gen::cast<Message>(gen_cursor()), rc::gen::cast<Message>(gen_rename()),
                        rc::gen::just(Message{Ping{}}), rc::gen::cast<Message>(gen_pong()),
                        rc::gen::cast<Message>(gen_unknown()));
}

// Round trip through text, asserting each step.
template <class T>
void check_round_trip(const T& m) {
  const Message msg{m};
  auto text = encode(msg);
  RC_ASSERT(text.ok());
  auto back = decode(*text);
  if (!back) RC_FAIL("decode failed: " + to_string(back.error()) + " on " + std::string(*text));
  RC_ASSERT(std::holds_alternative<T>(*back));
  RC_ASSERT(std::get<T>(*back) == m);
  // The JSON path agrees with the text path.
  auto via_json = decode(to_json(msg));
  RC_ASSERT(via_json.ok());
  RC_ASSERT(*via_json == msg);
}

// --- round-trip properties, one per message type ------------------------------

RC_GTEST_PROP(RoomMessageRoundTrip, StateSync, ()) { check_round_trip(*gen_state_sync()); }
RC_GTEST_PROP(RoomMessageRoundTrip, Presence, ()) { check_round_trip(*gen_presence()); }
RC_GTEST_PROP(RoomMessageRoundTrip, StateDelta, ()) { check_round_trip(*gen_state_delta()); }
RC_GTEST_PROP(RoomMessageRoundTrip, ChatMsg, ()) { check_round_trip(*gen_chat()); }
RC_GTEST_PROP(RoomMessageRoundTrip, CursorPos, ()) { check_round_trip(*gen_cursor()); }
RC_GTEST_PROP(RoomMessageRoundTrip, Rename, ()) { check_round_trip(*gen_rename()); }
// Ping has no fields: one example is the whole space. What can vary is what
// a peer adds around it, which the decoder must ignore.
RC_GTEST_PROP(RoomMessageRoundTrip, PingWithAnyExtraFields, (const std::string& key, int value)) {
  RC_PRE(key != "type");
  check_round_trip(Ping{});
  nlohmann::json j = {{"type", "ping"}, {key, value}};
  auto back = decode(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  RC_ASSERT(back.ok());
  RC_ASSERT(std::holds_alternative<Ping>(*back));
}
RC_GTEST_PROP(RoomMessageRoundTrip, Pong, ()) { check_round_trip(*gen_pong()); }
RC_GTEST_PROP(RoomMessageRoundTrip, Unknown, ()) { check_round_trip(*gen_unknown()); }

RC_GTEST_PROP(RoomMessageRoundTrip, TypeNameMatchesWireType, ()) {
  const auto m = *gen_message();
  RC_ASSERT(to_json(m)["type"].get<std::string>() == std::string(type_name(m)));
}

// Every strict prefix of a valid frame is refused (a JSON object needs its
// closing brace) and never crashes the decoder.
RC_GTEST_PROP(RoomMessageHostile, TruncatedFramesAreNotJson, ()) {
  const auto m = *gen_message();
  auto text = encode(m);
  RC_ASSERT(text.ok());
  const auto cut = *rc::gen::inRange<std::size_t>(0, text->size());
  auto r = decode(std::string_view(*text).substr(0, cut));
  RC_ASSERT(!r.ok());
  RC_ASSERT(r.error().code == Errc::not_json);
}

// Arbitrary JSON values and arbitrary bytes: decode returns, never throws.
RC_GTEST_PROP(RoomMessageHostile, AnyJsonDecodesOrErrs, ()) {
  auto j = *test::gen_json(4);
  if (*rc::gen::arbitrary<bool>()) {
    if (!j.is_object()) j = Json::object();
    j["type"] = *rc::gen::elementOf(std::vector<std::string>{
        "state_sync", "presence", "state_delta", "chat_msg", "cursor_pos", "rename", "ping", "pong", "other"});
  }
  auto r = decode(j);
  if (!j.is_object()) {
    RC_ASSERT(!r.ok());
    RC_ASSERT(r.error().code == Errc::wrong_type);
  }
  if (r.ok()) {
    RC_ASSERT(to_json(*r)["type"] == j["type"]);
  }
}

RC_GTEST_PROP(RoomMessageHostile, AnyBytesDecodeOrErr, ()) {
  const auto bytes = *rc::gen::string<std::string>();
  auto r = decode(bytes);
  // Arbitrary bytes are almost never a JSON object with a string type; when
  // they are, the message re-encodes.
  if (r.ok()) {
    RC_ASSERT(encode(*r).ok());
  }
}

// --- the spec's examples ------------------------------------------------------

Json parse(std::string_view s) { return Json::parse(s); }

// Decodes, checks the alternative, and checks that re-encoding gives the same
// JSON value (key order aside).
template <class T>
T decode_example(std::string_view text) {
  auto r = decode(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : to_string(r.error()));
  if (!r.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*r)) << text;
  if (!std::holds_alternative<T>(*r)) return T{};
  auto again = encode(*r);
  EXPECT_TRUE(again.ok());
  if (again.ok()) {
    EXPECT_EQ(parse(*again), parse(text));
  }
  return std::get<T>(*r);
}

TEST(RoomMessageSpec, StateSync) {
  auto m = decode_example<StateSync>(
      R"({"type":"state_sync","state":{"windows":{"r1":{"id":"r1","type":"text_editor","x":1,"y":2,"w":30,"h":10,"path":"/tmp/a.txt","rev":3}},"version":7},"room":"lobby"})");
  EXPECT_EQ(m.room, "lobby");
  EXPECT_EQ(m.state.version, 7);
  ASSERT_EQ(m.state.windows.size(), 1u);
  EXPECT_EQ(m.state.windows.at("r1")["rev"], 3);  // extra fields survive
  EXPECT_EQ(m.state.windows.at("r1")["path"], "/tmp/a.txt");
}

TEST(RoomMessageSpec, StateSyncEmptyRoom) {
  auto m = decode_example<StateSync>(R"({"type":"state_sync","state":{"windows":{},"version":0},"room":"r"})");
  EXPECT_TRUE(m.state.windows.empty());
  EXPECT_EQ(m.state.version, 0);
}

TEST(RoomMessageSpec, PresenceSync) {
  auto m = decode_example<Presence>(
      R"({"type":"presence","event":"sync","connections":["c1","c2"],"count":2,"self":"c2"})");
  EXPECT_EQ(m.event, "sync");
  EXPECT_EQ(m.connections, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(m.count, 2);
  EXPECT_EQ(m.self, "c2");
  EXPECT_FALSE(m.id.has_value());
}

TEST(RoomMessageSpec, PresenceJoin) {
  auto m = decode_example<Presence>(R"({"type":"presence","event":"join","id":"c2","count":2})");
  EXPECT_EQ(m.event, "join");
  EXPECT_EQ(m.id, "c2");
  EXPECT_EQ(m.count, 2);
  EXPECT_TRUE(m.connections.empty());
}

TEST(RoomMessageSpec, PresenceLeaveWithTheServersLowCount) {
  // Observed: c2 leaves a room of two, one connection remains, and the
  // server reports count 0 (one too low).
  auto m = decode_example<Presence>(R"({"type":"presence","event":"leave","id":"c2","count":0})");
  EXPECT_EQ(m.event, "leave");
  EXPECT_EQ(m.id, "c2");
  EXPECT_EQ(m.count, 0);
}

TEST(RoomMessageSpec, PresenceLeaveNegativeCountIsAccepted) {
  // The server's off-by-one can go below zero; the codec does not judge.
  auto m = decode_example<Presence>(R"({"type":"presence","event":"leave","id":"c2","count":-1})");
  EXPECT_EQ(m.count, -1);
}

TEST(RoomMessageSpec, StateDeltaFromClient) {
  auto m = decode_example<StateDelta>(
      R"({"type":"state_delta","delta":{"add":[{"id":"a","type":"text_editor","x":0,"y":0,"w":10,"h":5}],"remove":["b"],"update":[]}})");
  ASSERT_TRUE(m.delta.has_value());
  EXPECT_FALSE(m.version.has_value());
  EXPECT_FALSE(m.from.has_value());
  auto parsed = parse_delta(*m.delta);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->delta.add.size(), 1u);
  EXPECT_EQ(parsed->delta.remove, (std::vector<std::string>{"b"}));
}

TEST(RoomMessageSpec, StateDeltaAsBroadcast) {
  auto m = decode_example<StateDelta>(
      R"({"type":"state_delta","delta":{"update":[{"id":"a","x":4}]},"version":8,"from":"c1"})");
  EXPECT_EQ(m.version, 8);
  EXPECT_EQ(m.from, "c1");
  EXPECT_EQ((*m.delta)["update"][0]["x"], 4);  // relayed as sent
}

TEST(RoomMessageSpec, StateDeltaWithoutDeltaIsNotAnError) {
  // The server throws on it; a receiver must see it as "no delta", not junk.
  auto m = decode_example<StateDelta>(R"({"type":"state_delta"})");
  EXPECT_FALSE(m.delta.has_value());
  auto n = decode_example<StateDelta>(R"({"type":"state_delta","delta":null})");
  ASSERT_TRUE(n.delta.has_value());
  EXPECT_TRUE(n.delta->is_null());
}

TEST(RoomMessageSpec, ChatMsg) {
  auto m = decode_example<ChatMsg>(R"({"type":"chat_msg","sender":"ann","text":"hi \"there\"","ts":1700000000123,"from":"c1"})");
  EXPECT_EQ(m.sender, "ann");
  EXPECT_EQ(m.text, "hi \"there\"");
  EXPECT_EQ(m.ts, 1700000000123);
  EXPECT_EQ(m.from, "c1");
  auto c = decode_example<ChatMsg>(R"({"type":"chat_msg","sender":"ann","text":"no ts"})");
  EXPECT_FALSE(c.ts.has_value());
}

TEST(RoomMessageSpec, CursorPos) {
  auto m = decode_example<CursorPos>(R"({"type":"cursor_pos","sender":"ann","x":12,"y":-3,"from":"c9"})");
  EXPECT_EQ(m.x, 12);
  EXPECT_EQ(m.y, -3);
  EXPECT_EQ(m.from, "c9");
}

TEST(RoomMessageSpec, Rename) {
  auto m = decode_example<Rename>(R"({"type":"rename","conn_id":"c1","name":"Ann","from":"c1"})");
  EXPECT_EQ(m.conn_id, "c1");
  EXPECT_EQ(m.name, "Ann");
}

TEST(RoomMessageSpec, PingPong) {
  decode_example<Ping>(R"({"type":"ping"})");
  auto p = decode_example<Pong>(R"({"type":"pong","ts":1700000000456})");
  EXPECT_EQ(p.ts, 1700000000456);
  EXPECT_EQ(*encode(Ping{}), R"({"type":"ping"})");
}

TEST(RoomMessageSpec, IntegralDoublesAreIntegers) {
  auto m = decode_example<CursorPos>(R"({"type":"cursor_pos","sender":"a","x":3.0,"y":4})");
  EXPECT_EQ(m.x, 3);
}

TEST(RoomMessageSpec, ExtraFieldsOfKnownTypesAreDropped) {
  auto r = decode(R"({"type":"ping","junk":[1,2,3]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*encode(*r), R"({"type":"ping"})");
}

TEST(RoomMessageSpec, NullOptionalFieldsAreAbsent) {
  auto r = decode(R"({"type":"chat_msg","sender":"a","text":"b","ts":null,"from":null})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<ChatMsg>(*r), (ChatMsg{"a", "b", std::nullopt, std::nullopt}));
}

TEST(RoomMessageUnknown, UnknownTypeIsNotAnError) {
  auto r = decode(R"({"type":"whiteboard_stroke","points":[1,2]})");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(std::holds_alternative<Unknown>(*r));
  const auto& u = std::get<Unknown>(*r);
  EXPECT_EQ(u.type, "whiteboard_stroke");
  EXPECT_EQ(u.raw["points"], Json::parse("[1,2]"));
  EXPECT_EQ(type_name(*r), "whiteboard_stroke");
}

TEST(RoomMessageUnknown, EmptyTypeIsUnknown) {
  auto r = decode(R"({"type":""})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::holds_alternative<Unknown>(*r));
}

// --- hostile input --------------------------------------------------------------

Errc decode_error(std::string_view text) {
  auto r = decode(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? Errc::unsupported : r.error().code;
}

TEST(RoomMessageHostileInput, NotJson) {
  EXPECT_EQ(decode_error(""), Errc::not_json);
  EXPECT_EQ(decode_error("hello"), Errc::not_json);
  EXPECT_EQ(decode_error("{\"type\":\"ping\""), Errc::not_json);
  EXPECT_EQ(decode_error("{\"type\":\"ping\"} trailing"), Errc::not_json);
  EXPECT_EQ(decode_error(std::string("{\"type\":\"ping\"}\0", 16)), Errc::not_json);
}

TEST(RoomMessageHostileInput, NotAnObject) {
  EXPECT_EQ(decode_error("[]"), Errc::wrong_type);
  EXPECT_EQ(decode_error("[{\"type\":\"ping\"}]"), Errc::wrong_type);
  EXPECT_EQ(decode_error("\"ping\""), Errc::wrong_type);
  EXPECT_EQ(decode_error("42"), Errc::wrong_type);
  EXPECT_EQ(decode_error("null"), Errc::wrong_type);
}

TEST(RoomMessageHostileInput, MissingOrNonStringType) {
  EXPECT_EQ(decode_error("{}"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"tipe":"ping"})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"type":5})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":null})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":["ping"]})"), Errc::wrong_type);
}

TEST(RoomMessageHostileInput, WrongFieldTypes) {
  EXPECT_EQ(decode_error(R"({"type":"state_sync","state":[],"room":"r"})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"state_sync","room":"r"})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"type":"state_sync","state":{"windows":{},"version":1},"room":7})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"state_sync","state":{"windows":{},"version":1}})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"type":"presence","event":"join","id":"c","count":"2"})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"presence","event":"join","id":"c"})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"type":"presence","event":1,"count":1})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"presence","event":"sync","connections":"c1","count":1})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"presence","event":"sync","connections":["c1",2],"count":1})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"presence","event":"sync","connections":[],"count":0,"self":5})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"state_delta","delta":{},"version":"8"})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"state_delta","delta":{},"version":8.5})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"state_delta","delta":{},"from":{}})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"chat_msg","sender":1,"text":"x"})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"chat_msg","text":"x"})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"type":"chat_msg","sender":"a","text":"x","ts":"now"})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"cursor_pos","sender":"a","x":"1","y":2})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"cursor_pos","sender":"a","x":1.5,"y":2})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"cursor_pos","sender":"a","x":1})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"type":"rename","conn_id":true,"name":"n"})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"type":"rename","conn_id":"c"})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"type":"pong"})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"type":"pong","ts":false})"), Errc::wrong_type);
}

TEST(RoomMessageHostileInput, IntegersOutOfRange) {
  EXPECT_EQ(decode_error(R"({"type":"pong","ts":18446744073709551615})"), Errc::bad_value);
  EXPECT_EQ(decode_error(R"({"type":"pong","ts":9223372036854775808})"), Errc::bad_value);
  EXPECT_EQ(decode_error(R"({"type":"pong","ts":1e300})"), Errc::bad_value);
  EXPECT_EQ(decode_error(R"({"type":"pong","ts":-1e19})"), Errc::bad_value);
  // Beyond double range anywhere, even inside a raw delta: the parser
  // refuses the text; a value built in memory with an infinity is refused
  // too (JavaScript would relay it as null, so it cannot round-trip).
  EXPECT_EQ(decode_error(R"({"type":"state_delta","delta":{"add":[{"id":"a","x":1e400}]}})"), Errc::not_json);
  EXPECT_EQ(decode_error(R"({"type":"whatever","n":-1e999})"), Errc::not_json);
  Json inf = {{"type", "state_delta"}, {"delta", {{"add", {{{"id", "a"}, {"x", INFINITY}}}}}}};
  auto r = decode(inf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_value);
  auto ok = decode(R"({"type":"pong","ts":-9223372036854775808})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(std::get<Pong>(*ok).ts, INT64_MIN);
}

TEST(RoomMessageHostileInput, NullInsideAddIsCarriedRawAndSkippedByParseDelta) {
  auto r = decode(
      R"({"type":"state_delta","delta":{"add":[null,{"id":"a","type":"text_editor","x":0,"y":0,"w":1,"h":1}]},"version":3,"from":"c"})");
  ASSERT_TRUE(r.ok());
  const auto& d = std::get<StateDelta>(*r);
  ASSERT_TRUE(d.delta.has_value());
  EXPECT_TRUE((*d.delta)["add"][0].is_null());  // as relayed: the receiver decides
  auto parsed = parse_delta(*d.delta);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->delta.add.size(), 1u);
  EXPECT_EQ(parsed->skipped.size(), 1u);
}

TEST(RoomMessageHostileInput, ProtoIds) {
  // Ids are plain strings to the codec: kept exactly, no special meaning.
  auto p = decode(R"({"type":"presence","event":"join","id":"__proto__","count":1})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(std::get<Presence>(*p).id, "__proto__");
  auto c = decode(R"({"type":"rename","conn_id":"constructor","name":"__proto__","from":"__proto__"})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<Rename>(*c).from, "__proto__");
  // A window keyed __proto__ in a delta is the delta parser's business; the
  // codec must deliver it unchanged and never crash.
  auto d = decode(R"({"type":"state_delta","delta":{"add":[{"id":"__proto__","type":"text_editor","x":0,"y":0,"w":1,"h":1}]}})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*std::get<StateDelta>(*d).delta)["add"][0]["id"], "__proto__");
  // Decoding a state_sync holding one never crashes (accepting or refusing
  // the window is parse_room_state's contract).
  (void)decode(R"({"type":"state_sync","state":{"windows":{"__proto__":{"id":"__proto__","type":"text_editor","x":0,"y":0,"w":1,"h":1}},"version":1},"room":"r"})");
}

TEST(RoomMessageHostileInput, HundredThousandEntryLists) {
  std::string conns = R"({"type":"presence","event":"sync","count":100000,"connections":[)";
  for (int i = 0; i < 100000; ++i) conns += (i ? ",\"c" : "\"c") + std::to_string(i) + "\"";
  conns += "]}";
  ASSERT_LT(conns.size(), max_frame_bytes);
  EXPECT_EQ(decode_error(conns), Errc::too_large);

  std::string remove = R"({"type":"state_delta","delta":{"remove":[)";
  for (int i = 0; i < 100000; ++i) remove += (i ? ",\"r" : "\"r") + std::to_string(i) + "\"";
  remove += "]}}";
  auto r = decode(remove);
  ASSERT_TRUE(r.ok());  // carried raw, bounded by the frame limit
  auto parsed = parse_delta(*std::get<StateDelta>(*r).delta);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Errc::too_large);

  std::string windows = R"({"type":"state_sync","room":"r","state":{"version":1,"windows":{)";
  for (int i = 0; i < 100000; ++i) windows += (i ? ",\"" : "\"") + std::to_string(i) + "\":0";
  windows += "}}}";
  ASSERT_LT(windows.size(), max_frame_bytes);
  EXPECT_EQ(decode_error(windows), Errc::too_large);
}

TEST(RoomMessageHostileInput, DeeplyNestedText) {
  const std::string deep_array = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(decode_error(deep_array), Errc::too_deep);
  const std::string in_field = R"({"type":"chat_msg","sender":"a","text":"b","x":)" + std::string(5000, '{') ;
  EXPECT_EQ(decode_error(in_field), Errc::too_deep);
  std::string nested_delta = R"({"type":"state_delta","delta":)";
  for (int i = 0; i < 100; ++i) nested_delta += R"({"a":)";
  nested_delta += "1" + std::string(100, '}') + "}";
  EXPECT_EQ(decode_error(nested_delta), Errc::too_deep);
}

TEST(RoomMessageHostileInput, DepthLimitIsExact) {
  // A message nested exactly `depth` levels: the object, then depth-1 arrays.
  auto nest = [](int depth) {
    std::string s = R"({"type":"state_delta","delta":)";
    s += std::string(static_cast<std::size_t>(depth - 1), '[') + "0" +
         std::string(static_cast<std::size_t>(depth - 1), ']');
    return s + "}";
  };
  EXPECT_TRUE(decode(nest(max_message_depth)).ok());
  EXPECT_EQ(decode_error(nest(max_message_depth + 1)), Errc::too_deep);
  // decode(Json) draws the line at the same depth.
  EXPECT_TRUE(decode(Json::parse(nest(max_message_depth))).ok());
}

TEST(RoomMessageHostileInput, BracketsInsideStringsDoNotCount) {
  const std::string text = R"({"type":"chat_msg","sender":"[[[[{{{{\"[[[[","text":")" + std::string(10000, '[') + "\"}";
  auto r = decode(text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<ChatMsg>(*r).text, std::string(10000, '['));
}

TEST(RoomMessageHostileInput, DeeplyNestedJsonValue) {
  // A value built in memory (not parsed): decode(Json) checks depth without
  // recursing, so this must not overflow the stack.
  Json root = Json::object();
  root["type"] = "state_delta";
  Json* cur = &root["delta"];
  *cur = Json::array();
  for (int i = 0; i < 100000; ++i) {
    cur->push_back(Json::array());
    cur = &cur->back();
  }
  auto r = decode(root);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::too_deep);
}

TEST(RoomMessageHostileInput, NonUtf8Bytes) {
  EXPECT_EQ(decode_error("{\"type\":\"chat_msg\",\"sender\":\"\xff\xfe\",\"text\":\"\"}"), Errc::not_json);
  EXPECT_EQ(decode_error("{\"type\":\"chat_msg\",\"sender\":\"\xc0\xaf\",\"text\":\"\"}"), Errc::not_json);  // overlong
  EXPECT_EQ(decode_error("{\"type\":\"chat_msg\",\"sender\":\"\xed\xa0\x80\",\"text\":\"\"}"), Errc::not_json);  // surrogate
  EXPECT_EQ(decode_error("\xef\xbb\xbf\xff{}"), Errc::not_json);
  // Encoding refuses to send bytes that are not UTF-8 instead of mangling them.
  auto e = encode(ChatMsg{"a", "bad \xff byte", std::nullopt, std::nullopt});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, Errc::bad_value);
}

TEST(RoomMessageHostileInput, FrameOverOneMebibyteOnEncode) {
  ChatMsg big{"a", std::string(max_frame_bytes, 'x'), std::nullopt, std::nullopt};
  auto e = encode(big);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, Errc::too_large);

  // Exactly at the limit is allowed; one byte more is not.
  const std::size_t overhead = encode(ChatMsg{"a", "", std::nullopt, std::nullopt})->size();
  ChatMsg at_limit{"a", std::string(max_frame_bytes - overhead, 'x'), std::nullopt, std::nullopt};
  auto ok = encode(at_limit);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), max_frame_bytes);
  at_limit.text += 'x';
  EXPECT_EQ(encode(at_limit).error().code, Errc::too_large);

  // A caller-chosen limit applies too.
  EXPECT_EQ(encode(Ping{}, 5).error().code, Errc::too_large);
}

TEST(RoomMessageHostileInput, FrameOverOneMebibyteOnDecode) {
  std::string text = R"({"type":"chat_msg","sender":"a","text":")" + std::string(max_frame_bytes, 'x') + "\"}";
  EXPECT_EQ(decode_error(text), Errc::too_large);
}

}  // namespace
}  // namespace wibwob::protocol::room
