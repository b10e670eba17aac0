// Where the room lives: the server URL and room name turned into host, port,
// TLS and the WebSocket target prefix.
#pragma once

#include <string>

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
// room: any string, percent-encoded into one path segment.
protocol::Result<RoomEndpoint> parse_room_endpoint(const std::string& server, const std::string& room);

}  // namespace wibwob::bridge
