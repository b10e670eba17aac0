#include "bridge/io/room_endpoint.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>

namespace wibwob::bridge {

using protocol::Errc;
using protocol::make_error;

protocol::Result<RoomEndpoint> parse_room_endpoint(const std::string& server, const std::string& room) {
  if (room.empty()) return make_error(Errc::missing_field, "room name is empty (WIBWOB_PARTYKIT_ROOM)");
  auto u = boost::urls::parse_uri(server);
  if (!u) return make_error(Errc::bad_value, "'" + server + "' is not a URL (" + u.error().message() + ")");
  RoomEndpoint e;
  const std::string scheme(u->scheme());
  if (scheme == "http" || scheme == "ws") {
    e.tls = false;
  } else if (scheme == "https" || scheme == "wss") {
    e.tls = true;
  } else {
    return make_error(Errc::bad_value, "unsupported scheme '" + scheme + "' in '" + server +
                                           "' (use http://, https://, ws:// or wss://)");
  }
  e.host = std::string(u->host_address());
  if (e.host.empty()) return make_error(Errc::bad_value, "no host in '" + server + "'");
  e.port = u->has_port() ? std::string(u->port()) : (e.tls ? "443" : "80");
  const bool digits = !e.port.empty() && e.port.size() <= 5 && e.port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoi(e.port) < 1 || std::stoi(e.port) > 65535)
    return make_error(Errc::bad_value, "port '" + e.port + "' in '" + server + "' is not 1..65535");
  std::string base(u->encoded_path());
  // Boost.URL 1.81 takes "http://h:12ab" as port 12 and path "ab".
  if (!base.empty() && base[0] != '/')
    return make_error(Errc::bad_value, "'" + server + "' is not a URL (text after the host or port)");
  while (!base.empty() && base.back() == '/') base.pop_back();
  // The room becomes one path segment: encode everything but unreserved.
  const std::string encoded = boost::urls::encode(room, boost::urls::unreserved_chars);
  e.target_prefix = base + "/party/" + encoded;
  e.url_for_logs = std::string(e.tls ? "wss://" : "ws://") + e.host + ":" + e.port + e.target_prefix;
  return e;
}

}  // namespace wibwob::bridge
