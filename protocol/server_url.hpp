// The room server's URL (WIBWOB_PARTYKIT_SERVER, a room file's
// partykit_server): the one check both the bridge and wibwob-rooms apply.
#pragma once

#include <string>
#include <string_view>

#include "protocol/result.hpp"

namespace wibwob::protocol {

struct ServerUrl {
  bool tls = false;       // https:// or wss://
  std::string host;
  std::string port;       // 1..65535; 443 or 80 when the URL has none
  std::string base_path;  // the path before /party/<room>, without trailing '/'
};

// http://, https://, ws:// or wss:// (any case) with a host, an optional
// port in 1..65535 and an optional path. The error names the URL and what
// is wrong with it.
Result<ServerUrl> parse_server_url(std::string_view text);

}  // namespace wibwob::protocol
