// Server: the fake WibWob-DOS IPC server on a Unix socket, around FakeApp.
//
// Reproduces the app's transport (spec/wibwob-ipc.md, "Transport"):
// - one command per connection: (auth,) one read() of at most 2047 bytes,
//   one reply line, shutdown of the write side, then the app waits for the
//   client to close (a client that never closes stalls everything);
// - the app runs IPC on its UI thread: connections are served one at a time,
//   at most one accepted per UI tick (`ui_tick`, 0 = as fast as possible);
//   a client that connects and never writes stalls every other client
//   (no timeout, as in the app); with auth on, each step gets 1 s;
// - subscribe_events turns the connection into a push-only subscriber; a
//   subscriber whose socket buffer is full is dropped without notice;
// - a stale socket file is replaced on start, a live one refused; the file
//   is left behind on stop unless `remove_socket_on_exit`.
//
// The control plane (a second socket speaking JSON lines, see
// docs/fakewibwob.md) is served concurrently and never stalls with the app.
// `control()` runs the same operations in-process.
//
// Executor: everything runs on the one io_context passed in, which must be
// single-threaded. stop() cancels the app loop (net::Scope: it ends at its
// next await, never acting on what that await returned) and closes every
// socket so that the io_context runs out of work; the Server must outlive
// the io_context's run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "fakewibwob/core/auth.hpp"
#include "fakewibwob/core/fake_app.hpp"
#include "fixture/control_channel.hpp"
#include "fixture/control_ops.hpp"
#include "net/scope.hpp"

namespace wibwob::fakewibwob {

namespace asio = boost::asio;
using unix_socket = asio::local::stream_protocol::socket;
using unix_acceptor = asio::local::stream_protocol::acceptor;

struct ServerConfig {
  std::string socket_path;
  std::string control_path;                 // empty: no control plane
  std::optional<std::string> secret;        // set: auth handshake on every connection
  Millis ui_tick{20};                       // one accepted connection per tick; 0 = no tick
  Millis auth_step_timeout = AuthSession::step_timeout;
  bool remove_socket_on_exit = false;       // the app leaves its socket file behind
  int subscriber_sndbuf = 0;                // SO_SNDBUF for subscribers; 0 = OS default
  std::vector<OpenSpec> layout;             // opened at start and on restart (front-most first)
  CoreConfig core;
  // What the control op "crash" does. Default: SIGKILL this process (no
  // cleanup, socket file left behind, like a crash).
  std::function<void()> crash;
};

class Server {
 public:
  Server(asio::io_context& io, ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds both sockets and starts serving. An error when a path is live, is
  // not a socket, or cannot be bound.
  protocol::Result<void> start();
  // Idempotent. Closes everything; calls on_exit(code) once.
  void stop(int code = 0);
  bool stopped() const { return stopped_; }
  // Called once by stop(), e.g. with the code of a control "exit".
  std::function<void(int)> on_exit;

  // One control-plane request (JSON object) -> reply object. Same as a line
  // on the control socket. Never throws on hostile input.
  // "exit" stops the server before returning.
  ipc::Json control(const ipc::Json& request) {
    return fixture::answer_in_process(handle_control(request), [this](int code) { stop(code); });
  }

  FakeApp& app() { return app_; }
  std::size_t subscriber_count() const { return subscribers_.size(); }
  std::uint64_t connections_served() const { return served_; }
  bool refusing() const { return !acceptor_.is_open(); }
  // Milliseconds since construction (the journal's time base).
  Millis now() const;

 private:
  // The control plane (control.cpp): the op table, in four groups.
  fixture::Reply handle_control(const ipc::Json& request);
  void add_person_ops(fixture::ControlOps& ops);
  void add_lifecycle_ops(fixture::ControlOps& ops);
  void add_fault_ops(fixture::ControlOps& ops);
  void add_observation_ops(fixture::ControlOps& ops);
  asio::awaitable<void> app_loop();
  asio::awaitable<void> serve(unix_socket socket);
  asio::awaitable<std::size_t> read_command(unix_socket& socket, asio::mutable_buffer buf);
  void keep_as_subscriber(unix_socket socket);
  protocol::Result<void> bind_app();
  void set_refusing(bool refuse);
  void broadcast();
  void restart(std::vector<OpenSpec> layout, Millis down);
  asio::awaitable<void> listen_again_after(Millis down);
  void answer_dialog(std::uint64_t dialog, std::string reply);
  void close_held(std::uint64_t dialog);

  asio::io_context& io_;
  ServerConfig config_;
  FakeApp app_;
  unix_acceptor acceptor_;
  fixture::ControlOps ops_;
  fixture::ControlChannel control_;
  asio::steady_timer wake_;       // wakes app_loop when the listener reopens
  std::chrono::steady_clock::time_point started_;
  std::mt19937_64 rng_;
  bool stopped_ = false;  // stop() ran: for stop()'s idempotence and the control plane; no loop reads it
  bool started_ok_ = false;
  Millis reply_delay_{0};
  std::uint64_t served_ = 0;
  unix_socket* current_ = nullptr;  // the connection the app is serving (to cancel on stop)
  std::vector<std::unique_ptr<unix_socket>> subscribers_;
  std::map<std::uint64_t, std::unique_ptr<unix_socket>> held_;  // withheld replies (dialogs)
  // Last, so destroyed first: the app loop, and the end of a restart's down
  // time. stop() cancels both; a cancelled task acts on nothing it awaited.
  net::Scope app_scope_{io_.get_executor()};
  net::Scope down_scope_{io_.get_executor()};
};

// Reads and parses a layout file (see parse_layout).
protocol::Result<std::vector<OpenSpec>> load_layout_file(const std::string& path);

}  // namespace wibwob::fakewibwob
