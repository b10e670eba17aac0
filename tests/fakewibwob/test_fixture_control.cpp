// The fakes' shared control plane (fixture/): the op table, the field
// accessors, the exit after a reply, and the channel over a real socket.
#include "fixture/control_channel.hpp"
#include "fixture/control_ops.hpp"
#include "tests/support/io_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using wibwob::fixture::ControlChannel;
using wibwob::fixture::ControlOps;
using wibwob::fixture::Json;
using wibwob::fixture::Reply;

ControlOps sample_ops() {
  ControlOps ops;
  ops.add("ping", [](const Json&) -> Reply { return wibwob::fixture::ok(); });
  ops.add("echo", [](const Json& r) -> Reply {
    auto text = wibwob::fixture::string_field(r, "text");
    if (!text) return wibwob::fixture::fail("need text");
    return wibwob::fixture::ok({{"text", *text}});
  });
  ops.add("exit", [](const Json& r) {
    return wibwob::fixture::exit_after_reply(static_cast<int>(wibwob::fixture::int_field(r, "code", 0, 255).value_or(0)));
  });
  return ops;
}

TEST(FixtureControlOps, HostileRequestsGetErrorReplies) {
  const ControlOps ops = sample_ops();
  EXPECT_EQ(ops.run(Json::array()).body["error"], "request is not a JSON object");
  EXPECT_EQ(ops.run(Json("ping")).body["error"], "request is not a JSON object");
  EXPECT_EQ(ops.run(Json::object()).body["error"], "missing string field 'op'");
  EXPECT_EQ(ops.run(Json{{"op", 7}}).body["error"], "missing string field 'op'");
  EXPECT_EQ(ops.run(Json{{"op", "nope"}}).body["error"], "unknown op 'nope'");
  EXPECT_EQ(ops.run(Json{{"op", "echo"}, {"text", 1}}).body["error"], "need text");
  EXPECT_EQ(ops.run(Json{{"op", "echo"}, {"text", "hi"}}).body, (Json{{"ok", true}, {"text", "hi"}}));
  EXPECT_FALSE(ops.run(Json{{"op", "ping"}}).exit_code.has_value());
}

TEST(FixtureControlOps, FieldAccessorsRefuseWrongTypesAndRanges) {
  using namespace wibwob::fixture;
  const Json r = Json::parse(R"({"s":"x","b":true,"i":5,"neg":-3,"f":1.5,"huge":18446744073709551615,
                                 "big32":2147483648,"min32":-2147483648})");
  EXPECT_EQ(string_field(r, "s"), "x");
  EXPECT_EQ(string_field(r, "b"), std::nullopt);
  EXPECT_EQ(bool_field(r, "b"), true);
  EXPECT_EQ(bool_field(r, "i"), std::nullopt);
  EXPECT_EQ(int_field(r, "i", 0, 10), 5);
  EXPECT_EQ(int_field(r, "i", 6, 10), std::nullopt);
  EXPECT_EQ(int_field(r, "neg", 0, 10), std::nullopt);
  EXPECT_EQ(int_field(r, "f", 0, 10), std::nullopt);
  EXPECT_EQ(int_field(r, "huge", 0, std::numeric_limits<std::int64_t>::max()), std::nullopt);  // no wrap to -1
  EXPECT_EQ(int_field(r, "missing", 0, 10), std::nullopt);
  EXPECT_EQ(int32_field(r, "big32"), std::nullopt);
  EXPECT_EQ(int32_field(r, "min32"), std::numeric_limits<std::int32_t>::min());
}

TEST(FixtureControlOps, ExitInProcessStopsOnceAfterTheReply) {
  const ControlOps ops = sample_ops();
  std::vector<int> stopped;
  const Json reply = wibwob::fixture::answer_in_process(ops.run(Json{{"op", "exit"}, {"code", 3}}),
                                                        [&](int code) { stopped.push_back(code); });
  EXPECT_EQ(reply, (Json{{"ok", true}}));
  EXPECT_EQ(stopped, std::vector<int>{3});
  wibwob::fixture::answer_in_process(ops.run(Json{{"op", "ping"}}), [&](int code) { stopped.push_back(code); });
  EXPECT_EQ(stopped.size(), 1u);
}

// A client on the control socket: sends `out`, reads replies until `lines`
// came or the connection ended; returns what it read.
asio::awaitable<std::string> converse(std::string path, std::string out, int lines) {
  asio::local::stream_protocol::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(path, asio::use_awaitable);
  co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
  std::string buf;
  std::array<char, 512> chunk{};
  while (std::count(buf.begin(), buf.end(), '\n') < lines) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    buf.append(chunk.data(), n);
    if (ec) break;
  }
  co_return buf;
}

struct ChannelFixture : ::testing::Test {
  void SetUp() override {
    ASSERT_TRUE(channel.open(path).ok());
  }
  void TearDown() override {
    channel.close(true);
    wibwob::test::run_for(io, 50ms);
  }
  wibwob::test::TempDir dir;
  std::string path = dir / "ctl.sock";
  asio::io_context io;
  ControlOps ops = sample_ops();
  std::vector<int> exits;
  ControlChannel channel{io, [this](const Json& r) { return ops.run(r); }, [this](int code) { exits.push_back(code); },
                         256};
};

TEST_F(ChannelFixture, LinesAreAnsweredInOrderAndGarbageKeepsTheConnection) {
  const std::string got = wibwob::test::await(
      io, converse(path, "{\"op\":\"ping\"}\nnot json\n[1]\n{\"op\":\"echo\",\"text\":\"\\u00e9\"}\n", 4));
  std::vector<Json> replies;
  for (std::size_t at = 0; at < got.size();) {
    const auto nl = got.find('\n', at);
    ASSERT_NE(nl, std::string::npos) << got;
    replies.push_back(Json::parse(got.substr(at, nl - at)));
    at = nl + 1;
  }
  ASSERT_EQ(replies.size(), 4u) << got;
  EXPECT_EQ(replies[0], (Json{{"ok", true}}));
  EXPECT_EQ(replies[1]["ok"], false);
  EXPECT_EQ(replies[1]["error"].get<std::string>().rfind("request is not JSON: ", 0), 0u) << replies[1];
  EXPECT_EQ(replies[2]["error"], "request is not a JSON object");
  EXPECT_EQ(replies[3], (Json{{"ok", true}, {"text", "\xc3\xa9"}}));
  EXPECT_TRUE(exits.empty());
}

TEST_F(ChannelFixture, ExitEndsTheConnectionAfterTheReplyThenCallsOnExit) {
  // Lines after the exit are never answered: the connection ends with it.
  const std::string got = wibwob::test::await(io, converse(path, "{\"op\":\"exit\",\"code\":4}\n{\"op\":\"ping\"}\n", 2));
  EXPECT_EQ(got, "{\"ok\":true}\n");
  EXPECT_EQ(exits, std::vector<int>{4});
}

TEST_F(ChannelFixture, AnOversizedLineEndsOnlyThatConnection) {
  const std::string got = wibwob::test::await(io, converse(path, std::string(1000, 'x') + "\n", 1));
  EXPECT_EQ(got, "");
  EXPECT_EQ(wibwob::test::await(io, converse(path, "{\"op\":\"ping\"}\n", 1)), "{\"ok\":true}\n");
}

TEST_F(ChannelFixture, ALiveSocketIsNotTakenOver) {
  ControlChannel second(io, [this](const Json& r) { return ops.run(r); }, [](int) {});
  auto opened = second.open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("another server is live"), std::string::npos) << opened.error().message;
}

// The channel's coroutines run in its own scope: destroying it cancels them,
// and they unwind without touching the channel or calling the handler again,
// while the io_context runs on (ASan reports any use after free). Without
// the scope (sessions that check nothing after their awaits) the session
// below would resume on the freed channel.
TEST(FixtureControlChannel, DestroyedWithAClientInTheMiddleOfARequest) {
  wibwob::test::TempDir dir;
  const std::string path = dir / "ctl.sock";
  asio::io_context io;
  const ControlOps ops = sample_ops();
  int handled = 0;
  auto channel = std::make_unique<ControlChannel>(io, [&](const Json& r) {
    ++handled;
    return ops.run(r);
  }, [](int) {});
  ASSERT_TRUE(channel->open(path).ok());
  auto client = wibwob::test::spawn_pending(io, converse(path, "{\"op\":\"ping\"}\n{\"op\":", 2));
  ASSERT_TRUE(wibwob::test::run_until(io, [&] { return handled == 1; }));
  wibwob::test::run_for(io, 20ms);  // the session now waits for the rest of its second line
  channel.reset();
  ASSERT_TRUE(wibwob::test::run_until(io, [&] { return client->done; }));
  ASSERT_FALSE(client->error);
  EXPECT_EQ(*client->value, "{\"ok\":true}\n");  // then EOF: the session ended with the channel
  wibwob::test::run_for(io, 20ms);
  EXPECT_EQ(handled, 1);
}

// The owner goes away while answering (its handler destroys the channel):
// the reply is not written, and the line already read after it is never
// handled: the cancelled session ends at its next await.
TEST(FixtureControlChannel, DestroyedByItsOwnHandler) {
  wibwob::test::TempDir dir;
  const std::string path = dir / "ctl.sock";
  asio::io_context io;
  std::unique_ptr<ControlChannel> channel;
  int handled = 0;
  channel = std::make_unique<ControlChannel>(io, [&](const Json&) -> Reply {
    ++handled;
    channel.reset();
    return wibwob::fixture::ok();
  }, [](int) {});
  ASSERT_TRUE(channel->open(path).ok());
  const std::string got =
      wibwob::test::await(io, converse(path, "{\"op\":\"ping\"}\n{\"op\":\"ping\"}\n", 2));
  EXPECT_EQ(got, "");
  wibwob::test::run_for(io, 20ms);
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(channel, nullptr);
}

// close() ends the accept loop and every session at once; the channel can
// be opened again on the same path.
TEST(FixtureControlChannel, CloseEndsEverySessionAndTheChannelOpensAgain) {
  wibwob::test::TempDir dir;
  const std::string path = dir / "ctl.sock";
  asio::io_context io;
  const ControlOps ops = sample_ops();
  ControlChannel channel(io, [&](const Json& r) { return ops.run(r); }, [](int) {});
  ASSERT_TRUE(channel.open(path).ok());
  auto idle = wibwob::test::spawn_pending(io, converse(path, "", 1));
  wibwob::test::run_for(io, 20ms);
  channel.close(true);
  ASSERT_TRUE(wibwob::test::run_until(io, [&] { return idle->done; }));
  EXPECT_EQ(*idle->value, "");
  EXPECT_FALSE(channel.is_open());
  ASSERT_TRUE(channel.open(path).ok());
  EXPECT_EQ(wibwob::test::await(io, converse(path, "{\"op\":\"ping\"}\n", 1)), "{\"ok\":true}\n");
  channel.close(true);
  wibwob::test::run_for(io, 20ms);
}

}  // namespace
