// Shared pieces of the fakes' local servers.
//
// bind_unix_socket: binds a listening Unix socket the way the real app does:
// a stale socket file (nothing answers) is replaced, a live one refused, and
// anything that is not a socket is never touched.
//
// ControlChannel: a control plane on a Unix socket speaking JSON lines: one
// request object per line, one reply object per line, any number per
// connection. Requests that are not JSON get an error reply and the
// connection stays usable; a line over max_line bytes ends the connection.
// The handler may ask for an action to run once its reply is written (e.g.
// "exit"), which also ends that connection.
//
// Executor: the io_context given, single-threaded. close() closes the
// listener and every session so the io_context can run out of work.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

namespace wibwob::net {

std::optional<std::string> bind_unix_socket(boost::asio::local::stream_protocol::acceptor& acceptor,
                                            const std::string& path);

class ControlChannel {
 public:
  struct Reply {
    nlohmann::json body;
    std::function<void()> after_write;  // optional; the session ends after it
  };
  using Handler = std::function<Reply(const nlohmann::json& request)>;

  ControlChannel(boost::asio::io_context& io, Handler handler, std::size_t max_line = 1 << 20);
  ~ControlChannel();
  ControlChannel(const ControlChannel&) = delete;
  ControlChannel& operator=(const ControlChannel&) = delete;

  // Binds `path` (see bind_unix_socket) and starts accepting.
  std::optional<std::string> open(const std::string& path);
  // Idempotent. With unlink_file, the socket file is removed too.
  void close(bool unlink_file = false);
  bool is_open() const { return acceptor_.is_open(); }

 private:
  using socket = boost::asio::local::stream_protocol::socket;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(std::shared_ptr<socket> s);

  boost::asio::io_context& io_;
  Handler handler_;
  std::size_t max_line_;
  std::string path_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::set<std::shared_ptr<socket>> sessions_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wibwob::net
