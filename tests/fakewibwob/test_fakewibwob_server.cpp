// Tests for the fakewibwob server over real Unix sockets in a fresh temp
// directory: the app's transport quirks, auth, subscribers, the control
// plane, hostile input, socket-file handling, and the binary itself.
//
// The io_context runs in the test thread. Waiting is always for an
// observable event with a deadline (run_until); the few negative checks
// ("nothing happened") run the loop for a bounded time and then look.
#include "fakewibwob/server/server.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/io_test_support.hpp"

#include <csignal>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace fw = wibwob::fakewibwob;
namespace ipc = wibwob::protocol::ipc;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fw::unix_socket;
using Json = ipc::Json;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

using wibwob::test::run_for;
using wibwob::test::run_until;
using wibwob::test::TempDir;

using wibwob::test::await;
using wibwob::test::Pending;

template <class T>
std::shared_ptr<Pending<T>> spawn(asio::io_context& io, asio::awaitable<T> a) {
  return wibwob::test::spawn_pending(io, std::move(a));
}

asio::awaitable<std::string> read_to_eof(unix_socket& s) {
  std::string out;
  std::array<char, 4096> b{};
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(b), nothrow);
    out.append(b.data(), n);
    if (ec) break;
  }
  co_return out;
}

// One line ("" on EOF before a full line).
asio::awaitable<std::string> read_line(unix_socket& s, std::string& buf) {
  auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), '\n', nothrow);
  if (ec) co_return std::string();
  std::string line = buf.substr(0, n);
  buf.erase(0, n);
  co_return line;
}

// The app protocol as a well-behaved client uses it: connect, write one
// line, read the reply to EOF, close.
asio::awaitable<std::string> ipc_exchange(std::string path, std::string line) {
  unix_socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(asio::local::stream_protocol::endpoint(path), asio::use_awaitable);
  co_await asio::async_write(s, asio::buffer(line), asio::use_awaitable);
  co_return co_await read_to_eof(s);
}

// Connects and reports the error code (connection_refused when not listening).
asio::awaitable<boost::system::error_code> try_connect(std::string path) {
  unix_socket s(co_await asio::this_coro::executor);
  auto [ec] = co_await s.async_connect(asio::local::stream_protocol::endpoint(path), nothrow);
  co_return ec;
}

// A subscriber that records every line until EOF.
asio::awaitable<int> subscribe(std::string path, std::shared_ptr<std::vector<std::string>> lines) {
  unix_socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(asio::local::stream_protocol::endpoint(path), asio::use_awaitable);
  co_await asio::async_write(s, asio::buffer(std::string("cmd:subscribe_events\n")), asio::use_awaitable);
  std::string buf;
  for (;;) {
    std::string line = co_await read_line(s, buf);
    if (line.empty()) break;
    lines->push_back(std::move(line));
  }
  co_return 0;
}

class FakeServer : public ::testing::Test {
 protected:
  fw::ServerConfig config() {
    fw::ServerConfig cfg;
    cfg.socket_path = dir / "app.sock";
    cfg.control_path = dir / "ctl.sock";
    cfg.ui_tick = 0ms;
    cfg.crash = [this] { ++crashes; };
    return cfg;
  }
  void start(fw::ServerConfig cfg) {
    app_path = cfg.socket_path;
    ctl_path = cfg.control_path;
    server = std::make_unique<fw::Server>(io, std::move(cfg));
    server->on_exit = [this](int code) { exit_code = code; };
    auto started = server->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }
  void TearDown() override {
    if (server) server->stop();
    // Let every coroutine see its socket closed and finish.
    io.restart();
    io.run_for(2s);
    server.reset();
  }
  std::string send(const std::string& line) { return await(io, ipc_exchange(app_path, line)); }

  TempDir dir;
  asio::io_context io;
  std::unique_ptr<fw::Server> server;
  std::string app_path, ctl_path;
  std::optional<int> exit_code;
  int crashes = 0;
};

// --- the app protocol over a socket ------------------------------------------------------

TEST_F(FakeServer, OneCommandPerConnection) {
  start(config());
  EXPECT_EQ(send("cmd:create_window type=verse\n"), "{\"success\":true,\"id\":\"w1\"}\n");
  EXPECT_EQ(send("cmd:create_window type=text_editor\n"), "{\"success\":true}\n");
  auto st = ipc::parse_get_state(send("cmd:get_state\n"));
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->windows.size(), 2u);
  EXPECT_EQ(st->windows[0].id, "w2");
  EXPECT_EQ(send("cmd:nope\n"), "err unknown cmd\n");
  EXPECT_EQ(server->connections_served(), 4u);
}

TEST_F(FakeServer, ManyClientsAtOnce) {
  start(config());
  std::vector<std::shared_ptr<Pending<std::string>>> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(spawn(io, ipc_exchange(app_path, "cmd:create_window type=verse\n")));
  ASSERT_TRUE(run_until(io, [&] {
    return std::all_of(clients.begin(), clients.end(), [](const auto& c) { return c->done; });
  }));
  std::set<std::string> ids;
  for (const auto& c : clients) {
    ASSERT_FALSE(c->error);
    const auto r = ipc::classify_reply(*c->value);
    ASSERT_EQ(r.kind, ipc::ReplyKind::success) << *c->value;
    ids.insert(r.id.value_or(""));
  }
  EXPECT_EQ(ids.size(), 50u);
  for (int i = 1; i <= 50; ++i) EXPECT_EQ(ids.count("w" + std::to_string(i)), 1u);
  EXPECT_EQ(server->app().journal().size(), 50u);
}

TEST_F(FakeServer, SilentClientStallsEveryone) {
  start(config());
  unix_socket silent(io);
  silent.connect(asio::local::stream_protocol::endpoint(app_path));
  ASSERT_TRUE(run_until(io, [&] { return server->connections_served() == 1; }));
  auto other = spawn(io, ipc_exchange(app_path, "cmd:get_state\n"));
  run_for(io, 150ms);
  EXPECT_FALSE(other->done);  // the app is stuck in the silent client's read
  EXPECT_TRUE(server->app().journal().empty());
  silent.close();
  ASSERT_TRUE(run_until(io, [&] { return other->done; }));
  EXPECT_TRUE(ipc::parse_get_state(*other->value).ok());
}

TEST_F(FakeServer, ClientThatNeverClosesAfterTheReplyStallsEveryone) {
  start(config());
  unix_socket lingering(io);
  lingering.connect(asio::local::stream_protocol::endpoint(app_path));
  asio::write(lingering, asio::buffer(std::string("cmd:get_state\n")));
  std::string buf;
  const std::string reply = await(io, read_line(lingering, buf));
  EXPECT_TRUE(ipc::parse_get_state(reply).ok());
  auto other = spawn(io, ipc_exchange(app_path, "cmd:get_state\n"));
  run_for(io, 150ms);
  EXPECT_FALSE(other->done);  // the app waits for the first client to close
  lingering.close();
  ASSERT_TRUE(run_until(io, [&] { return other->done; }));
}

TEST_F(FakeServer, UiTickSpacesBackToBackCommands) {
  auto cfg = config();
  cfg.ui_tick = 20ms;
  start(cfg);
  const auto t0 = steady::now();
  for (int i = 0; i < 6; ++i) ASSERT_EQ(send("cmd:room_chat_display_name\n"), "\n");
  // Six connections need at least five tick gaps.
  EXPECT_GE(steady::now() - t0, 100ms);
}

TEST_F(FakeServer, TwoLinesInOneWriteAreOneCommand) {
  start(config());
  send("cmd:create_window type=verse\n");
  EXPECT_EQ(send("cmd:get_state\ncmd:move_window id=w1 x=5 y=6\n"), "{\"success\":true}\n");
  EXPECT_EQ(server->app().desktop().windows()[0].bounds.x, 5);
}

// --- hostile input -------------------------------------------------------------------------

TEST_F(FakeServer, GarbageNulNonUtf8AndLongLines) {
  start(config());
  EXPECT_EQ(send("garbage garbage\n"), "err unknown cmd\n");
  EXPECT_EQ(send(std::string("\0\0\0\n", 4)), "err unknown cmd\n");
  EXPECT_EQ(send("cmd:\xff\xfe\xc3\x28 a=\x80\n"), "err unknown cmd\n");
  EXPECT_EQ(send("\n"), "err unknown cmd\n");
  // 10 KB: only the first 2047 bytes are read; the rest is drained and lost.
  const std::string big = "cmd:create_window type=verse pad=" + std::string(10 * 1024, 'a') + " type=life\n";
  EXPECT_EQ(send(big), "{\"success\":true,\"id\":\"w1\"}\n");
  EXPECT_EQ(server->app().desktop().windows()[0].type, "verse");
  EXPECT_EQ(server->app().journal().back().raw.size(), ipc::max_request_bytes);
  // Still serving.
  EXPECT_TRUE(ipc::parse_get_state(send("cmd:get_state\n")).ok());
}

TEST_F(FakeServer, ClientsThatLeaveEarlyDoNotHurt) {
  start(config());
  for (int i = 0; i < 300; ++i) ASSERT_EQ(server->control({{"op", "open"}, {"type", "verse"}})["ok"], true);
  // Connects and leaves without writing.
  { unix_socket s(io); s.connect(asio::local::stream_protocol::endpoint(app_path)); }
  // Asks for a big get_state and leaves before the reply (mid-reply for the server).
  {
    unix_socket s(io);
    s.connect(asio::local::stream_protocol::endpoint(app_path));
    asio::write(s, asio::buffer(std::string("cmd:get_state\n")));
  }
  // Writes half a command and leaves.
  {
    unix_socket s(io);
    s.connect(asio::local::stream_protocol::endpoint(app_path));
    asio::write(s, asio::buffer(std::string("cmd:get_st")));
  }
  auto st = ipc::parse_get_state(send("cmd:get_state\n"));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->windows.size(), 300u);
  EXPECT_EQ(server->app().journal().back().raw, "cmd:get_state\n");
}

// --- auth --------------------------------------------------------------------------------------

struct AuthTranscript {
  std::string challenge, verdict, reply;
};

// mode: 0 answer then command; 1 answer and command in one write; 2 never answer.
asio::awaitable<AuthTranscript> auth_client(std::string path, std::string secret, std::string cmd, int mode) {
  AuthTranscript t;
  unix_socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(asio::local::stream_protocol::endpoint(path), asio::use_awaitable);
  std::string buf;
  t.challenge = co_await read_line(s, buf);
  if (mode == 2) {
    t.verdict = co_await read_line(s, buf);
    std::string rest = co_await read_to_eof(s);
    t.reply = buf + rest;
    co_return t;
  }
  auto answer = ipc::answer_challenge(t.challenge, secret);
  const std::string a = answer.ok() ? *answer : std::string("bad\n");
  // Named, not a temporary inside co_await: GCC 12 mishandles temporaries
  // of a conditional expression across a suspension (double free).
  const std::string payload = mode == 1 ? a + cmd : a;
  co_await asio::async_write(s, asio::buffer(payload), asio::use_awaitable);
  t.verdict = co_await read_line(s, buf);
  if (mode == 0 && ipc::classify_auth_result(t.verdict) == ipc::AuthResult::ok)
    co_await asio::async_write(s, asio::buffer(cmd), nothrow);
  std::string rest = co_await read_to_eof(s);
  t.reply = buf + rest;
  co_return t;
}

TEST_F(FakeServer, AuthSuccessFailureLostCommandAndTimeout) {
  auto cfg = config();
  cfg.secret = "s3cret";
  cfg.auth_step_timeout = 200ms;
  start(cfg);

  auto ok = await(io, auth_client(app_path, "s3cret", "cmd:create_window type=verse\n", 0));
  ASSERT_TRUE(ipc::parse_challenge(ok.challenge).ok()) << ok.challenge;
  EXPECT_EQ(ok.verdict, "{\"type\":\"auth_ok\"}\n");
  EXPECT_EQ(ok.reply, "{\"success\":true,\"id\":\"w1\"}\n");

  auto bad = await(io, auth_client(app_path, "wrong", "cmd:get_state\n", 0));
  EXPECT_EQ(bad.verdict, "{\"error\":\"auth_failed\"}\n");
  EXPECT_EQ(bad.reply, "");  // closed after the failure

  // A command written before auth_ok is lost: auth_ok, then no reply.
  auto lost = await(io, auth_client(app_path, "s3cret", "cmd:create_window type=life\n", 1));
  EXPECT_EQ(lost.verdict, "{\"type\":\"auth_ok\"}\n");
  EXPECT_EQ(lost.reply, "");
  EXPECT_EQ(server->app().desktop().windows().size(), 1u);

  const auto t0 = steady::now();
  auto slow = await(io, auth_client(app_path, "s3cret", "", 2));
  EXPECT_GE(steady::now() - t0, 200ms);
  EXPECT_EQ(slow.verdict, "{\"error\":\"auth_failed\"}\n");
  EXPECT_EQ(slow.reply, "");

  // A client without the secret writes its command at once: it is taken as
  // the auth answer and fails; the first thing it sees is the challenge.
  const std::string plain = send("cmd:get_state\n");
  auto nl = plain.find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_EQ(ipc::parse_challenge(plain.substr(0, nl + 1)).ok(), true);
  EXPECT_EQ(plain.substr(nl + 1), "{\"error\":\"auth_failed\"}\n");

  // Only the successful command reached the app.
  ASSERT_EQ(server->app().journal().size(), 1u);
  EXPECT_EQ(server->app().journal()[0].command.name, "create_window");
}

// --- events ------------------------------------------------------------------------------------

TEST_F(FakeServer, SubscribersGetGlobalSeqAndNoPersonEvents) {
  start(config());
  auto a = std::make_shared<std::vector<std::string>>();
  auto b = std::make_shared<std::vector<std::string>>();
  spawn(io, subscribe(app_path, a));
  spawn(io, subscribe(app_path, b));
  ASSERT_TRUE(run_until(io, [&] { return server->subscriber_count() == 2; }));
  send("cmd:create_window type=verse\n");
  ASSERT_EQ(server->control({{"op", "move"}, {"id", "w1"}, {"x", 1}, {"y", 1}})["ok"], true);   // no event
  ASSERT_EQ(server->control({{"op", "focus"}, {"id", "w1"}})["ok"], true);                        // no event
  send("cmd:focus_window id=w1\n");                                                               // no event
  send("cmd:move_window id=w1 x=3 y=4\n");
  send("cmd:resize_window id=w1 width=30 height=10\n");
  send("cmd:close_window id=w1\n");
  const std::vector<std::pair<std::int64_t, std::string>> want{
      {1, "state_changed"}, {2, "state_changed"}, {3, "state_changed"}, {4, "window_closed"}, {5, "state_changed"}};
  ASSERT_TRUE(run_until(io, [&] { return a->size() == 6 && b->size() == 6; }));
  for (const auto& lines : {a, b}) {
    EXPECT_EQ((*lines)[0], "{\"type\":\"subscribed\"}\n");
    for (std::size_t i = 0; i < want.size(); ++i) {
      auto ev = ipc::parse_event_line((*lines)[i + 1]);
      ASSERT_TRUE(ev.ok());
      const auto& e = std::get<ipc::Event>(*ev);
      EXPECT_EQ(e.seq, want[i].first);
      EXPECT_EQ(e.event, want[i].second);
      EXPECT_EQ(e.window_id(), "w1");
    }
  }
  // Push-only: what a subscriber writes is never read or answered.
  run_for(io, 50ms);
  EXPECT_EQ(a->size(), 6u);
}

TEST_F(FakeServer, SlowSubscriberIsDroppedFastOneKeepsEverything) {
  auto cfg = config();
  cfg.subscriber_sndbuf = 4096;
  start(cfg);
  unix_socket slow(io);  // subscribes, then never reads
  slow.connect(asio::local::stream_protocol::endpoint(app_path));
  asio::write(slow, asio::buffer(std::string("cmd:subscribe_events\n")));
  auto fast = std::make_shared<std::vector<std::string>>();
  spawn(io, subscribe(app_path, fast));
  ASSERT_TRUE(run_until(io, [&] { return server->subscriber_count() == 2; }));
  int fired = 0;
  while (server->subscriber_count() == 2 && fired < 20000) {
    ASSERT_EQ(server->control({{"op", "open"}, {"type", "verse"}})["ok"], true);
    ++fired;
    if (io.stopped()) io.restart();
    io.poll();  // let the fast subscriber read
  }
  EXPECT_EQ(server->subscriber_count(), 1u);
  EXPECT_LT(fired, 20000);
  ASSERT_TRUE(run_until(io, [&] { return fast->size() == static_cast<std::size_t>(fired) + 1; }));
  auto last = ipc::parse_event_line(fast->back());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(std::get<ipc::Event>(*last).seq, fired);
}

// --- control plane -------------------------------------------------------------------------------

// A control-plane client: one JSON line out, one JSON line back.
class ControlClient {
 public:
  ControlClient(asio::io_context& io, const std::string& path) : io_(io), s_(io) {
    s_.connect(asio::local::stream_protocol::endpoint(path));
  }
  Json call_raw(const std::string& line) {
    return await(io_, [](ControlClient* self, std::string l) -> asio::awaitable<Json> {
      co_await asio::async_write(self->s_, asio::buffer(l), asio::use_awaitable);
      const std::string reply = co_await read_line(self->s_, self->buf_);
      co_return Json::parse(reply.empty() ? std::string("null") : reply);
    }(this, line + "\n"));
  }
  Json call(const Json& j) { return call_raw(j.dump()); }

 private:
  asio::io_context& io_;
  unix_socket s_;
  std::string buf_;
};

TEST_F(FakeServer, ControlPlanePersonActionsStateAndJournal) {
  start(config());
  ControlClient ctl(io, ctl_path);
  EXPECT_EQ(ctl.call(Json{{"op", "ping"}})["ok"], true);
  auto opened = ctl.call(Json{{"op", "open"}, {"type", "frame_player"}, {"path", "/x.txt"}, {"x", 1}, {"y", 2}, {"w", 30}, {"h", 10}});
  EXPECT_EQ(opened["id"], "w1");
  EXPECT_EQ(ctl.call(Json{{"op", "open"}, {"type", "scramble"}})["error"], "unsupported type");
  EXPECT_EQ(ctl.call(Json{{"op", "move"}, {"id", "w1"}, {"x", 9}, {"y", 8}})["ok"], true);
  EXPECT_EQ(ctl.call(Json{{"op", "resize"}, {"id", "w1"}, {"w", 40}, {"h", 12}})["ok"], true);
  EXPECT_EQ(ctl.call(Json{{"op", "move"}, {"id", "w7"}, {"x", 9}, {"y", 8}})["error"], "Window not found");
  auto st = ctl.call(Json{{"op", "state"}});
  ASSERT_EQ(st["windows"].size(), 1u);
  EXPECT_EQ(st["windows"][0]["x"], 9);
  EXPECT_EQ(st["windows"][0]["w"], 40);
  EXPECT_EQ(st["windows"][0]["path"], "/x.txt");
  EXPECT_TRUE(ipc::parse_get_state(st["get_state"].get<std::string>()).ok());
  // Person actions are not IPC commands: the journal has only real ones.
  EXPECT_TRUE(ctl.call(Json{{"op", "journal"}})["entries"].empty());
  send("cmd:create_window type=verse\n");
  send("cmd:close_window id=w1\n");
  auto j = ctl.call(Json{{"op", "journal"}});
  ASSERT_EQ(j["entries"].size(), 2u);
  EXPECT_EQ(j["entries"][0]["command"], "create_window");
  EXPECT_EQ(j["entries"][0]["params"]["type"], "verse");
  EXPECT_EQ(j["entries"][0]["reply"], "{\"success\":true,\"id\":\"w2\"}\n");
  EXPECT_GE(j["entries"][1]["t_ms"].get<std::int64_t>(), j["entries"][0]["t_ms"].get<std::int64_t>());
  EXPECT_EQ(j["next"], 2);
  EXPECT_EQ(ctl.call(Json{{"op", "journal"}, {"since", 1}})["entries"].size(), 1u);
  EXPECT_EQ(ctl.call(Json{{"op", "clear_journal"}})["ok"], true);
  EXPECT_TRUE(ctl.call(Json{{"op", "journal"}})["entries"].empty());
  // Chat and display name.
  EXPECT_EQ(ctl.call(Json{{"op", "type_chat"}, {"text", "hi all"}})["ok"], true);
  EXPECT_EQ(send("cmd:room_chat_pending\n"), "[\"hi all\"]\n");
  EXPECT_EQ(ctl.call(Json{{"op", "set_display_name"}, {"name", "amber-fox"}})["ok"], true);
  EXPECT_EQ(send("cmd:room_chat_display_name\n"), "amber-fox\n");
  auto status = ctl.call(Json{{"op", "status"}});
  // Person open fired one (a window created by any route); move/resize by a
  // person none; then IPC create (1) and close (2).
  EXPECT_EQ(status["seq"], 4);
}

TEST_F(FakeServer, ControlPlaneRejectsBadRequestsAndStaysUp) {
  start(config());
  ControlClient ctl(io, ctl_path);
  EXPECT_EQ(ctl.call_raw("garbage")["ok"], false);
  EXPECT_EQ(ctl.call_raw("[1,2]")["ok"], false);
  EXPECT_EQ(ctl.call_raw("{\"op\":5}")["ok"], false);
  EXPECT_EQ(ctl.call_raw("{\"op\":\"nope\"}")["error"], "unknown op 'nope'");
  EXPECT_EQ(ctl.call_raw("{\"op\":\"move\",\"id\":\"w1\",\"x\":\"1\",\"y\":2}")["ok"], false);
  EXPECT_EQ(ctl.call_raw("{\"op\":\"set_reply_delay\",\"ms\":-5}")["ok"], false);
  EXPECT_EQ(ctl.call_raw(std::string(5000, '[') + std::string(5000, ']'))["ok"], false);
  EXPECT_EQ(ctl.call_raw("{\"op\":\"open\",\"type\":\"\xff\"}")["ok"], false);
  EXPECT_EQ(ctl.call(Json{{"op", "ping"}})["ok"], true);
}

TEST_F(FakeServer, ControlPlaneBrokenTitleSlowRepliesAndRefusal) {
  start(config());
  ControlClient ctl(io, ctl_path);
  EXPECT_EQ(ctl.call(Json{{"op", "broken_title"}})["id"], "w1");
  const std::string reply = send("cmd:get_state\n");
  EXPECT_FALSE(ipc::parse_get_state(reply).ok());
  // The control plane's own view stays valid JSON (it escapes properly).
  EXPECT_EQ(ctl.call(Json{{"op", "state"}})["windows"][0]["title"], "broken\x01title\ttab");

  EXPECT_EQ(ctl.call(Json{{"op", "set_reply_delay"}, {"ms", 150}})["ok"], true);
  auto t0 = steady::now();
  send("cmd:room_chat_display_name\n");
  EXPECT_GE(steady::now() - t0, 150ms);
  EXPECT_EQ(ctl.call(Json{{"op", "set_reply_delay"}, {"ms", 0}})["ok"], true);

  EXPECT_EQ(ctl.call(Json{{"op", "refuse_connections"}, {"on", true}})["refusing"], true);
  EXPECT_EQ(await(io, try_connect(app_path)), asio::error::connection_refused);
  EXPECT_TRUE(fs::exists(app_path));  // the file stays, like after the app exits
  EXPECT_EQ(ctl.call(Json{{"op", "refuse_connections"}, {"on", false}})["refusing"], false);
  EXPECT_EQ(send("cmd:room_chat_display_name\n"), "\n");
}

// A second restart that comes when the first one's down time has just ended
// (its timer fired, what it wakes not yet run) keeps its own down time: the
// first one's end must not reopen the listener. It did when the end of a
// down time was a timer callback guarded by a flag; now it is a task of the
// server's scope, cancelled by the second restart, and a cancelled task acts
// on nothing it awaited (net::checkpoint).
TEST_F(FakeServer, ASecondRestartAsTheFirstDownTimeEndsKeepsItsOwnDownTime) {
  start(config());
  io.poll();
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(server->control(Json{{"op", "restart"}, {"down_ms", 50}})["ok"], true);
  io.poll();  // the first down time starts: it ends 50 ms after `before` or later
  const auto after = std::chrono::steady_clock::now();
  bool restarted_again = false;
  asio::steady_timer second(io);
  second.expires_at(before + 49ms);  // due before the first down time ends, however slow the machine
  second.async_wait([&](boost::system::error_code) {
    EXPECT_EQ(server->control(Json{{"op", "restart"}, {"down_ms", 600000}})["ok"], true);
    restarted_again = true;
  });
  // Both timers are due; one turn of the loop runs the earlier (the second
  // restart) and leaves the other's completion queued behind it.
  std::this_thread::sleep_until(after + 60ms);
  io.run_one();
  ASSERT_TRUE(restarted_again);
  io.poll();  // whatever the first down time's end still does
  EXPECT_TRUE(server->refusing());
  EXPECT_EQ(await(io, try_connect(app_path)), asio::error::connection_refused);
}

TEST_F(FakeServer, ControlPlaneRestartDropsEverythingAndIdsRestart) {
  start(config());
  ControlClient ctl(io, ctl_path);
  send("cmd:create_window type=verse\n");
  send("cmd:create_window type=verse\n");
  auto sub = std::make_shared<std::vector<std::string>>();
  auto sub_done = spawn(io, subscribe(app_path, sub));
  ASSERT_TRUE(run_until(io, [&] { return server->subscriber_count() == 1; }));
  auto r = ctl.call(Json{{"op", "restart"}, {"windows", Json::array({{{"type", "room_chat"}}})}, {"down_ms", 200}});
  EXPECT_EQ(r["ok"], true);
  ASSERT_TRUE(run_until(io, [&] { return sub_done->done; }));  // subscriber saw EOF
  EXPECT_EQ(await(io, try_connect(app_path)), asio::error::connection_refused);
  ASSERT_TRUE(run_until(io, [&] { return !server->refusing(); }));
  EXPECT_EQ(send("cmd:create_window type=verse\n"), "{\"success\":true,\"id\":\"w2\"}\n");  // w1 is the layout's room_chat
  auto st = ipc::parse_get_state(send("cmd:get_state\n"));
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->windows.size(), 2u);
  EXPECT_EQ(st->windows[1].type, "room_chat");
  EXPECT_EQ(ctl.call(Json{{"op", "status"}})["seq"], 1);
  EXPECT_EQ(ctl.call(Json{{"op", "restart"}, {"layout_file", dir / "missing.json"}})["ok"], false);
}

TEST_F(FakeServer, BackroomsTvReplyWaitsForThePerson) {
  start(config());
  ControlClient ctl(io, ctl_path);
  auto blocked = spawn(io, ipc_exchange(app_path, "cmd:create_window type=backrooms_tv\n"));
  ASSERT_TRUE(run_until(io, [&] { return server->app().open_dialogs() == 1; }));
  // The app's modal loop keeps serving others meanwhile.
  EXPECT_TRUE(ipc::parse_get_state(send("cmd:get_state\n")).ok());
  EXPECT_FALSE(blocked->done);
  auto d = ctl.call(Json{{"op", "dismiss_dialog"}});
  EXPECT_EQ(d["reply"], "{\"success\":true,\"id\":\"w1\"}\n");
  ASSERT_TRUE(run_until(io, [&] { return blocked->done; }));
  EXPECT_EQ(*blocked->value, "{\"success\":true,\"id\":\"w1\"}\n");
  EXPECT_EQ(ctl.call(Json{{"op", "dismiss_dialog"}})["error"], "no dialog open");
}

TEST_F(FakeServer, ControlPlaneExitAndCrash) {
  start(config());
  ControlClient ctl(io, ctl_path);
  EXPECT_EQ(ctl.call(Json{{"op", "crash"}})["ok"], true);  // the test's crash hook returns
  EXPECT_EQ(crashes, 1);
  EXPECT_EQ(ctl.call(Json{{"op", "exit"}, {"code", 3}})["ok"], true);
  ASSERT_TRUE(run_until(io, [&] { return server->stopped(); }));
  EXPECT_EQ(exit_code, 3);
  EXPECT_TRUE(fs::exists(app_path));   // the app leaves its socket file behind
  EXPECT_FALSE(fs::exists(ctl_path));  // the control socket is tidied
  EXPECT_EQ(await(io, try_connect(app_path)), asio::error::connection_refused);
}

// --- socket files ----------------------------------------------------------------------------

TEST_F(FakeServer, StaleSocketReplacedLiveOneRefused) {
  auto cfg = config();
  {
    // A stale file: bound once, nobody listening any more.
    fw::unix_acceptor a(io, asio::local::stream_protocol::endpoint(cfg.socket_path));
  }
  ASSERT_TRUE(fs::exists(cfg.socket_path));
  start(cfg);
  EXPECT_EQ(send("cmd:room_chat_display_name\n"), "\n");
  fw::Server second(io, cfg);
  auto started = second.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("live"), std::string::npos) << started.error().message;
  // The first one still works.
  EXPECT_EQ(send("cmd:room_chat_display_name\n"), "\n");
}

TEST_F(FakeServer, NotASocketIsLeftAlone) {
  auto cfg = config();
  { std::ofstream(cfg.socket_path) << "precious"; }
  fw::Server s(io, cfg);
  auto started = s.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("not a socket"), std::string::npos) << started.error().message;
  EXPECT_TRUE(fs::is_regular_file(cfg.socket_path));
}

TEST_F(FakeServer, SocketFileRemovedOnlyWhenAsked) {
  auto cfg = config();
  cfg.remove_socket_on_exit = true;
  start(cfg);
  server->stop();
  EXPECT_FALSE(fs::exists(cfg.socket_path));
}

// --- the binary ------------------------------------------------------------------------------

#ifdef FAKEWIBWOB_BIN
using wibwob::test::ChildProcess;

std::unique_ptr<ChildProcess> spawn_binary(std::vector<std::string> args, std::vector<std::string> extra_env = {}) {
  args.insert(args.begin(), FAKEWIBWOB_BIN);
  auto c = std::make_unique<ChildProcess>(std::move(args), ChildProcess::Options{std::move(extra_env), {}, {}});
  if (!c->started()) throw std::runtime_error("cannot start " FAKEWIBWOB_BIN);
  return c;
}

TEST_F(FakeServer, BinaryPrintsReadyHonoursEnvSecretAndExitsOnSigterm) {
  const std::string sock = dir / "bin.sock";
  auto c = spawn_binary({"--socket", sock, "--ui-tick-ms", "0", "--control", dir / "binctl.sock", "--log-level", "off"},
                        {"WIBWOB_AUTH_SECRET=envsecret"});
  const std::string out = c->read_stdout_until([](const std::string& t) { return t.find('\n') != std::string::npos; }, 10s);
  EXPECT_EQ(out, "READY unix:" + sock + "\n");
  auto t = await(io, auth_client(sock, "envsecret", "cmd:create_window type=verse\n", 0));
  EXPECT_EQ(t.verdict, "{\"type\":\"auth_ok\"}\n");
  EXPECT_EQ(t.reply, "{\"success\":true,\"id\":\"w1\"}\n");

  // A second instance on the live path refuses to start.
  EXPECT_EQ(spawn_binary({"--socket", sock, "--log-level", "off"})->wait(), 1);

  ASSERT_TRUE(c->signal(SIGTERM));
  EXPECT_EQ(c->wait(), 0);
  EXPECT_TRUE(fs::exists(sock));  // left behind, like the app
}

TEST_F(FakeServer, BinaryHelpAndBadLayout) {
  EXPECT_EQ(spawn_binary({"--help"})->wait(), 0);
  const std::string layout = dir / "layout.json";
  { std::ofstream(layout) << "{not json"; }
  EXPECT_EQ(spawn_binary({"--socket", dir / "x.sock", "--layout", layout, "--log-level", "off"})->wait(), 2);
}
#endif

}  // namespace
