// Hostile input against the window-model parsers (protocol/window.hpp):
// every one returns a typed Error or skips and reports the bad entry; none
// throws or crashes. (The codecs' own hostile tests live beside them.)
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "protocol/window.hpp"
#include "tests/support/test_support.hpp"

using namespace wibwob::protocol;

namespace {

Json window_json(const std::string& id) {
  return Json{{"id", id}, {"type", "verse"}, {"x", 1}, {"y", 2}, {"w", 3}, {"h", 4}};
}

Json nested(int depth) {
  Json j = Json::object();
  for (int i = 0; i < depth; ++i) j = Json{{"n", std::move(j)}};
  return j;
}

}  // namespace

TEST(Hostile, DeltaNotAnObject) {
  for (const char* s : {"null", "[]", "\"add\"", "5", "true"}) {
    auto p = parse_delta(Json::parse(s));
    ASSERT_FALSE(p.ok()) << s;
    EXPECT_EQ(p.error().code, Errc::wrong_type) << s;
  }
}

TEST(Hostile, DeltaListsOfTheWrongType) {
  for (const char* s : {R"({"add":{}})", R"({"remove":"w1"})", R"({"update":5})"}) {
    auto p = parse_delta(Json::parse(s));
    ASSERT_FALSE(p.ok()) << s;
    EXPECT_EQ(p.error().code, Errc::wrong_type) << s;
  }
}

TEST(Hostile, NullAndJunkInsideAddAreSkippedTheRestKept) {
  Json d = {{"add", Json::array({nullptr, 5, "w1", Json::array(), window_json("ok1"),
                                 Json{{"id", "__proto__"}, {"type", "verse"}, {"x", 1}, {"y", 1}, {"w", 1}, {"h", 1}},
                                 Json{{"id", "x"}, {"type", "room_chat"}, {"x", 1}, {"y", 1}, {"w", 1}, {"h", 1}}})},
            {"remove", Json::array({nullptr, 7, "__proto__", "", "fine"})},
            {"update", Json::array({Json{{"id", "p"}, {"x", 9}}, window_json("ok2")})}};
  auto p = parse_delta(d);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->delta.add.size(), 1u);
  EXPECT_EQ(p->delta.add[0].id, "ok1");
  EXPECT_EQ(p->delta.remove, std::vector<std::string>{"fine"});
  ASSERT_EQ(p->delta.update.size(), 1u);
  EXPECT_EQ(p->delta.update[0].id, "ok2");
  // 6 bad adds, 4 bad removes, 1 partial update.
  EXPECT_EQ(p->skipped.size(), 11u);
}

TEST(Hostile, HundredThousandEntryListsAreRefusedAsTooLarge) {
  Json big = Json::array();
  for (int i = 0; i < 100000; ++i) big.push_back(window_json("w" + std::to_string(i)));
  auto p = parse_delta(Json{{"add", big}});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::too_large);
  auto l = normalise_layout(big);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code, Errc::too_large);
  Json ids = Json::array();
  for (int i = 0; i < 100000; ++i) ids.push_back("w" + std::to_string(i));
  EXPECT_EQ(parse_delta(Json{{"remove", ids}}).error().code, Errc::too_large);
  Json map = Json::object();
  for (int i = 0; i < 100000; ++i) map["w" + std::to_string(i)] = window_json("w" + std::to_string(i));
  EXPECT_EQ(parse_room_state(Json{{"windows", map}, {"version", 1}}).error().code, Errc::too_large);
}

TEST(Hostile, DeeplyNestedExtraFieldIsTooDeep) {
  Json w = window_json("a");
  w["payload"] = nested(5000);
  auto r = normalise_window(w);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::too_deep);
}

TEST(Hostile, NonUtf8AndControlBytesInIdsAndPaths) {
  // nlohmann refuses to dump invalid UTF-8, but values built in memory (or
  // parsed from a peer that is lenient) can hold any bytes.
  Json w = window_json(std::string("w\xff\xfe", 3));
  EXPECT_EQ(normalise_window(w).error().code, Errc::bad_value);
  w = window_json(std::string("w\x01", 2));
  EXPECT_EQ(normalise_window(w).error().code, Errc::bad_value);
  w = window_json(std::string(300, 'a'));
  EXPECT_EQ(normalise_window(w).error().code, Errc::bad_value);
  w = window_json("ok");
  w["path"] = std::string(5000, '/');
  EXPECT_EQ(normalise_window(w).error().code, Errc::too_large);
}

TEST(Hostile, RoomStateOddShapes) {
  EXPECT_EQ(parse_room_state(Json::parse("[]")).error().code, Errc::wrong_type);
  EXPECT_EQ(parse_room_state(Json::parse(R"({"version":1.5})")).error().code, Errc::wrong_type);
  EXPECT_EQ(parse_room_state(Json::parse(R"({"version":18446744073709551615})")).error().code, Errc::bad_value);
  auto ok = parse_room_state(Json::parse(R"({"version":3,"windows":null})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->windows.empty());
}

// Arbitrary JSON never makes any of these throw.
RC_GTEST_PROP(Hostile, ArbitraryJsonNeverThrows, ()) {
  const Json j = *wibwob::test::gen_json(4);
  (void)normalise_window(j);
  (void)normalise_layout(j);
  (void)parse_delta(j);
  (void)parse_room_state(j);
  (void)parse_delta(Json{{"add", j}, {"remove", j}, {"update", j}});
  RoomState s;
  const auto out = apply_room_delta(s, &j);
  RC_ASSERT((out == ApplyOutcome::applied) == (s.version == 1));
  const Json wrapped = Json{{"add", Json::array({j})}, {"update", Json::array({j})}, {"remove", Json::array({j})}};
  (void)apply_room_delta(s, &wrapped);
  (void)js_key(j);
}

// Whatever survives validation is well-formed: acceptable ids, no internal types.
RC_GTEST_PROP(Hostile, ParsedDeltaOnlyHoldsValidWindows, ()) {
  const Json j = Json{{"add", Json::array({*wibwob::test::gen_json(3), *wibwob::test::gen_json(3)})},
                      {"update", Json::array({*wibwob::test::gen_json(3)})},
                      {"remove", Json::array({*wibwob::test::gen_json(1)})}};
  auto p = parse_delta(j);
  RC_ASSERT(p.ok());
  for (const auto& w : p->delta.add) {
    RC_ASSERT(is_acceptable_window_id(w.id));
    RC_ASSERT(!is_internal_window_type(w.type));
  }
  for (const auto& w : p->delta.update) RC_ASSERT(is_acceptable_window_id(w.id));
  for (const auto& id : p->delta.remove) RC_ASSERT(is_acceptable_window_id(id));
}
