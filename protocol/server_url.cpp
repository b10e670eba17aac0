#include "protocol/server_url.hpp"

#include <algorithm>

#include <boost/url/parse.hpp>

namespace wibwob::protocol {

namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return r;
}

bool is_port(const std::string& p) {
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  const int v = std::stoi(p);
  return v >= 1 && v <= 65535;
}

}  // namespace

Result<ServerUrl> parse_server_url(std::string_view text) {
  // (Appended, not "'" + std::string(text) + "'": GCC 12 at -O3 warns
  // falsely on that form, GCC bug 105329.)
  std::string quoted(1, '\'');
  quoted.append(text).push_back('\'');
  auto u = boost::urls::parse_uri(text);
  if (!u)
    return make_error(Errc::bad_value, quoted + " is not a URL (" + u.error().message() +
                                           "; use http://, https://, ws:// or wss://)");
  ServerUrl out;
  const std::string scheme = lower(u->scheme());
  if (scheme == "https" || scheme == "wss")
    out.tls = true;
  else if (scheme != "http" && scheme != "ws")
    return make_error(Errc::bad_value, "scheme '" + std::string(u->scheme()) + "' in " + quoted +
                                           " is not one of http, https, ws, wss");
  out.host = std::string(u->host_address());
  if (out.host.empty()) return make_error(Errc::bad_value, "no host in " + quoted);
  out.port = u->has_port() ? std::string(u->port()) : (out.tls ? "443" : "80");
  if (!is_port(out.port)) return make_error(Errc::bad_value, "port '" + out.port + "' in " + quoted + " is not 1..65535");
  out.base_path = std::string(u->encoded_path());
  // Boost.URL 1.81 takes "http://h:12ab" as port 12 and path "ab".
  if (!out.base_path.empty() && out.base_path[0] != '/')
    return make_error(Errc::bad_value, quoted + " is not a URL (text after the host or port)");
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

}  // namespace wibwob::protocol
