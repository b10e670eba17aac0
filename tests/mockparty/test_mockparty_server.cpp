// mockparty's Beast server over loopback: the spec's sequences on the wire,
// HTTP routing, bad input, 1009, each defect that lives in the shell, TLS
// with a throwaway CA, every fault control, persistence across a restart,
// the message log, a flood of connections, the control socket, and the
// binary's READY line and SIGTERM.
//
// The server and the test clients share one single-threaded io_context; a
// test body is a coroutine run with a deadline. Servers bind port 0. Waits
// are for observable events (a frame, an error, a connect) with deadlines,
// never sleeps.
#include "mockparty/server/server.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/io_test_support.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace wibwob::mockparty {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using asio::awaitable;
using asio::use_awaitable;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

void require(bool cond, const std::string& what) {
  if (!cond) throw std::runtime_error("requirement failed: " + what);
}

using wibwob::test::TempDir;

class MockpartyServer : public ::testing::Test {
 protected:
  asio::io_context io;
  std::unique_ptr<Server> server;

  void start(ServerConfig cfg = {}) {
    server = std::make_unique<Server>(io, std::move(cfg));
    auto started = server->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    ASSERT_NE(server->port(), 0);
  }

  // Runs `body` on the io_context (with the server) until it finishes or the
  // deadline passes; a failure on the way fails the test.
  void run(std::function<awaitable<void>()> body, std::chrono::milliseconds deadline = 20s) {
    try {
      test::await(io, body(), deadline);
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }

  void TearDown() override {
    if (server) server->stop();
    // Let aborted connections finish their coroutines.
    test::run_for(io, 50ms);
    server.reset();
  }
};

// --- clients -------------------------------------------------------------------------

using Ws = websocket::stream<beast::tcp_stream>;
using Wss = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

awaitable<std::unique_ptr<Ws>> connect(std::uint16_t port, std::string target,
                                        std::chrono::milliseconds timeout = 5s) {
  auto ws = std::make_unique<Ws>(co_await asio::this_coro::executor);
  auto& lowest = beast::get_lowest_layer(*ws);
  lowest.expires_after(timeout);
  co_await lowest.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_awaitable);
  co_await ws->async_handshake("127.0.0.1:" + std::to_string(port), target, use_awaitable);
  lowest.expires_never();
  co_return ws;
}

template <class S>
awaitable<Json> recv(S& ws, std::chrono::milliseconds timeout = 5s) {
  beast::get_lowest_layer(ws).expires_after(timeout);
  beast::flat_buffer b;
  co_await ws.async_read(b, use_awaitable);
  beast::get_lowest_layer(ws).expires_never();
  co_return Json::parse(beast::buffers_to_string(b.data()));
}

// Reads until a frame of `type` arrives (skipping presence noise etc.).
template <class S>
awaitable<Json> recv_type(S& ws, std::string type, std::chrono::milliseconds timeout = 5s) {
  for (;;) {
    Json j = co_await recv(ws, timeout);
    if (j.value("type", "") == type) co_return j;
  }
}

template <class S>
awaitable<void> send(S& ws, const std::string& text) {
  beast::get_lowest_layer(ws).expires_after(5s);
  ws.text(true);
  co_await ws.async_write(asio::buffer(text), use_awaitable);
  beast::get_lowest_layer(ws).expires_never();
}

// The error a read ends with (a deadline turns into beast::error::timeout).
template <class S>
awaitable<beast::error_code> read_error(S& ws, std::chrono::milliseconds timeout = 5s) {
  beast::get_lowest_layer(ws).expires_after(timeout);
  for (;;) {
    beast::flat_buffer b;
    auto [ec, n] = co_await ws.async_read(b, asio::as_tuple(use_awaitable));
    (void)n;
    if (ec) co_return ec;
  }
}

// One plain HTTP GET; returns the status code.
awaitable<unsigned> http_get(std::uint16_t port, std::string target, bool upgrade_headers = false) {
  beast::tcp_stream s(co_await asio::this_coro::executor);
  s.expires_after(5s);
  co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_awaitable);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (upgrade_headers) {
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::sec_websocket_version, "13");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  }
  co_await http::async_write(s, req, use_awaitable);
  beast::flat_buffer b;
  http::response<http::string_body> res;
  co_await http::async_read(s, b, res, use_awaitable);
  co_return res.result_int();
}

const std::string delta_x =
    R"({"type":"state_delta","delta":{"add":[{"id":"x","type":"verse","x":1,"y":2,"w":30,"h":10}]}})";

// --- the spec's sequences -----------------------------------------------------------

TEST_F(MockpartyServer, JoinDeltaChatPingLeaveOverBothPaths) {
  start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/lobby?_pk=a");
    Json sync = co_await recv(*a);
    EXPECT_EQ(sync, Json::parse(R"({"type":"state_sync","state":{"windows":{},"version":0},"room":"lobby"})"));
    EXPECT_EQ(co_await recv(*a),
              Json::parse(R"({"type":"presence","event":"sync","connections":["a"],"count":1,"self":"a"})"));

    auto b = co_await connect(server->port(), "/parties/main/lobby?_pk=b");  // the same room
    EXPECT_EQ((co_await recv(*b))["type"], "state_sync");
    EXPECT_EQ((co_await recv(*b))["connections"], Json::parse(R"(["a","b"])"));
    EXPECT_EQ(co_await recv(*a), Json::parse(R"({"type":"presence","event":"join","id":"b","count":2})"));

    co_await send(*a, delta_x);
    Json d = co_await recv(*b);
    EXPECT_EQ(d["type"], "state_delta");
    EXPECT_EQ(d["version"], 1);
    EXPECT_EQ(d["from"], "a");
    EXPECT_EQ(d["delta"], Json::parse(delta_x)["delta"]);

    // No ack: the sender's next frame is the pong to its ping.
    co_await send(*a, R"({"type":"ping"})");
    Json pong = co_await recv(*a);
    EXPECT_EQ(pong["type"], "pong");
    EXPECT_TRUE(pong["ts"].is_number_integer());

    co_await send(*b, R"({"type":"chat_msg","sender":"bob","text":"hi"})");
    Json chat = co_await recv(*a);
    EXPECT_EQ(chat["from"], "b");
    EXPECT_EQ(chat["text"], "hi");
    EXPECT_TRUE(chat["ts"].is_number_integer());

    // b goes away (TCP close): a hears leave with the server's low count.
    beast::get_lowest_layer(*b).close();
    EXPECT_EQ(co_await recv(*a), Json::parse(R"({"type":"presence","event":"leave","id":"b","count":0})"));
  });
}

TEST_F(MockpartyServer, RoomIsPercentDecodedAndIdIsARandomUuidWithoutPk) {
  start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/my%20room%2Fx");
    Json sync = co_await recv(*a);
    EXPECT_EQ(sync["room"], "my room/x");
    Json presence = co_await recv(*a);
    const std::string self = presence["self"];
    EXPECT_TRUE(std::regex_match(self, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << self;
    auto b = co_await connect(server->port(), "/party/my%20room%2Fx");
    (void)co_await recv(*b);
    EXPECT_NE((co_await recv(*b))["self"], self);
    EXPECT_EQ(server->core().sockets("my room/x").size(), 2u);
  });
}

TEST_F(MockpartyServer, OtherPathsAre404AndTheControlIsNotOnThisPort) {
  start();
  run([&]() -> awaitable<void> {
    for (const char* t : {"/", "/nope", "/party", "/party/", "/party/a/b", "/parties/other/a", "/parties/main/",
                          "/control", "/status", "/party/x/../../control"}) {
      EXPECT_EQ(co_await http_get(server->port(), t, true), 404u) << t;
    }
    EXPECT_EQ(co_await http_get(server->port(), "/party/" + std::string(81, 'r'), true), 404u);  // room too long
    EXPECT_EQ(co_await http_get(server->port(), "/party/r"), 426u);  // not an upgrade
    EXPECT_FALSE(server->stopped());
  });
}

TEST_F(MockpartyServer, BadInputIsIgnoredWithTheConnectionKept) {
  start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/r?_pk=a");
    auto b = co_await connect(server->port(), "/party/r?_pk=b");
    (void)co_await recv_type(*a, "presence");
    (void)co_await recv_type(*b, "presence");
    (void)co_await recv_type(*a, "presence");  // b's join

    b->binary(true);
    std::string bytes = "\x00\xff{\"type\":\"ping\"}";
    co_await b->async_write(asio::buffer(bytes), use_awaitable);
    for (const char* junk : {"not json", "[1,2,3]", R"({"type":5})", R"({"op":"exit"})", R"({"op":"drop","room":"r"})",
                             R"({"type":"state_delta"})",
                             R"({"type":"state_delta","delta":{"add":[null]}})"}) {
      co_await send(*b, junk);
    }
    // Nothing reached a; b is still served, and the rejected deltas took no version.
    co_await send(*b, delta_x);
    Json d = co_await recv(*a);
    EXPECT_EQ(d["type"], "state_delta");
    EXPECT_EQ(d["version"], 1);
    co_await send(*b, R"({"type":"ping"})");
    EXPECT_EQ((co_await recv(*b))["type"], "pong");
    EXPECT_FALSE(server->stopped());
  });
}

TEST_F(MockpartyServer, FrameOverOneMebibyteClosesWith1009) {
  start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/r?_pk=a");
    (void)co_await recv(*a);
    (void)co_await recv(*a);
    const std::string big = R"({"type":"chat_msg","sender":"a","text":")" + std::string(protocol::max_frame_bytes, 'x') + "\"}";
    co_await send(*a, big);
    auto ec = co_await read_error(*a);
    EXPECT_EQ(ec, websocket::error::closed) << ec.message();
    EXPECT_EQ(a->reason().code, 1009);
  });
}

// --- defects in the shell -------------------------------------------------------------

TEST_F(MockpartyServer, CloseFrameGetsNoReplyByDefault) {
  start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/r?_pk=a");
    auto b = co_await connect(server->port(), "/party/r?_pk=b");
    (void)co_await recv_type(*b, "presence");
    (void)co_await recv_type(*a, "presence");
    (void)co_await recv_type(*a, "presence");  // join b

    beast::get_lowest_layer(*b).expires_after(400ms);
    auto [ec] = co_await b->async_close(websocket::close_code::normal, asio::as_tuple(use_awaitable));
    EXPECT_EQ(ec, beast::error::timeout) << ec.message();  // waited in vain for the reply
    // The server did handle the close: a heard the leave.
    Json leave = co_await recv(*a);
    EXPECT_EQ(leave["event"], "leave");
    EXPECT_EQ(leave["id"], "b");
  });
}

TEST_F(MockpartyServer, CloseFrameIsAnsweredWithTheDefectOff) {
  ServerConfig cfg;
  cfg.core.defects.no_close_reply = false;
  start(cfg);
  run([&]() -> awaitable<void> {
    auto b = co_await connect(server->port(), "/party/r?_pk=b");
    (void)co_await recv(*b);
    (void)co_await recv(*b);
    beast::get_lowest_layer(*b).expires_after(3s);
    auto [ec] = co_await b->async_close(websocket::close_code::normal, asio::as_tuple(use_awaitable));
    EXPECT_FALSE(ec) << ec.message();
  });
}

TEST_F(MockpartyServer, ReusedPkOfAnOpenSocketIsAGhost) {
  start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/r?_pk=a");
    auto b = co_await connect(server->port(), "/party/r?_pk=b");
    auto ghost = co_await connect(server->port(), "/party/r?_pk=a");
    EXPECT_EQ((co_await recv(*ghost))["type"], "state_sync");
    EXPECT_EQ((co_await recv(*ghost))["self"], "a");
    co_await send(*b, delta_x);
    EXPECT_EQ((co_await recv_type(*a, "state_delta"))["version"], 1);
    // FIFO per connection: the ghost's next frame is the pong, not the delta.
    co_await send(*ghost, R"({"type":"ping"})");
    EXPECT_EQ((co_await recv(*ghost))["type"], "pong");
  });
}

// --- TLS --------------------------------------------------------------------------------

TEST_F(MockpartyServer, WssWithAThrowawayCa) {
  TempDir tmp;
  ASSERT_TRUE(wibwob::test::make_test_certs(tmp.path(), WIBWOB_OPENSSL_BIN));
  ServerConfig cfg;
  cfg.tls_cert = (tmp.path() / "server.pem").string();
  cfg.tls_key = (tmp.path() / "server.key").string();
  start(cfg);
  EXPECT_EQ(server->url(), "wss://127.0.0.1:" + std::to_string(server->port()));
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file((tmp.path() / "ca.pem").string());
  ctx.set_verify_mode(asio::ssl::verify_peer);
  run([&]() -> awaitable<void> {
    Wss ws(co_await asio::this_coro::executor, ctx);
    auto& lowest = beast::get_lowest_layer(ws);
    lowest.expires_after(5s);
    co_await lowest.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()), use_awaitable);
    ws.next_layer().set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, use_awaitable);
    co_await ws.async_handshake("127.0.0.1", "/party/secure?_pk=t", use_awaitable);
    lowest.expires_never();
    Json sync = co_await recv(ws);
    EXPECT_EQ(sync["room"], "secure");
    co_await send(ws, R"({"type":"ping"})");
    (void)co_await recv(ws);  // presence sync
    EXPECT_EQ((co_await recv(ws))["type"], "pong");

    // A plain ws:// client gets no upgrade from the TLS port.
    auto [ec, plain] = co_await asio::co_spawn(
        co_await asio::this_coro::executor, connect(server->port(), "/party/secure"), asio::as_tuple(use_awaitable));
    EXPECT_TRUE(ec != nullptr || plain == nullptr);
  });
}

// --- faults -----------------------------------------------------------------------------

TEST_F(MockpartyServer, DropRoomAbruptlyOrWithACode) {
  start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/r1?_pk=a");
    auto c = co_await connect(server->port(), "/party/r2?_pk=c");
    (void)co_await recv(*a);
    (void)co_await recv(*a);
    (void)co_await recv(*c);
    (void)co_await recv(*c);
    Json reply = server->control(Json{{"op", "drop"}, {"room", "r1"}});
    EXPECT_EQ(reply, Json::parse(R"({"ok":true,"dropped":1})"));
    auto ec = co_await read_error(*a);
    EXPECT_NE(ec, websocket::error::closed) << "abrupt: no close frame, got " << ec.message();
    EXPECT_NE(ec, beast::error::timeout);
    // The other room is untouched.
    co_await send(*c, R"({"type":"ping"})");
    EXPECT_EQ((co_await recv(*c))["type"], "pong");

    auto a2 = co_await connect(server->port(), "/party/r1?_pk=a2");
    (void)co_await recv(*a2);
    (void)co_await recv(*a2);
    EXPECT_EQ(server->control(Json{{"op", "drop"}, {"room", "r1"}, {"code", 1012}})["dropped"], 1);
    auto ec2 = co_await read_error(*a2);
    EXPECT_EQ(ec2, websocket::error::closed) << ec2.message();
    EXPECT_EQ(a2->reason().code, 1012);
  });
}

TEST_F(MockpartyServer, PauseAcceptThenResumeOnTheSamePort) {
  start();
  const auto port = server->port();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(port, "/party/r?_pk=a");
    (void)co_await recv(*a);
    (void)co_await recv(*a);
    EXPECT_EQ(server->control(Json{{"op", "pause_accept"}, {"ms", 300}})["ok"], true);
    const auto paused_at = steady::now();
    // Refused while paused...
    tcp::socket probe(co_await asio::this_coro::executor);
    auto [ec] = co_await probe.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                             asio::as_tuple(use_awaitable));
    EXPECT_EQ(ec, asio::error::connection_refused) << ec.message();
    // ...existing connections keep working...
    co_await send(*a, R"({"type":"ping"})");
    EXPECT_EQ((co_await recv(*a))["type"], "pong");
    // ...and the same port accepts again: retry until it does (deadline: run()).
    std::unique_ptr<Ws> b;
    while (!b) {
      auto [cec, ws] = co_await asio::co_spawn(co_await asio::this_coro::executor, connect(port, "/party/r?_pk=b"),
                                               asio::as_tuple(use_awaitable));
      if (!cec) {
        b = std::move(ws);
      } else {
        asio::steady_timer t(co_await asio::this_coro::executor, 20ms);  // retry pacing, not a wait for an event
        co_await t.async_wait(use_awaitable);
      }
    }
    EXPECT_GE(steady::now() - paused_at, 290ms);
    EXPECT_EQ(server->port(), port);
    EXPECT_EQ((co_await recv(*b))["type"], "state_sync");
  });
}

TEST_F(MockpartyServer, ResumeAcceptEarly) {
  start();
  const auto port = server->port();
  run([&]() -> awaitable<void> {
    server->control(Json{{"op", "pause_accept"}, {"ms", 600000}});
    EXPECT_EQ(server->control(Json{{"op", "status"}})["accepting"], false);
    EXPECT_EQ(server->control(Json{{"op", "resume_accept"}})["accepting"], true);
    auto b = co_await connect(port, "/party/r");
    EXPECT_EQ((co_await recv(*b))["type"], "state_sync");
  });
}

// Pausing and resuming cancels the listener's coroutine and starts the next
// one; no stale accept loop survives to accept on the reopened listener.
// Cycled quickly (no io between them) while a client connects: exactly one
// accept loop afterwards, and the client is served once it gets in.
TEST_F(MockpartyServer, QuickPauseResumeCyclesLeaveExactlyOneAcceptLoop) {
  start();
  const auto port = server->port();
  EXPECT_EQ(server->listener_tasks(), 1u);
  run([&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    // A connect that is in the backlog when the loop next accepts: the
    // accept completes at once and races the pause below.
    tcp::socket early(ex);
    early.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(server->control(Json{{"op", "pause_accept"}, {"ms", 600000}})["ok"], true);
        EXPECT_EQ(server->control(Json{{"op", "resume_accept"}})["accepting"], true);
      }
      asio::steady_timer t(ex, 5ms);  // let the cancelled loops unwind between rounds
      co_await t.async_wait(use_awaitable);
    }
    EXPECT_EQ(server->listener_tasks(), 1u);
    // A client still gets in, on the same port, and is served.
    std::unique_ptr<Ws> c;
    while (!c) {
      auto [cec, ws] = co_await asio::co_spawn(ex, connect(port, "/party/r?_pk=c"), asio::as_tuple(use_awaitable));
      if (!cec) {
        c = std::move(ws);
      } else {
        asio::steady_timer t(ex, 20ms);  // retry pacing, not a wait for an event
        co_await t.async_wait(use_awaitable);
      }
    }
    EXPECT_EQ((co_await recv(*c))["type"], "state_sync");
    EXPECT_EQ(server->listener_tasks(), 1u);
    // A pause leaves one task (its pending resume), a stop none.
    server->control(Json{{"op", "pause_accept"}, {"ms", 600000}});
    asio::steady_timer t(ex, 5ms);
    co_await t.async_wait(use_awaitable);
    EXPECT_EQ(server->listener_tasks(), 1u);
    EXPECT_EQ(server->control(Json{{"op", "status"}})["accepting"], false);
  });
  server->stop();
  test::run_for(io, 20ms);
  EXPECT_EQ(server->listener_tasks(), 0u);
}

TEST_F(MockpartyServer, DelayDelivery) {
  start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/r?_pk=a");
    auto b = co_await connect(server->port(), "/party/r?_pk=b");
    (void)co_await recv_type(*b, "presence");
    (void)co_await recv_type(*a, "presence");
    (void)co_await recv_type(*a, "presence");
    EXPECT_EQ(server->control(Json{{"op", "set_delay"}, {"ms", 150}})["ok"], true);
    const auto t0 = steady::now();
    co_await send(*a, delta_x);
    co_await send(*a, R"({"type":"ping"})");
    EXPECT_EQ((co_await recv(*b))["version"], 1);
    EXPECT_GE(steady::now() - t0, 150ms);
    EXPECT_EQ((co_await recv(*a))["type"], "pong");
    EXPECT_GE(steady::now() - t0, 150ms);
    server->control(Json{{"op", "set_delay"}, {"ms", 0}});
  });
}

TEST_F(MockpartyServer, RefuseUpgrades) {
  start();
  run([&]() -> awaitable<void> {
    EXPECT_EQ(server->control(Json{{"op", "refuse_upgrades"}, {"on", true}})["ok"], true);
    EXPECT_EQ(co_await http_get(server->port(), "/party/r", true), 503u);
    auto [ec, ws] = co_await asio::co_spawn(co_await asio::this_coro::executor, connect(server->port(), "/party/r"),
                                            asio::as_tuple(use_awaitable));
    EXPECT_TRUE(ec != nullptr);
    server->control(Json{{"op", "refuse_upgrades"}, {"on", false}});
    auto ok = co_await connect(server->port(), "/party/r");
    EXPECT_EQ((co_await recv(*ok))["type"], "state_sync");
    // Without `_pk` the connection id is a random version-4 UUID, as PartyKit's.
    const Json presence = co_await recv(*ok);
    EXPECT_TRUE(presence["self"].is_string()) << presence.dump();
    EXPECT_TRUE(std::regex_match(presence.value("self", std::string()),
                                 std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << presence.dump();
  });
}

TEST_F(MockpartyServer, ControlRejectsMalformedRequests) {
  start();
  for (const char* bad : {R"([])", R"({})", R"({"op":5})", R"({"op":"nope"})", R"({"op":"set_delay","ms":-1})",
                          R"({"op":"set_delay","ms":"5"})", R"({"op":"drop","code":5})", R"({"op":"state"})",
                          R"({"op":"set_defects","no_close_reply":1})", R"({"op":"pause_accept"})"}) {
    Json r = server->control(Json::parse(bad));
    EXPECT_EQ(r["ok"], false) << bad;
    EXPECT_TRUE(r["error"].is_string()) << bad;
  }
  Json d = server->control(Json::parse(R"({"op":"set_defects","leave_count_off_by_one":false})"));
  EXPECT_EQ(d["defects"]["leave_count_off_by_one"], false);
  EXPECT_EQ(d["defects"]["no_close_reply"], true);
  EXPECT_FALSE(server->stopped());
}

// --- persistence, log, flood ------------------------------------------------------------

TEST_F(MockpartyServer, StatePersistsAcrossARestart) {
  TempDir tmp;
  ServerConfig cfg;
  cfg.state_dir = (tmp.path() / "state").string();
  start(cfg);
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/keep%20me?_pk=a");
    auto b = co_await connect(server->port(), "/party/keep%20me?_pk=b");
    co_await send(*a, delta_x);
    EXPECT_EQ((co_await recv_type(*b, "state_delta"))["version"], 1);  // saved before broadcast
  });
  EXPECT_TRUE(fs::exists(tmp.path() / "state" / "keep%20me.json"));
  server->stop();
  TearDown();

  start(cfg);  // a new server process, same directory
  run([&]() -> awaitable<void> {
    auto c = co_await connect(server->port(), "/party/keep%20me?_pk=c");
    Json sync = co_await recv(*c);
    EXPECT_EQ(sync["state"]["version"], 1);
    EXPECT_EQ(sync["state"]["windows"]["x"]["w"], 30);
    auto other = co_await connect(server->port(), "/party/other?_pk=d");
    EXPECT_EQ((co_await recv(*other))["state"]["version"], 0);
  });
}

TEST_F(MockpartyServer, CorruptStateFileStartsEmpty) {
  TempDir tmp;
  std::ofstream(tmp.path() / "r.json") << "{not json";
  ServerConfig cfg;
  cfg.state_dir = tmp.path().string();
  start(cfg);
  run([&]() -> awaitable<void> {
    auto c = co_await connect(server->port(), "/party/r");
    EXPECT_EQ((co_await recv(*c))["state"]["version"], 0);
  });
}

TEST_F(MockpartyServer, MessageLogHasEveryMessageInAndOut) {
  TempDir tmp;
  ServerConfig cfg;
  cfg.log_path = (tmp.path() / "log.jsonl").string();
  start(cfg);
  run([&]() -> awaitable<void> {
    auto a = co_await connect(server->port(), "/party/r?_pk=a");
    auto b = co_await connect(server->port(), "/party/r?_pk=b");
    co_await send(*a, delta_x);
    (void)co_await recv_type(*b, "state_delta");
    // b's pong was written after the delta (one writer per connection), so
    // the delta's "out" line is in the file by now.
    co_await send(*b, R"({"type":"ping"})");
    (void)co_await recv_type(*b, "pong");
  });
  std::ifstream in(cfg.log_path);
  std::string line;
  bool in_seen = false, out_seen = false, sync_seen = false;
  while (std::getline(in, line)) {
    Json j = Json::parse(line);
    ASSERT_TRUE(j["time"].is_number());
    if (j["dir"] == "in" && j["type"] == "state_delta" && j["conn"] == "a" && j["version"] == 1) in_seen = true;
    if (j["dir"] == "out" && j["type"] == "state_delta" && j["conn"] == "b" && j["version"] == 1 && j["room"] == "r")
      out_seen = true;
    if (j["dir"] == "out" && j["type"] == "state_sync" && j["conn"] == "a") sync_seen = true;
  }
  EXPECT_TRUE(in_seen);
  EXPECT_TRUE(out_seen);
  EXPECT_TRUE(sync_seen);
}

TEST_F(MockpartyServer, FloodOfConnections) {
  ServerConfig cfg;
  cfg.handshake_timeout = 40s;
  start(cfg);
  constexpr int n = 300;
  run([&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::unique_ptr<Ws>> clients(n);
    int connected = 0;
    std::string first_error;
    asio::steady_timer all_in(ex, steady::time_point::max());
    for (int i = 0; i < n; ++i) {
      // Every join is broadcast to everyone already in: O(n^2) frames, slow
      // under sanitizers on a busy machine. The point is correctness.
      asio::co_spawn(ex, connect(server->port(), "/party/flood?_pk=c" + std::to_string(i), 40s),
                     [&, i](std::exception_ptr e, std::unique_ptr<Ws> ws) {
                       if (!e) {
                         clients[static_cast<std::size_t>(i)] = std::move(ws);
                       } else if (first_error.empty()) {
                         try {
                           std::rethrow_exception(e);
                         } catch (const std::exception& err) {
                           first_error = err.what();
                         }
                       }
                       if (++connected == n) all_in.cancel();
                     });
    }
    auto [ignored] = co_await all_in.async_wait(asio::as_tuple(use_awaitable));
    (void)ignored;
    for (auto& c : clients) require(c != nullptr, "every client connected; first error: " + first_error);
    EXPECT_EQ(server->core().sockets("flood").size(), static_cast<std::size_t>(n));
    co_await send(*clients[0], delta_x);
    for (int i = 1; i < n; ++i) {
      Json d = co_await recv_type(*clients[static_cast<std::size_t>(i)], "state_delta");
      EXPECT_EQ(d["version"], 1);
    }
  }, 60s);
}

// --- the control socket -----------------------------------------------------------------

TEST_F(MockpartyServer, ControlSocketSpeaksJsonLines) {
  TempDir tmp;
  ServerConfig cfg;
  cfg.control_path = (tmp.path() / "ctl.sock").string();
  start(cfg);
  run([&]() -> awaitable<void> {
    asio::local::stream_protocol::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(asio::local::stream_protocol::endpoint(cfg.control_path), use_awaitable);
    std::string buf;
    auto ask = [&](std::string line) -> awaitable<Json> {
      co_await asio::async_write(s, asio::buffer(line), use_awaitable);
      auto n = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), '\n', use_awaitable);
      Json j = Json::parse(buf.substr(0, n));
      buf.erase(0, n);
      co_return j;
    };
    EXPECT_EQ((co_await ask("garbage\n"))["ok"], false);
    EXPECT_EQ((co_await ask(std::string(100, '[') + "\n"))["ok"], false);
    Json st = co_await ask("{\"op\":\"status\"}\n");
    EXPECT_EQ(st["ok"], true);
    EXPECT_EQ(st["port"], server->port());
    EXPECT_EQ((co_await ask("{\"op\":\"ping\"}\n{\"op\":\"ping\"}\n"))["ok"], true);
    EXPECT_EQ((co_await ask(""))["ok"], true);  // the second line of the pair
    EXPECT_EQ((co_await ask("{\"op\":\"exit\"}\n"))["ok"], true);
    EXPECT_TRUE(server->stopped());
  });
  EXPECT_FALSE(fs::exists(cfg.control_path));
}

// --- the binary -------------------------------------------------------------------------

TEST(MockpartyBinary, PrintsReadyAndExitsCleanlyOnSigtermEvenWithAHalfOpenClient) {
  test::ChildProcess child({WIBWOB_MOCKPARTY_BIN, "--port", "0"});
  ASSERT_TRUE(child.started());
  std::string line = child.read_stdout_until([](const std::string& t) { return t.find('\n') != std::string::npos; }, 10s);
  ASSERT_FALSE(line.empty()) << "no READY line";
  line = line.substr(0, line.find('\n'));
  EXPECT_TRUE(std::regex_match(line, std::regex("READY ws://127\\.0\\.0\\.1:[1-9][0-9]*"))) << line;
  // A client still in its HTTP phase (connected, nothing sent): the server
  // must end it on SIGTERM, not wait for its 10 s handshake deadline.
  asio::io_context io;
  tcp::socket idle(io);
  const auto port = static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
  idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const auto t0 = steady::now();
  ASSERT_TRUE(child.signal(SIGTERM));
  EXPECT_EQ(child.wait(10s), 0);
  EXPECT_LT(steady::now() - t0, 5s) << "SIGTERM waited for a handshake deadline";
}

TEST(MockpartyBinary, HelpExitsZero) {
  const std::string cmd = std::string(WIBWOB_MOCKPARTY_BIN) + " --help >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace wibwob::mockparty
