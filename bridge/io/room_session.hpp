// RoomSession: one WebSocket (ws:// or wss://) connection at a time to a
// PartyKit room, opened on request, with a bounded send queue.
//
// The engine decides when to connect and when to give up on a connection;
// RoomSession only performs it and reports back through callbacks:
// on_open after the upgrade, on_message per text frame, on_closed exactly
// once per connect() (also when connecting failed). Each connect() uses a
// fresh random `_pk`, because reusing one while the old socket lingers on
// the server makes the new socket a ghost that gets no broadcasts.
//
// Timeouts: connect, TLS and upgrade together within connect_timeout; then
// Beast's websocket idle timeout with keep-alive pings on, so a dead peer is
// noticed. close() sends a close frame but does not wait for the server's
// answer (the real server never sends one) beyond close_timeout.
//
// Executor: single-threaded; all callbacks run on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "protocol/result.hpp"

namespace wibwob::bridge {

struct RoomEndpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target_prefix;  // path before the room: "<base>/party/<encoded room>"
  std::string url_for_logs;   // ws(s)://host:port/party/room
};

// server: http://, https://, ws:// or wss:// URL (a path prefix is kept);
// room: any string, percent-encoded into the path.
protocol::Result<RoomEndpoint> parse_room_endpoint(const std::string& server, const std::string& room);

struct RoomSessionConfig {
  RoomEndpoint endpoint;
  std::optional<std::string> ca_file;            // extra trust anchor for wss:// (tests, private CAs)
  std::chrono::milliseconds connect_timeout{4000};
  std::chrono::milliseconds idle_timeout{15000};  // with keep-alive pings at half of it
  std::chrono::milliseconds close_timeout{300};
  std::size_t max_queue = 4096;                  // frames waiting to be written
};

class RoomSession {
 public:
  struct Callbacks {
    std::function<void(const std::string& conn_id)> on_open;
    std::function<void(std::string text)> on_message;
    std::function<void(const std::string& reason)> on_closed;
  };

  RoomSession(boost::asio::any_io_executor ex, RoomSessionConfig config, Callbacks callbacks);
  ~RoomSession();
  RoomSession(const RoomSession&) = delete;
  RoomSession& operator=(const RoomSession&) = delete;

  void connect();                      // closes any current connection first
  void send(std::string text);         // dropped (and logged by the caller) when not open
  void close(const std::string& reason);
  bool is_open() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace wibwob::bridge
