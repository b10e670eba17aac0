// RoomSession: the bridge's link to a PartyKit room, one WebSocket (ws:// or
// wss://) connection at a time.
//
// Requests (connect, send, close) are queued in one mailbox and executed in
// order by run(), the session's only coroutine. Each connect starts one
// RoomConnection (room_connection.hpp), which owns its stream and lives
// exactly until that connection ends; the next connection starts only after
// it is gone, so nothing ever asks whether a connection is "still current".
// Events go to the sink in order: Opened, then Frames, then exactly one
// Closed per connect (also when connecting failed). The sink must only
// enqueue (the runtime's mailbox): it is never allowed to call back into the
// session.
//
// Queue policy: at most `max_queue` requests wait. A session that far behind
// has a server that stopped reading: the queued frames are dropped and the
// connection is closed ("send queue full"); the engine re-sends its
// unplaced deltas after the next state_sync. Frames sent while no connection
// is open are dropped (the engine only sends on a synced connection).
//
// Timeouts: resolve, TCP connect, TLS and the upgrade each within
// connect_timeout (one deadline for the whole phase); then Beast's websocket
// idle timeout with keep-alive pings, so a dead peer is noticed. close sends
// a close frame and waits for the answer at most close_timeout (the real
// server never answers). Each connect uses a fresh random `_pk`: reusing one
// while the old socket lingers on the server makes the new socket a ghost.
//
// TLS: certificate and host name verified (system trust store plus
// `ca_file`); only a wss:// endpoint loads the TLS module (tls_module.hpp)
// and makes a TLS context, so a ws:// bridge never maps OpenSSL.
//
// Executor: single-threaded. Cancellation: cancelling run() closes an open
// connection gracefully (close frame, bounded by close_timeout) and returns.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bridge/io/mailbox.hpp"
#include "bridge/io/room_endpoint.hpp"

namespace wibwob::bridge {

class TlsConnector;

struct RoomSessionConfig {
  RoomEndpoint endpoint;
  std::optional<std::string> ca_file;            // extra trust anchor for wss:// (tests, private CAs)
  std::chrono::milliseconds connect_timeout{4000};
  std::chrono::milliseconds idle_timeout{15000};  // with keep-alive pings at half of it
  std::chrono::milliseconds close_timeout{300};
  std::size_t max_queue = 4096;                  // requests waiting to be executed
  std::size_t max_frame_bytes = 2 * 1024 * 1024; // larger incoming frames end the connection
};

namespace room_event {
struct Opened { std::string conn_id; };
struct Frame { std::string text; };
struct Closed { std::string reason; };
}  // namespace room_event
using RoomEvent = std::variant<room_event::Opened, room_event::Frame, room_event::Closed>;

namespace room_request {
struct Connect {};
struct Send { std::string text; };
struct Close { std::string reason; };
}  // namespace room_request
using RoomRequest = std::variant<room_request::Connect, room_request::Send, room_request::Close>;

class RoomSession {
 public:
  using Sink = std::function<void(RoomEvent)>;

  // For wss://, throws when the TLS module cannot be loaded (std::runtime_error)
  // or the trust store or ca_file cannot be loaded (std::system_error).
  RoomSession(boost::asio::any_io_executor ex, RoomSessionConfig config, Sink sink);
  ~RoomSession();
  RoomSession(const RoomSession&) = delete;
  RoomSession& operator=(const RoomSession&) = delete;

  void connect();
  void send(std::string text);
  void close(std::string reason);

  // Executes requests until cancelled.
  boost::asio::awaitable<void> run();

  const RoomSessionConfig& config() const noexcept { return cfg_; }

 private:
  void request(RoomRequest r);
  bool take_connect_request();
  void report_closed(std::string why);
  boost::asio::awaitable<std::string> serve_one();

  boost::asio::any_io_executor ex_;
  RoomSessionConfig cfg_;
  Sink sink_;
  std::unique_ptr<TlsConnector> tls_;  // wss:// only
  Mailbox<RoomRequest> requests_;
};

}  // namespace wibwob::bridge
