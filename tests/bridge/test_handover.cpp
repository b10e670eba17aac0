// Handover (bridge/core/handover.hpp): what one bridge run leaves for the
// next. Round trips exactly; anything malformed, truncated, oversized or
// inconsistent is an Error for the whole file, never a partial mapping.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "bridge/core/handover.hpp"

using namespace wibwob;
using bridge::decode_handover;
using bridge::encode_handover;
using bridge::Handover;
using protocol::Errc;
using protocol::Json;

namespace {

protocol::Window win(const std::string& id, const std::string& type, int x) {
  protocol::Window w;
  w.id = id;
  w.type = type;
  w.x = x;
  w.y = 2;
  w.w = 30;
  w.h = 10;
  return w;
}

Handover sample() {
  Handover h;
  h.app_key = "2049:7:1700000000.5";
  h.room_key = "ws://127.0.0.1:1999/parties/main/lobby";
  h.room_to_local = {{"abc:w1", "w1"}, {"peer:w4~1", "w7"}};
  h.believed = {{"abc:w1", win("abc:w1", "verse", 1)}, {"peer:w4~1", win("peer:w4~1", "text_view", 5)}};
  h.believed["peer:w4~1"].path = "/home/u/notes.txt";
  h.creating = {{"peer:w9", win("peer:w9", "cube", 9)}};
  return h;
}

Errc decode_error(const std::string& text) {
  auto r = decode_handover(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? Errc::unsupported : r.error().code;
}

}  // namespace

TEST(Handover, RoundTripsExactly) {
  const Handover h = sample();
  auto back = decode_handover(encode_handover(h));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, h);
  auto empty = decode_handover(encode_handover(Handover{}));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(*empty, Handover{});
}

RC_GTEST_PROP(Handover, AnyMappingRoundTrips, (std::vector<std::pair<unsigned, int>> entries)) {
  const auto app = *rc::gen::container<std::string>(rc::gen::inRange<char>(' ', '~'));
  RC_PRE(app.size() < 200);
  Handover h;
  h.app_key = app;
  for (const auto& [n, x] : entries) {
    const std::string rid = "o:w" + std::to_string(n);
    h.room_to_local[rid] = "w" + std::to_string(n);
    h.believed[rid] = win(rid, "life", x);
  }
  auto back = decode_handover(encode_handover(h));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == h);
}

TEST(Handover, EveryTruncationIsAnError) {
  const std::string text = encode_handover(sample());
  for (std::size_t n = 0; n < text.size(); ++n) EXPECT_FALSE(decode_handover(text.substr(0, n)).ok()) << n;
}

TEST(Handover, MalformedFilesAreErrors) {
  EXPECT_EQ(decode_error(""), Errc::not_json);
  EXPECT_EQ(decode_error("not json"), Errc::not_json);
  EXPECT_EQ(decode_error("[]"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"format":2,"app":"","room":"","map":{},"believed":{},"creating":{}})"), Errc::unsupported);
  EXPECT_EQ(decode_error(R"({"app":"","room":"","map":{},"believed":{},"creating":{}})"), Errc::unsupported);
  EXPECT_EQ(decode_error(R"({"format":1,"room":"","map":{},"believed":{},"creating":{}})"), Errc::missing_field);
  EXPECT_EQ(decode_error(R"({"format":1,"app":7,"room":"","map":{},"believed":{},"creating":{}})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"format":1,"app":"","room":"","map":[],"believed":{},"creating":{}})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(R"({"format":1,"app":"","room":"","map":{},"believed":[],"creating":{}})"), Errc::wrong_type);
  EXPECT_EQ(decode_error(std::string(100, '[') + std::string(100, ']')), Errc::too_deep);
  EXPECT_EQ(decode_error(std::string(bridge::max_handover_bytes + 1, ' ')), Errc::too_large);
}

TEST(Handover, AnInconsistentMappingIsRefusedWhole) {
  Json j = Json::parse(encode_handover(sample()));
  auto with = [&](auto change) {
    Json copy = j;
    change(copy);
    return decode_handover(copy.dump());
  };
  // A mapped window the file does not describe.
  EXPECT_FALSE(with([](Json& c) { c["map"]["ghost:w2"] = "w2"; }).ok());
  // Two room windows on one app window.
  EXPECT_FALSE(with([](Json& c) { c["map"]["peer:w4~1"] = "w1"; }).ok());
  // Not the app's ids.
  for (const char* bad : {"", "w", "x1", "w1a", "w-1", "w99999999999999999999999"})
    EXPECT_FALSE(with([&](Json& c) { c["map"]["abc:w1"] = bad; }).ok()) << bad;
  EXPECT_FALSE(with([](Json& c) { c["map"]["abc:w1"] = 1; }).ok());
  // A window that is not one, or is filed under another id.
  EXPECT_FALSE(with([](Json& c) { c["believed"]["abc:w1"]["x"] = "left"; }).ok());
  EXPECT_FALSE(with([](Json& c) { c["believed"]["abc:w1"]["id"] = "other"; }).ok());
  EXPECT_FALSE(with([](Json& c) { c["creating"]["peer:w9"] = 5; }).ok());
  // Oversized strings.
  EXPECT_FALSE(with([](Json& c) { c["room"] = std::string(5000, 'r'); }).ok());
}

TEST(Handover, BrokenUtf8FromTheAppIsReplacedNotFatal) {
  Handover h = sample();
  h.believed["abc:w1"].extra["text"] = std::string("caf\xe9 \xff");
  const std::string text = encode_handover(h);
  auto back = decode_handover(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->room_to_local, h.room_to_local);
}
