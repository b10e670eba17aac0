#include "net/control_channel.hpp"

#include <sys/un.h>

#include <filesystem>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include "net/spawn.hpp"
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "protocol/ipc.hpp"

namespace wibwob::net {

namespace asio = boost::asio;
using boost::system::error_code;
using unix_proto = asio::local::stream_protocol;
using Json = nlohmann::json;

std::optional<std::string> bind_unix_socket(unix_proto::acceptor& acc, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) return std::string("empty socket path");
  if (path.size() >= sizeof(sockaddr_un::sun_path)) return "socket path too long: " + path;
  std::error_code fec;
  const auto st = fs::symlink_status(path, fec);
  if (!fec && fs::exists(st)) {
    if (!fs::is_socket(st)) return path + " exists and is not a socket; refusing to replace it";
    unix_proto::socket probe(acc.get_executor());
    error_code ec;
    probe.open(unix_proto(), ec);
    // Non-blocking: a live server with a full backlog answers EAGAIN rather
    // than blocking us; that still means someone is listening.
    probe.non_blocking(true, ec);
    probe.connect(unix_proto::endpoint(path), ec);
    if (!ec || ec == asio::error::would_block || ec == asio::error::try_again)
      return "another server is live on " + path;
    fs::remove(path, fec);
  }
  error_code ec;
  acc.open(unix_proto(), ec);
  if (!ec) acc.bind(unix_proto::endpoint(path), ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acc.close(ignored);
    return "cannot listen on " + path + ": " + ec.message();
  }
  return std::nullopt;
}

ControlChannel::ControlChannel(asio::io_context& io, Handler handler, std::size_t max_line)
    : io_(io), handler_(std::move(handler)), max_line_(max_line), acceptor_(io) {}

ControlChannel::~ControlChannel() {
  *alive_ = false;
  close(false);
}

std::optional<std::string> ControlChannel::open(const std::string& path) {
  if (auto err = bind_unix_socket(acceptor_, path)) return err;
  path_ = path;
  asio::co_spawn(io_, accept_loop(), fail_loudly("control channel accept"));
  return std::nullopt;
}

void ControlChannel::close(bool unlink_file) {
  error_code ec;
  if (acceptor_.is_open()) {
    acceptor_.close(ec);
    if (unlink_file && !path_.empty()) ::unlink(path_.c_str());
  }
  for (const auto& s : sessions_) s->close(ec);
  sessions_.clear();
}

asio::awaitable<void> ControlChannel::accept_loop() {
  auto alive = alive_;
  while (*alive && acceptor_.is_open()) {
    auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (!*alive || !acceptor_.is_open()) co_return;
    if (ec) continue;
    auto s = std::make_shared<socket>(std::move(sock));
    sessions_.insert(s);
    asio::co_spawn(io_, session(s), fail_loudly("control channel session"));
  }
}

asio::awaitable<void> ControlChannel::session(std::shared_ptr<socket> s) {
  auto alive = alive_;
  std::string buf;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(*s, asio::dynamic_buffer(buf, max_line_), '\n',
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec || !*alive) break;  // EOF, closed, or a line over max_line
    auto parsed = protocol::ipc::parse_json(std::string_view(buf.data(), n - 1));
    buf.erase(0, n);
    Reply reply = parsed ? handler_(*parsed)
                         : Reply{Json{{"ok", false}, {"error", "request is not JSON: " + parsed.error().message}}, {}};
    const std::string out = reply.body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    auto [wec, wn] = co_await asio::async_write(*s, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
    (void)wn;
    if (!*alive) co_return;
    if (wec) break;
    if (reply.after_write) {
      sessions_.erase(s);
      reply.after_write();
      co_return;
    }
  }
  if (*alive) sessions_.erase(s);
}

}  // namespace wibwob::net
