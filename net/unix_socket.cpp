#include "net/unix_socket.hpp"

#include <sys/un.h>

#include <filesystem>

namespace wibwob::net {

namespace asio = boost::asio;
using boost::system::error_code;
using unix_proto = asio::local::stream_protocol;
using protocol::Errc;
using protocol::make_error;

protocol::Result<void> bind_unix_socket(unix_proto::acceptor& acc, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) return make_error(Errc::missing_field, "empty socket path");
  if (path.size() >= sizeof(sockaddr_un::sun_path)) return make_error(Errc::too_large, "socket path too long: " + path);
  std::error_code fec;
  const auto st = fs::symlink_status(path, fec);
  if (!fec && fs::exists(st)) {
    if (!fs::is_socket(st))
      return make_error(Errc::io_failed, path + " exists and is not a socket; refusing to replace it");
    unix_proto::socket probe(acc.get_executor());
    error_code ec;
    probe.open(unix_proto(), ec);
    // Non-blocking: a live server with a full backlog answers EAGAIN rather
    // than blocking us; that still means someone is listening.
    probe.non_blocking(true, ec);
    probe.connect(unix_proto::endpoint(path), ec);
    if (!ec || ec == asio::error::would_block || ec == asio::error::try_again)
      return make_error(Errc::io_failed, "another server is live on " + path);
    fs::remove(path, fec);
  }
  error_code ec;
  acc.open(unix_proto(), ec);
  if (!ec) acc.bind(unix_proto::endpoint(path), ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acc.close(ignored);
    return make_error(Errc::io_failed, "cannot listen on " + path + ": " + ec.message());
  }
  return {};
}

}  // namespace wibwob::net
