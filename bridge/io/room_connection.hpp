// RoomConnection<Ws, Layer>: one WebSocket connection to the room, from
// connect to close; Ws is websocket::stream<tcp_stream> (Layer PlainLayer,
// below) or websocket::stream<ssl_stream<tcp_stream>> (Layer TlsLayer, in the
// TLS module: tls_module.hpp, room_tls.cpp). RoomSession creates one per
// connect request and destroys it when run() returns, so a connection is a
// finished object once it has ended: nothing outlives it, nothing asks
// whether it is current.
//
// run(): resolve, connect, TLS, upgrade (one deadline for the phase), then a
// reader and a writer in one scope (`reader || writer`): the reader hands
// text frames to the sink; the writer takes the session's requests (one
// write outstanding). Whichever ends first ends the connection; the writer
// always ends it the same way: a close frame bounded by close_timeout (the
// real server never answers it), then the socket is closed, which ends the
// reader. Reads are deliberately not cancellable (a cancelled Beast read
// fails the stream, and the close frame could no longer be sent); they end
// when the socket closes.
//
// Private to bridge/io: included by room_session.cpp and room_tls.cpp only.
// Nothing here names OpenSSL: the executable must not map it for ws://.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "bridge/io/room_session.hpp"

namespace wibwob::bridge::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace asio::experimental::awaitable_operators;

using plain_ws = websocket::stream<beast::tcp_stream>;

// What a layer between TCP and WebSocket adds to a connection: when
// `secures`, `secure(ws, host)` runs after the TCP connect (TLS: the
// handshake); `describe` gives its words for its own errors (empty: not its
// error).
struct PlainLayer {
  static constexpr bool secures = false;
  static std::string describe(const boost::system::error_code&) { return {}; }
};

inline constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

template <class Ws, class Layer>
class RoomConnection {
 public:
  template <class... StreamArgs>
  RoomConnection(const RoomSessionConfig& cfg, Mailbox<RoomRequest>& requests, const RoomSession::Sink& sink,
                 StreamArgs&&... args)
      : cfg_(cfg), requests_(requests), sink_(sink), ws_(std::forward<StreamArgs>(args)...) {}

  // Serves the connection to its end; returns why it ended.
  asio::awaitable<std::string> run(std::string pk) {
    // `||` waits for the first *success*: open() reports failures as a value
    // so that a refused connection is not mistaken for a timeout.
    asio::steady_timer deadline(ws_.get_executor(), cfg_.connect_timeout);
    auto r = co_await (open(pk) || deadline.async_wait(tuple_awaitable));
    if (r.index() == 1) co_return "connecting timed out after " + std::to_string(cfg_.connect_timeout.count()) + " ms";
    if (const auto ec = std::get<0>(r)) co_return describe(ec);
    report_opened(pk);
    co_await (reader() || writer());
    co_return why_;
  }

 private:
  static std::string describe(const boost::system::error_code& ec) {
    if (ec == websocket::error::closed) return "closed by the server";
    if (ec == beast::error::timeout) return "timed out (no answer to keep-alive pings)";
    if (std::string what = Layer::describe(ec); !what.empty()) return what;
    return ec.message();
  }

  // Resolve, connect, TLS, upgrade; an error code instead of a throw.
  asio::awaitable<boost::system::error_code> open(const std::string& pk) {
    try {
      co_await open_or_throw(pk);
    } catch (const boost::system::system_error& e) {
      co_return e.code();
    }
    co_return boost::system::error_code{};
  }

  asio::awaitable<void> open_or_throw(const std::string& pk) {
    auto& tcp = beast::get_lowest_layer(ws_);
    if (auto literal = address_literal()) {
      // An address needs no resolver: Asio resolves on a helper thread that
      // then lives as long as the io_context (docs/bench-bridge.md).
      co_await tcp.async_connect(*literal, asio::use_awaitable);
    } else {
      asio::ip::tcp::resolver resolver(ws_.get_executor());
      auto results = co_await resolver.async_resolve(cfg_.endpoint.host, cfg_.endpoint.port, asio::use_awaitable);
      co_await tcp.async_connect(results, asio::use_awaitable);
    }
    // Small frames (a delta, then its ping) must not wait for Nagle's
    // algorithm and the peer's delayed ACK: that costs ~40 ms per change.
    tcp.socket().set_option(asio::ip::tcp::no_delay(true));
    if constexpr (Layer::secures) co_await Layer::secure(ws_, cfg_.endpoint.host);
    websocket::stream_base::timeout t;
    t.handshake_timeout = cfg_.connect_timeout;
    t.idle_timeout = cfg_.idle_timeout;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "wibwob-bridge"); }));
    ws_.read_message_max(cfg_.max_frame_bytes);
    const std::string target = cfg_.endpoint.target_prefix + "?_pk=" + pk;
    co_await ws_.async_handshake(cfg_.endpoint.host + ":" + cfg_.endpoint.port, target, asio::use_awaitable);
  }

  // The endpoint when the host is an IP address and the port a number.
  std::optional<asio::ip::tcp::endpoint> address_literal() const {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(cfg_.endpoint.host, ec);
    const std::string& p = cfg_.endpoint.port;
    std::uint16_t port = 0;
    const auto [end, err] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec || err != std::errc{} || end != p.data() + p.size() || port == 0) return std::nullopt;
    return asio::ip::tcp::endpoint(address, port);
  }

  // The reader and the writer each end the connection with a reason; the
  // first one to end gives it.
  void ended(std::string why) {
    if (why_.empty()) why_ = std::move(why);
  }

  // Plain functions hold the variants (mailbox.hpp: GCC 12 and coroutines).
  void report_opened(const std::string& pk) { sink_(room_event::Opened{pk}); }
  void deliver(const beast::flat_buffer& buf) { sink_(room_event::Frame{beast::buffers_to_string(buf.data())}); }
  // The next request for the writer: a frame to write (true), or a reason
  // to end the connection (false).
  bool next_frame(std::string& frame_or_reason) {
    RoomRequest r = requests_.take();
    if (auto* s = std::get_if<room_request::Send>(&r)) {
      frame_or_reason = std::move(s->text);
      return true;
    }
    if (auto* c = std::get_if<room_request::Close>(&r)) {
      frame_or_reason = std::move(c->reason);
      return false;
    }
    // A connect while connected: end this connection, then the session
    // starts the next one.
    requests_.push_front(room_request::Connect{});
    frame_or_reason = "reconnect requested";
    return false;
  }

  asio::awaitable<void> reader() {
    beast::flat_buffer buf;
    for (;;) {
      buf.clear();
      auto [ec, n] = co_await ws_.async_read(buf, asio::bind_cancellation_slot(asio::cancellation_slot(), tuple_awaitable));
      if (ec) {
        ended(describe(ec));
        co_return;
      }
      if (ws_.got_text()) deliver(buf);
      // binary frames: the room protocol is text; the server ignores them too
    }
  }

  asio::awaitable<void> writer() {
    co_await write_until_done();
    // Cancelled or not, the close below must run (bounded by its timer).
    co_await asio::this_coro::reset_cancellation_state();
    co_await close_gracefully();
  }

  asio::awaitable<void> write_until_done() {
    std::string item;
    for (;;) {
      bool cancelled = false;
      try {
        co_await requests_.wait();
      } catch (const boost::system::system_error& e) {
        if (e.code() != asio::error::operation_aborted) throw;
        cancelled = true;
      }
      if (cancelled) {
        ended("bridge stopping");
        co_return;
      }
      if (!next_frame(item)) {
        ended(std::move(item));
        co_return;
      }
      ws_.text(true);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(item), tuple_awaitable);
      if (ec) {
        ended("write failed: " + describe(ec));
        co_return;
      }
    }
  }

  asio::awaitable<void> close_gracefully() {
    if (ws_.is_open()) {
      asio::steady_timer t(ws_.get_executor(), cfg_.close_timeout);
      co_await (ws_.async_close(websocket::close_code::normal, tuple_awaitable) || t.async_wait(tuple_awaitable));
    }
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);  // ends the reader
  }

  const RoomSessionConfig& cfg_;
  Mailbox<RoomRequest>& requests_;
  const RoomSession::Sink& sink_;
  Ws ws_;
  std::string why_;
};

}  // namespace wibwob::bridge::detail
