// The bridge's I/O shell: room endpoint parsing, and the one-shot IPC client
// against the fake app's real server over a Unix socket (auth, timeouts,
// unreachable app, hostile replies).
#include <gtest/gtest.h>

#include <array>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "bridge/ipc/ipc_client.hpp"
#include "bridge/io/room_endpoint.hpp"
#include "fakewibwob/server/server.hpp"
#include "tests/support/io_test_support.hpp"

using namespace std::chrono_literals;
using namespace wibwob;
using bridge::IpcFailure;
using bridge::IpcOutcome;
using test::run_until;
using test::TempDir;
namespace asio = boost::asio;

// --- endpoint parsing ------------------------------------------------------------

TEST(RoomEndpoint, SchemesMapToWsAndWss) {
  auto e = bridge::parse_room_endpoint("http://127.0.0.1:1999", "wibwob-shared");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->tls);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, "1999");
  EXPECT_EQ(e->target_prefix, "/party/wibwob-shared");

  e = bridge::parse_room_endpoint("https://rooms.user.partykit.dev", "r");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->port, "443");
  EXPECT_EQ(e->url_for_logs, "wss://rooms.user.partykit.dev:443/party/r");

  EXPECT_FALSE(bridge::parse_room_endpoint("ws://h:80", "r")->tls);
  EXPECT_TRUE(bridge::parse_room_endpoint("wss://h", "r")->tls);
  // A path prefix on the server is kept; a trailing slash is not doubled.
  EXPECT_EQ(bridge::parse_room_endpoint("http://h/base/", "r")->target_prefix, "/base/party/r");
}

TEST(RoomEndpoint, RoomNameIsPercentEncodedIntoOneSegment) {
  auto e = bridge::parse_room_endpoint("http://h:1", "my room/../x?y#z%");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->target_prefix, "/party/my%20room%2F..%2Fx%3Fy%23z%25");
}

TEST(RoomEndpoint, BadConfigurationIsAClearError) {
  for (const char* url : {"", "127.0.0.1:1999", "ftp://h/", "http://", "not a url", "http://h:99999999999",
                          "http://h:0", "ws://h:65536", "wss://h:-1", "http://h:12ab"}) {
    auto e = bridge::parse_room_endpoint(url, "r");
    ASSERT_FALSE(e.ok()) << url << " was accepted as " << e->host << ":" << e->port;
    EXPECT_FALSE(e.error().message.empty()) << url;
  }
  auto no_room = bridge::parse_room_endpoint("http://h", "");
  ASSERT_FALSE(no_room.ok());
  EXPECT_NE(no_room.error().message.find("WIBWOB_PARTYKIT_ROOM"), std::string::npos);
  EXPECT_TRUE(bridge::parse_room_endpoint("http://h:65535", "r").ok());
  EXPECT_TRUE(bridge::parse_room_endpoint("http://h:1", "r").ok());
}

// --- IPC client against the fake app's server ----------------------------------------

namespace {

struct FakeAppFixture {
  explicit FakeAppFixture(std::optional<std::string> secret = std::nullopt) {
    fakewibwob::ServerConfig c;
    c.socket_path = dir / "app.sock";
    c.secret = secret;
    c.ui_tick = fakewibwob::Millis(0);
    c.remove_socket_on_exit = true;
    server.emplace(io, c);
    if (auto started = server->start(); !started) throw std::runtime_error(started.error().message);
  }
  ~FakeAppFixture() {
    server->stop();
    test::run_for(io, 100ms);  // every coroutine sees its socket closed while the server exists
  }

  IpcOutcome request(const bridge::IpcClientConfig& cfg, std::string line) {
    return test::await(io, bridge::ipc_request(cfg, std::move(line)), 10s);
  }

  bridge::IpcClientConfig client(std::optional<std::string> secret = std::nullopt) {
    bridge::IpcClientConfig c;
    c.socket_path = dir / "app.sock";
    c.secret = std::move(secret);
    c.reply_timeout = 1000ms;
    return c;
  }

  TempDir dir;
  asio::io_context io;
  std::optional<fakewibwob::Server> server;
};

}  // namespace

TEST(IpcClient, RequestAndReply) {
  FakeAppFixture f;
  auto o = f.request(f.client(), "cmd:create_window type=verse x=1 y=2 w=30 h=10\n");
  ASSERT_EQ(o.failure, IpcFailure::none) << o.text;
  EXPECT_EQ(o.text, R"({"success":true,"id":"w1"})");
  o = f.request(f.client(), "cmd:get_state\n");
  ASSERT_EQ(o.failure, IpcFailure::none) << o.text;
  EXPECT_TRUE(protocol::ipc::parse_get_state(o.text).ok());
}

TEST(IpcClient, AuthenticatesWithTheSharedSecret) {
  FakeAppFixture f("s3cret");
  auto o = f.request(f.client("s3cret"), "cmd:get_state\n");
  EXPECT_EQ(o.failure, IpcFailure::none) << o.text;
}

TEST(IpcClient, WrongSecretIsAnAuthFailure) {
  FakeAppFixture f("s3cret");
  auto o = f.request(f.client("wrong"), "cmd:get_state\n");
  EXPECT_EQ(o.failure, IpcFailure::auth);
  EXPECT_NE(o.text.find("refused"), std::string::npos) << o.text;
}

TEST(IpcClient, SecretOnTheBridgeButNotOnTheAppIsAClearConfigurationError) {
  FakeAppFixture f;  // no auth on the app: the first line is the reply, not a challenge
  auto cfg = f.client("s3cret");
  cfg.auth_step_timeout = 300ms;
  auto o = f.request(cfg, "cmd:get_state\n");
  EXPECT_EQ(o.failure, IpcFailure::auth);
  EXPECT_FALSE(o.text.empty());
}

TEST(IpcClient, AppNotRunningIsUnreachable) {
  TempDir dir;
  asio::io_context io;
  bridge::IpcClientConfig cfg;
  cfg.socket_path = dir / "nothing.sock";
  EXPECT_EQ(test::await(io, bridge::ipc_request(cfg, "cmd:get_state\n")).failure, IpcFailure::unreachable);
}

TEST(IpcClient, StalledAppTimesOut) {
  FakeAppFixture f;
  f.server->control({{"op", "set_reply_delay"}, {"ms", 3000}});
  auto cfg = f.client();
  cfg.reply_timeout = 200ms;
  auto o = f.request(cfg, "cmd:get_state\n");
  EXPECT_EQ(o.failure, IpcFailure::timeout) << o.text;
}

TEST(IpcClient, OversizedRequestIsRefusedBeforeSending) {
  FakeAppFixture f;
  auto o = f.request(f.client(), "cmd:get_state x=" + std::string(3000, 'a') + "\n");
  EXPECT_EQ(o.failure, IpcFailure::io);
  EXPECT_EQ(f.server->app().journal().size(), 0u);
}

TEST(IpcClient, HostileRepliesAreReturnedAsTextNotCrashes) {
  // A stand-in app that answers with junk: NUL bytes, no newline, then EOF.
  TempDir dir;
  asio::io_context io;
  const std::string path = dir / "junk.sock";
  asio::local::stream_protocol::acceptor acceptor(io, asio::local::stream_protocol::endpoint(path));
  // It reads the request first, like the app, then answers junk and closes.
  auto sock = std::make_shared<asio::local::stream_protocol::socket>(io);
  auto req = std::make_shared<std::array<char, 64>>();
  auto junk = std::make_shared<std::string>(std::string("\0\xff{not json", 11));
  acceptor.async_accept(*sock, [&, sock, req, junk](boost::system::error_code ec) {
    if (ec) return;
    sock->async_read_some(asio::buffer(*req), [sock, junk](boost::system::error_code, std::size_t) {
      asio::async_write(*sock, asio::buffer(*junk), [sock, junk](boost::system::error_code, std::size_t) {
        boost::system::error_code ignored;
        sock->shutdown(asio::socket_base::shutdown_send, ignored);
      });
    });
  });
  bridge::IpcClientConfig cfg;
  cfg.socket_path = path;
  const auto out = test::await(io, bridge::ipc_request(cfg, "cmd:get_state\n"));
  ASSERT_EQ(out.failure, IpcFailure::none);
  EXPECT_EQ(out.text.size(), 11u);
  EXPECT_FALSE(protocol::ipc::parse_get_state(out.text).ok());
}

TEST(IpcClient, SubscriptionDeliversEventsInOrder) {
  FakeAppFixture f;
  std::vector<std::string> lines;
  auto ended = test::spawn_pending(f.io, bridge::ipc_subscribe(f.client(), [&](std::string_view l) { lines.emplace_back(l); }));
  ASSERT_TRUE(run_until(f.io, [&] { return f.server->subscriber_count() == 1 || ended->done; }));
  ASSERT_FALSE(ended->done) << (ended->value ? ended->value->text : "an exception");
  (void)f.request(f.client(), "cmd:create_window type=cube\n");
  ASSERT_TRUE(run_until(f.io, [&] { return lines.size() >= 2; })) << lines.size() << " lines";
  EXPECT_EQ(lines[0], "{\"type\":\"subscribed\"}\n");
  auto ev = protocol::ipc::parse_event_line(lines[1]);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(std::get<protocol::ipc::Event>(*ev).seq, 1);
}
