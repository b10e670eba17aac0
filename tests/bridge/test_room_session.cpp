// RoomSession (bridge/io/room_session.hpp) against the real mock room server
// (mockparty's Beast server, in process) and, for dead peers, a WebSocket
// server that accepts and then never reads. Also the structured-concurrency
// helpers the shells use (bridge/io/cancellation.hpp).
#include <fstream>
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "bridge/io/cancellation.hpp"
#include "bridge/io/room_session.hpp"
#include "bridge/io/tls_module.hpp"
#include "mockparty/server/server.hpp"
#include "tests/support/io_test_support.hpp"

using namespace std::chrono_literals;
using namespace wibwob;
using bridge::RoomEvent;
using bridge::RoomSessionConfig;
using test::run_for;
using test::run_until;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace room_event = bridge::room_event;

namespace {

class RoomSession : public ::testing::Test {
 protected:
  asio::io_context io;
  std::unique_ptr<mockparty::Server> server;
  std::unique_ptr<bridge::RoomSession> session;
  test::TempDir dir{"wibwob-room-session"};
  std::vector<RoomEvent> events;
  asio::cancellation_signal stop;
  bool finished = false;
  std::exception_ptr failure;

  void TearDown() override {
    if (session && !finished) {
      stop.emit(asio::cancellation_type::terminal);
      run_until(io, [&] { return finished; }, 5s);
    }
    if (server) server->stop();
    // Let every coroutine finish while the objects it uses still exist.
    io.restart();
    io.run_for(std::chrono::seconds(5));
  }

  void start_server(mockparty::ServerConfig cfg = {}) {
    server = std::make_unique<mockparty::Server>(io, std::move(cfg));
    auto started = server->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  void start_tls_server(const char* cert, const char* key) {
    ASSERT_TRUE(test::make_test_certs(dir.path(), WIBWOB_OPENSSL_BIN));
    mockparty::ServerConfig c;
    c.tls_cert = dir / cert;
    c.tls_key = dir / key;
    start_server(c);
  }
  std::string https_url(const std::string& host) { return "https://" + host + ":" + std::to_string(server->port()); }
  // A wss:// connection to a server with this certificate is refused.
  void expect_tls_refused(const char* cert, const char* key, const std::string& host, bool with_ca) {
    start_tls_server(cert, key);
    auto cfg = config_for(https_url(host));
    if (with_ca) cfg.ca_file = dir / "ca.pem";
    start_session(cfg);
    session->connect();
    ASSERT_TRUE(wait_closed());
    EXPECT_EQ(count<room_event::Opened>(), 0u);
    EXPECT_NE(last_close_reason().find("certificate verify failed"), std::string::npos) << last_close_reason();
  }

  RoomSessionConfig config_for(const std::string& url) {
    RoomSessionConfig c;
    auto e = bridge::parse_room_endpoint(url, "room-session-test");
    EXPECT_TRUE(e.ok());
    c.endpoint = *e;
    c.connect_timeout = 3000ms;
    return c;
  }

  void start_session(RoomSessionConfig c) {
    session = std::make_unique<bridge::RoomSession>(io.get_executor(), std::move(c),
                                            [this](RoomEvent ev) { events.push_back(std::move(ev)); });
    asio::co_spawn(io, bridge::until_cancelled(session->run()),
                   asio::bind_cancellation_slot(stop.slot(), [this](std::exception_ptr e) {
                     finished = true;
                     failure = e;
                   }));
  }

  std::string describe_failure() const {
    if (!failure) return "nothing";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return e.what();
    }
  }

  // Starts the session, asks it to connect and waits for the connection.
  bool open_session(RoomSessionConfig c) {
    start_session(std::move(c));
    session->connect();
    return wait_opened();
  }

  template <class T>
  std::size_t count() const {
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [](const RoomEvent& e) { return std::holds_alternative<T>(e); }));
  }
  std::size_t frames_of_type(const std::string& type) const {
    std::size_t n = 0;
    for (const auto& e : events)
      if (auto* f = std::get_if<room_event::Frame>(&e))
        if (protocol::Json::parse(f->text, nullptr, false).value("type", "") == type) ++n;
    return n;
  }
  std::string last_close_reason() const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (auto* c = std::get_if<room_event::Closed>(&*it)) return c->reason;
    return "";
  }
  bool wait_opened(std::size_t n = 1) {
    return run_until(io, [&] { return count<room_event::Opened>() >= n; }, 5s);
  }
  bool wait_closed(std::size_t n = 1, std::chrono::milliseconds d = 5s) {
    return run_until(io, [&] { return count<room_event::Closed>() >= n; }, d);
  }
  // The connection answers: a ping gets its pong.
  bool round_trip() {
    const auto before = frames_of_type("pong");
    session->send(R"({"type":"ping"})");
    return run_until(io, [&] { return frames_of_type("pong") > before; }, 5s);
  }
};

}  // namespace

TEST_F(RoomSession, OpensReceivesTheStateAndSends) {
  start_server();
  ASSERT_TRUE(open_session(config_for(server->url())));
  EXPECT_TRUE(run_until(io, [&] { return frames_of_type("state_sync") == 1; }));
  EXPECT_TRUE(round_trip());
  EXPECT_EQ(count<room_event::Closed>(), 0u);
}

// The earlier shell's last fix (a late close touching a newer connection)
// landed without a test. A close followed at once by a connect must end the
// first connection exactly once and leave the second one alone, also after
// the first one's close timeout has passed.
TEST_F(RoomSession, CloseThenConnectLeavesTheNewerConnectionAlone) {
  start_server();
  auto cfg = config_for(server->url());
  cfg.close_timeout = 200ms;
  ASSERT_TRUE(open_session(cfg));
  session->close("first one done");
  session->connect();
  ASSERT_TRUE(wait_opened(2));
  ASSERT_EQ(count<room_event::Closed>(), 1u);
  EXPECT_EQ(last_close_reason(), "first one done");
  run_for(io, 3 * cfg.close_timeout);
  EXPECT_EQ(count<room_event::Closed>(), 1u);
  EXPECT_TRUE(round_trip());
  EXPECT_EQ(server->connection_count(), 1u);
}

TEST_F(RoomSession, CloseWhileWritesAreQueuedFlushesThemThenCloses) {
  mockparty::ServerConfig sc;
  sc.log_path = dir / "messages.jsonl";
  start_server(sc);
  ASSERT_TRUE(open_session(config_for(server->url())));
  ASSERT_TRUE(run_until(io, [&] { return frames_of_type("state_sync") == 1; }));
  for (int i = 0; i < 20; ++i) session->send(R"({"type":"ping"})");
  session->close("bye");
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(last_close_reason(), "bye");
  EXPECT_EQ(count<room_event::Closed>(), 1u);
  // Requests run in order: every queued frame reached the server before the
  // close frame (the server logs each message it reads).
  auto pings_read = [&] {
    std::ifstream log(dir / "messages.jsonl");
    std::size_t n = 0;
    for (std::string line; std::getline(log, line);) {
      auto j = protocol::Json::parse(line, nullptr, false);
      if (j.value("dir", "") == "in" && j.value("type", "") == "ping") ++n;
    }
    return n;
  };
  EXPECT_TRUE(run_until(io, [&] { return pings_read() == 20u; }));
  // Sends after the close belong to no connection and are dropped.
  session->send(R"({"type":"ping"})");
  session->connect();
  ASSERT_TRUE(wait_opened(2));
  EXPECT_TRUE(round_trip());
  EXPECT_EQ(pings_read(), 21u);
}

TEST_F(RoomSession, AFullWriteQueueClosesTheConnection) {
  start_server();
  auto cfg = config_for(server->url());
  cfg.max_queue = 8;
  ASSERT_TRUE(open_session(cfg));
  for (int i = 0; i < 30; ++i) session->send(R"({"type":"ping"})");
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(last_close_reason(), "send queue full (8 frames)");
  EXPECT_EQ(count<room_event::Closed>(), 1u);
  session->connect();
  ASSERT_TRUE(wait_opened(2));
  EXPECT_TRUE(round_trip());
}

namespace {

// Accepts WebSocket upgrades and then never reads: pings go unanswered.
asio::awaitable<void> silent_server(asio::ip::tcp::acceptor& acceptor,
                                    std::vector<std::unique_ptr<beast::websocket::stream<beast::tcp_stream>>>& held) {
  for (;;) {
    auto sock = co_await acceptor.async_accept(asio::use_awaitable);
    auto ws = std::make_unique<beast::websocket::stream<beast::tcp_stream>>(std::move(sock));
    co_await ws->async_accept(asio::use_awaitable);
    held.push_back(std::move(ws));
  }
}

}  // namespace

TEST_F(RoomSession, IdleTimeoutKeepsALivePeer) {
  start_server();
  auto cfg = config_for(server->url());
  cfg.idle_timeout = 400ms;
  ASSERT_TRUE(open_session(cfg));
  // mockparty answers the keep-alive pings: the connection outlives many idle periods.
  run_for(io, 5 * cfg.idle_timeout);
  EXPECT_EQ(count<room_event::Closed>(), 0u);
  EXPECT_TRUE(round_trip());
}

TEST_F(RoomSession, IdleTimeoutDropsAPeerThatStoppedAnswering) {
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::vector<std::unique_ptr<beast::websocket::stream<beast::tcp_stream>>> held;
  asio::co_spawn(io, silent_server(acceptor, held), [](std::exception_ptr) {});
  auto cfg = config_for("ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));
  cfg.idle_timeout = 400ms;
  cfg.close_timeout = 100ms;
  ASSERT_TRUE(open_session(cfg));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_closed(1, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_NE(last_close_reason().find("timed out"), std::string::npos) << last_close_reason();
  acceptor.close();
}

TEST_F(RoomSession, AServerThatNeverAnswersTheCloseCostsOnlyTheCloseTimeout) {
  start_server();  // mockparty's default is the real server: no close reply
  auto cfg = config_for(server->url());
  cfg.close_timeout = 300ms;
  ASSERT_TRUE(open_session(cfg));
  const auto t0 = std::chrono::steady_clock::now();
  session->close("done");
  ASSERT_TRUE(wait_closed());
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(last_close_reason(), "done");
  EXPECT_GE(took, cfg.close_timeout - 50ms);  // it did wait for an answer that never came
  EXPECT_LT(took, cfg.close_timeout + 2s);
}

TEST_F(RoomSession, CancellationClosesTheConnectionAndEndsRun) {
  start_server();
  auto cfg = config_for(server->url());
  cfg.close_timeout = 200ms;
  ASSERT_TRUE(open_session(cfg));
  ASSERT_TRUE(run_until(io, [&] { return server->connection_count() == 1; }));
  stop.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(io, [&] { return finished; }, 3s));
  EXPECT_FALSE(failure) << "cancellation is a normal end; got: " << describe_failure();
  EXPECT_EQ(last_close_reason(), "bridge stopping");
  // The server sees the socket go.
  EXPECT_TRUE(run_until(io, [&] { return server->connection_count() == 0; }, 5s));
}

TEST_F(RoomSession, AFailedConnectIsExactlyOneClosedEvent) {
  asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();  // nothing listens there now
  start_session(config_for("ws://127.0.0.1:" + std::to_string(port)));
  session->connect();
  ASSERT_TRUE(wait_closed());
  run_for(io, 100ms);
  EXPECT_EQ(count<room_event::Opened>(), 0u);
  EXPECT_EQ(count<room_event::Closed>(), 1u);
  EXPECT_NE(last_close_reason().find("refused"), std::string::npos) << last_close_reason();
}

// --- TLS ------------------------------------------------------------------------------

TEST_F(RoomSession, TlsRefusesASelfSignedServer) {
  expect_tls_refused("self.pem", "self.key", "127.0.0.1", false);
  EXPECT_NE(last_close_reason().find("TLS"), std::string::npos) << last_close_reason();
  EXPECT_NE(last_close_reason().find("--ca-file"), std::string::npos) << last_close_reason();
}

TEST_F(RoomSession, TlsRefusesAServerSignedByAnUnknownCa) {
  expect_tls_refused("server.pem", "server.key", "127.0.0.1", false);  // no --ca-file
}

TEST_F(RoomSession, TlsRefusesAWrongHostName) {
  expect_tls_refused("server.pem", "server.key", "localhost", true);  // the certificate names 127.0.0.1 only
}

TEST_F(RoomSession, TlsWorksWithTheCaFile) {
  start_tls_server("server.pem", "server.key");
  auto cfg = config_for(https_url("127.0.0.1"));
  cfg.ca_file = dir / "ca.pem";
  ASSERT_TRUE(open_session(cfg));
  EXPECT_TRUE(round_trip());
}

TEST(RoomSessionConfig, AnUnreadableCaFileIsAClearStartupError) {
  RoomSessionConfig c;
  c.endpoint = *bridge::parse_room_endpoint("wss://127.0.0.1:1", "r");
  c.ca_file = "/nonexistent/ca.pem";
  asio::io_context io;
  EXPECT_THROW(bridge::RoomSession(io.get_executor(), c, [](RoomEvent) {}), std::exception);
}

// --- the TLS module (bridge/io/tls_module.hpp) ----------------------------------------

TEST(TlsModule, TheBuiltModuleLoadsAndMakesAConnector) {
  auto api = bridge::load_tls_module();
  ASSERT_TRUE(api) << api.error().message;
  EXPECT_EQ(std::string((*api)->abi), bridge::tls_module_abi());
  EXPECT_EQ(std::string((*api)->tls_library()).rfind("OpenSSL", 0), 0u) << (*api)->tls_library();
  RoomSessionConfig c;
  c.endpoint = *bridge::parse_room_endpoint("wss://127.0.0.1:1", "r");
  EXPECT_NE((*api)->make_connector(c), nullptr);
  EXPECT_EQ(bridge::tls_support().rfind("wss:// rooms: TLS module loaded (OpenSSL", 0), 0u) << bridge::tls_support();
}

TEST(TlsModule, AMissingModuleIsAnErrorThatSaysWhatToInstall) {
  auto api = bridge::load_tls_module_at("/nonexistent/wibwob-bridge-tls.so");
  ASSERT_FALSE(api);
  EXPECT_NE(api.error().message.find("/nonexistent/wibwob-bridge-tls.so"), std::string::npos) << api.error().message;
  EXPECT_NE(api.error().message.find("installed with wibwob-bridge"), std::string::npos);
}

TEST(TlsModule, AFileThatIsNoModuleIsRefused) {
  wibwob::test::TempDir tmp;
  const auto path = (tmp.path() / "wibwob-bridge-tls.so").string();
  std::ofstream(path) << "#!/bin/sh\necho not a shared object\n";
  auto api = bridge::load_tls_module_at(path);
  ASSERT_FALSE(api);
  EXPECT_NE(api.error().message.find(path), std::string::npos) << api.error().message;
}

TEST(TlsModule, ASharedObjectWithoutTheEntryPointIsRefused) {
  auto api = bridge::load_tls_module_at("libm.so.6");
  ASSERT_FALSE(api);
  EXPECT_NE(api.error().message.find("has no wibwob_bridge_tls_module_v1"), std::string::npos) << api.error().message;
}

TEST(TlsModule, AModuleBuiltForAnotherBridgeIsRefused) {
  auto api = bridge::load_tls_module_at(WIBWOB_OTHER_ABI_MODULE);
  ASSERT_FALSE(api);
  EXPECT_NE(api.error().message.find("built for another wibwob-bridge (wibwob-bridge 0.0.0 built elsewhere; this one: " +
                                     bridge::tls_module_abi() + ")"),
            std::string::npos)
      << api.error().message;
}

// --- structured concurrency helpers --------------------------------------------------

TEST(Cancellation, AnExceptionInOneLoopReachesTheTopLevelHandler) {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  auto idle = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, std::chrono::hours(1));
    co_await t.async_wait(asio::use_awaitable);
  };
  auto broken = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, 10ms);
    co_await t.async_wait(asio::use_awaitable);
    throw std::logic_error("engine bug");
  };
  asio::co_spawn(io, bridge::until_cancelled(idle()) && bridge::until_cancelled(broken()), bridge::rethrow{});
  try {
    io.run();
    FAIL() << "the exception vanished";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "engine bug");
  }
}

TEST(Cancellation, CancelledLoopsEndNormally) {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  auto idle = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, std::chrono::hours(1));
    co_await t.async_wait(asio::use_awaitable);
  };
  asio::cancellation_signal stop;
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, bridge::until_cancelled(idle()) && bridge::until_cancelled(idle()),
                 asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                   done = true;
                   error = e;
                 }));
  asio::post(io, [&] { stop.emit(asio::cancellation_type::terminal); });
  io.run();  // returns: nothing is left once both loops ended
  EXPECT_TRUE(done);
  EXPECT_FALSE(error);
}

TEST(Cancellation, AnAbortThatNobodyAskedForIsNotSwallowed) {
  asio::io_context io;
  auto aborts = []() -> asio::awaitable<void> {
    throw boost::system::system_error(asio::error::operation_aborted);
    co_return;
  };
  asio::co_spawn(io, bridge::until_cancelled(aborts()), bridge::rethrow{});
  EXPECT_THROW(io.run(), boost::system::system_error);
}
