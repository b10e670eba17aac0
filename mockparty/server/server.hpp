// Server: the mock PartyKit room server on TCP (ws://) or TLS (wss://), a
// Boost.Beast shell around PartyCore.
//
// - HTTP upgrade on /party/<room> or /parties/main/<room> (room name
//   percent-decoded, 1..80 bytes); any other path answers 404, a plain GET
//   of a room path 426, an upgrade while refusing upgrades 503.
// - `?_pk=<id>` sets the connection id, else a random UUID.
// - Frames over Options::max_frame_bytes close with 1009 (Beast's
//   read_message_max); binary frames and bad JSON are ignored.
// - Persistence: with `state_dir`, one file per room
//   (<percent-encoded room>.json, written to a temp file then renamed),
//   loaded when the room is first used; in memory otherwise.
// - The message log (JSON lines) records every message in and out, at the
//   time it is read or written, plus connection events.
// - Faults and observation through control() and, when `control_path` is
//   set, a Unix socket speaking the same JSON lines (docs/mockparty.md). The
//   WebSocket port has no control surface at all.
//
// Executor: everything runs on the one io_context passed in, which must be
// run by a single thread. Each connection has a reader and a writer
// coroutine; the writer owns the one outstanding write and an unbounded-time
// but size-bounded queue (a client that stops reading past
// `max_queue_bytes` is disconnected). Timeouts: TLS handshake and HTTP
// request `handshake_timeout`; then Beast's server defaults (idle 300 s with
// keep-alive pings). stop() closes the listener, cancels the listener's scope
// (the accept loop or a pause's pending resume), closes every connection and
// shuts down the sockets still in their TLS/HTTP phase, so run() returns on
// its own.
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

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/uuid/random_generator.hpp>

#include "mockparty/core/party_core.hpp"
#include "fixture/control_channel.hpp"
#include "fixture/control_ops.hpp"
#include "mockparty/server/message_log.hpp"
#include "mockparty/server/state_store.hpp"
#include "net/scope.hpp"

namespace wibwob::mockparty {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;          // 0: ephemeral, see Server::port()
  std::string tls_cert;            // both set: wss://
  std::string tls_key;
  std::string state_dir;           // empty: state in memory only
  std::string log_path;            // empty: no message log; "-": stdout
  std::string control_path;        // empty: no control socket
  Options core;
  std::chrono::milliseconds handshake_timeout{10000};
  std::size_t max_queue_bytes = 64u * 1024 * 1024;
  // After a client's close frame that the server does not answer (defect
  // no_close_reply), keep its TCP connection at most this long.
  std::chrono::milliseconds linger_after_close{60000};
};

class Connection;  // one WebSocket (server.cpp)

class Server {
 public:
  Server(asio::io_context& io, ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads TLS files, binds, starts accepting.
  protocol::Result<void> start();
  // Idempotent: closes the listener, the control socket and every connection.
  void stop(int code = 0);
  bool stopped() const { return stopped_; }
  std::function<void(int)> on_exit;  // called once by stop()

  std::uint16_t port() const { return port_; }
  bool tls() const { return ssl_.has_value(); }
  // "ws://127.0.0.1:<port>" (or wss://), with the configured host.
  std::string url() const;

  // One control request (JSON object) -> reply object; never throws.
  Json control(const Json& request);

  PartyCore& core() { return core_; }
  std::size_t connection_count() const { return conns_.size(); }
  // The listener's coroutines: the accept loop, or a pause's pending resume;
  // cancelled ones count until they have unwound (for tests: never more
  // than one once the io_context has run).
  std::size_t listener_tasks() const { return listener_.running(); }

  // --- used by connections (server.cpp) ---
  void execute(Effects effects);
  void connection_opened(SocketId id, std::shared_ptr<Connection> c, const std::string& room, const std::string& conn);
  void connection_closed(SocketId id);    // the socket left the room (core on_close)
  void connection_finished(SocketId id);  // the connection's coroutine is done
  void text_received(SocketId id, std::string_view text);
  void binary_received(SocketId id, std::size_t bytes);
  MessageLog& log() { return log_; }
  const ServerConfig& config() const { return config_; }
  std::chrono::milliseconds delay() const { return delay_; }
  bool refusing_upgrades() const { return refuse_upgrades_; }
  SocketId next_socket_id() { return ++last_socket_; }
  std::string random_uuid();
  asio::ssl::context* ssl_context() { return ssl_ ? &*ssl_ : nullptr; }
  asio::io_context& io() { return io_; }

 private:
  // The control plane's op table (server.cpp, "control").
  void add_observation_ops(fixture::ControlOps& ops);
  void add_fault_ops(fixture::ControlOps& ops);
  protocol::Result<void> load_tls();
  protocol::Result<void> open_listener();
  void pause_accepting(std::chrono::milliseconds ms);
  void resume_accepting();
  asio::awaitable<void> resume_after(std::chrono::milliseconds ms);
  asio::awaitable<void> serve(tcp::socket socket);
  asio::awaitable<void> accept_loop();
  int drop(const std::string* room, std::optional<std::uint16_t> code);
  void ensure_room_loaded(const std::string& room);

  asio::io_context& io_;
  ServerConfig config_;
  PartyCore core_;
  MessageLog log_;
  std::optional<StateStore> store_;
  std::optional<asio::ssl::context> ssl_;
  tcp::acceptor acceptor_;
  fixture::ControlOps ops_;
  fixture::ControlChannel control_;
  // The listener's scope: the one accept loop while accepting, the one
  // pending resume while paused. Pausing, resuming and stop() cancel it and
  // start what comes next; nothing counts generations.
  net::Scope listener_;
  std::uint16_t port_ = 0;
  bool paused_ = false;
  bool stopped_ = false;
  bool refuse_upgrades_ = false;
  std::chrono::milliseconds delay_{0};
  SocketId last_socket_ = 0;
  boost::uuids::random_generator uuids_;
  std::map<SocketId, std::shared_ptr<Connection>> conns_;
  // Sockets before the upgrade (TLS/HTTP phase).
  std::shared_ptr<std::set<int>> handshaking_ = std::make_shared<std::set<int>>();
};

}  // namespace wibwob::mockparty
