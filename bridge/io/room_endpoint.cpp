#include "bridge/io/room_endpoint.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>

#include "protocol/server_url.hpp"

namespace wibwob::bridge {

using protocol::Errc;
using protocol::make_error;

protocol::Result<RoomEndpoint> parse_room_endpoint(const std::string& server, const std::string& room) {
  if (room.empty()) return make_error(Errc::missing_field, "room name is empty (WIBWOB_PARTYKIT_ROOM)");
  auto u = protocol::parse_server_url(server);
  if (!u) return u.error();
  RoomEndpoint e;
  e.tls = u->tls;
  e.host = u->host;
  e.port = u->port;
  // The room becomes one path segment: encode everything but unreserved.
  const std::string encoded = boost::urls::encode(room, boost::urls::unreserved_chars);
  e.target_prefix = u->base_path + "/party/" + encoded;
  e.url_for_logs = std::string(e.tls ? "wss://" : "ws://") + e.host + ":" + e.port + e.target_prefix;
  return e;
}

}  // namespace wibwob::bridge
