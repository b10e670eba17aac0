#include "bridge/io/room_session.hpp"

#include <random>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>

namespace wibwob::bridge {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
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
  std::string base(u->encoded_path());
  while (!base.empty() && base.back() == '/') base.pop_back();
  // The room becomes one path segment: encode everything but unreserved.
  const std::string encoded = boost::urls::encode(room, boost::urls::unreserved_chars);
  e.target_prefix = base + "/party/" + encoded;
  e.url_for_logs = std::string(e.tls ? "wss://" : "ws://") + e.host + ":" + e.port + e.target_prefix;
  return e;
}

namespace {

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string random_pk() {
  std::random_device rd;
  std::uniform_int_distribution<int> d(0, 15);
  static const char* hex = "0123456789abcdef";
  std::string s = "bridge-";
  for (int i = 0; i < 24; ++i) s += hex[d(rd)];
  return s;
}

}  // namespace

struct RoomSession::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor e, RoomSessionConfig c, Callbacks cb)
      : ex(std::move(e)), cfg(std::move(c)), callbacks(std::move(cb)), tls_ctx(ssl::context::tls_client) {
    tls_ctx.set_default_verify_paths();
    if (cfg.ca_file) tls_ctx.load_verify_file(*cfg.ca_file);
    tls_ctx.set_verify_mode(ssl::verify_peer);
  }

  asio::any_io_executor ex;
  RoomSessionConfig cfg;
  Callbacks callbacks;
  ssl::context tls_ctx;
  std::uint64_t gen = 0;           // one per connect(); stale coroutines check it
  bool open = false;
  bool closed_reported = true;
  std::variant<std::monostate, std::unique_ptr<plain_ws>, std::unique_ptr<tls_ws>> ws;
  std::uint64_t ws_gen = 0;        // the generation that owns `ws`
  std::deque<std::string> queue;
  bool writing = false;

  void report_closed(std::uint64_t g, const std::string& reason) {
    if (g != gen || closed_reported) return;
    closed_reported = true;
    open = false;
    queue.clear();
    if (callbacks.on_closed) callbacks.on_closed(reason);
  }

  void teardown() {
    std::visit(
        [](auto& p) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(p)>, std::monostate>) {
            if (p) {
              beast::error_code ec;
              beast::get_lowest_layer(*p).socket().close(ec);
            }
          }
        },
        ws);
  }

  template <class Ws>
  void configure(Ws& s) {
    websocket::stream_base::timeout t;
    t.handshake_timeout = cfg.connect_timeout;
    t.idle_timeout = cfg.idle_timeout;
    t.keep_alive_pings = true;
    s.set_option(t);
    s.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "wibwob-bridge");
    }));
    s.read_message_max(2 * 1024 * 1024);
  }

  // Each coroutine holds `self` from its creation, so the Impl outlives it.
  asio::awaitable<void> run(std::shared_ptr<Impl> self, std::uint64_t g) {
    (void)self;
    const std::string pk = random_pk();
    const std::string target = cfg.endpoint.target_prefix + "?_pk=" + pk;
    std::string why;
    try {
      tcp::resolver resolver(ex);
      asio::steady_timer deadline(ex, cfg.connect_timeout);
      auto resolved = co_await (resolver.async_resolve(cfg.endpoint.host, cfg.endpoint.port, tuple_awaitable) ||
                                deadline.async_wait(tuple_awaitable));
      if (resolved.index() == 1) throw std::runtime_error("resolving " + cfg.endpoint.host + " timed out");
      auto [rec, results] = std::get<0>(resolved);
      if (rec) throw std::runtime_error("resolving " + cfg.endpoint.host + ": " + rec.message());
      if (g != gen) co_return;
      if (cfg.endpoint.tls) {
        auto s = std::make_unique<tls_ws>(ex, tls_ctx);
        co_await handshake(*s, results, target, g);
        if (g != gen) co_return;
        ws = std::move(s);
        ws_gen = g;
        co_await serve<tls_ws>(g, pk);
      } else {
        auto s = std::make_unique<plain_ws>(ex);
        co_await handshake(*s, results, target, g);
        if (g != gen) co_return;
        ws = std::move(s);
        ws_gen = g;
        co_await serve<plain_ws>(g, pk);
      }
      why = "connection closed";
    } catch (const boost::system::system_error& e) {
      why = e.code() == websocket::error::closed ? "closed by the server" : e.code().message();
    } catch (const std::exception& e) {
      why = e.what();
    }
    report_closed(g, why);
  }

  template <class Ws>
  asio::awaitable<void> handshake(Ws& s, const tcp::resolver::results_type& results, const std::string& target,
                                  std::uint64_t g) {
    auto& lowest = beast::get_lowest_layer(s);
    lowest.expires_after(cfg.connect_timeout);
    co_await lowest.async_connect(results, asio::use_awaitable);
    // Small frames (a delta, then its ping) must not wait for Nagle's
    // algorithm and the peer's delayed ACK: that costs ~40 ms per change.
    lowest.socket().set_option(tcp::no_delay(true));
    if constexpr (std::is_same_v<Ws, tls_ws>) {
      // SNI. (SSL_set_tlsext_host_name is a macro with an old-style cast.)
      if (!SSL_ctrl(s.next_layer().native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                    const_cast<char*>(cfg.endpoint.host.c_str())))
        throw std::runtime_error("cannot set TLS server name");
      s.next_layer().set_verify_callback(ssl::host_name_verification(cfg.endpoint.host));
      co_await s.next_layer().async_handshake(ssl::stream_base::client, asio::use_awaitable);
    }
    lowest.expires_never();  // the websocket timeouts take over
    configure(s);
    co_await s.async_handshake(cfg.endpoint.host + ":" + cfg.endpoint.port, target, asio::use_awaitable);
    (void)g;
  }

  template <class Ws>
  asio::awaitable<void> serve(std::uint64_t g, const std::string& pk) {
    open = true;
    if (callbacks.on_open) callbacks.on_open(pk);
    if (g != gen) co_return;
    kick_writer();
    auto& s = *std::get<std::unique_ptr<Ws>>(ws);
    beast::flat_buffer buf;
    for (;;) {
      buf.clear();
      co_await s.async_read(buf, asio::use_awaitable);
      if (g != gen) co_return;
      if (!s.got_text()) continue;  // the room protocol is text; the server ignores binary too
      if (callbacks.on_message) callbacks.on_message(beast::buffers_to_string(buf.data()));
      if (g != gen) co_return;
    }
  }

  void kick_writer() {
    if (writing || !open || queue.empty()) return;
    writing = true;
    asio::co_spawn(ex, write_loop(shared_from_this(), gen), asio::detached);
  }

  asio::awaitable<void> write_loop(std::shared_ptr<Impl> self, std::uint64_t g) {
    (void)self;
    while (g == gen && open && !queue.empty()) {
      std::string text = std::move(queue.front());
      queue.pop_front();
      beast::error_code ec;
      co_await std::visit(
          [&](auto& p) -> asio::awaitable<void> {
            if constexpr (!std::is_same_v<std::decay_t<decltype(p)>, std::monostate>) {
              p->text(true);
              co_await p->async_write(asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
            }
          },
          ws);
      if (ec) {
        writing = false;
        teardown();  // the reader sees the error and reports the close
        co_return;
      }
    }
    writing = false;
  }

  asio::awaitable<void> close_now(std::shared_ptr<Impl> self, std::uint64_t g) {
    (void)self;
    if (ws_gen != g) co_return;  // that connection is gone already
    asio::steady_timer t(ex, cfg.close_timeout);
    co_await std::visit(
        [&](auto& p) -> asio::awaitable<void> {
          if constexpr (!std::is_same_v<std::decay_t<decltype(p)>, std::monostate>) {
            if (p) {
              beast::error_code ec;
              co_await (p->async_close(websocket::close_code::normal, asio::redirect_error(asio::use_awaitable, ec)) ||
                        t.async_wait(tuple_awaitable));
            }
          }
        },
        ws);
    if (ws_gen == g) teardown();
  }
};

RoomSession::RoomSession(asio::any_io_executor ex, RoomSessionConfig config, Callbacks callbacks)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(config), std::move(callbacks))) {}

RoomSession::~RoomSession() {
  impl_->callbacks = {};
  ++impl_->gen;
  impl_->teardown();
}

void RoomSession::connect() {
  impl_->teardown();
  const auto g = ++impl_->gen;
  impl_->open = false;
  impl_->closed_reported = false;
  impl_->queue.clear();
  impl_->writing = false;
  impl_->ws = std::monostate{};
  asio::co_spawn(impl_->ex, impl_->run(impl_, g), asio::detached);
}

void RoomSession::send(std::string text) {
  if (!impl_->open) return;
  if (impl_->queue.size() >= impl_->cfg.max_queue) {
    // The server stopped reading us: a connection this far behind is dead.
    close("send queue full (" + std::to_string(impl_->cfg.max_queue) + " frames)");
    return;
  }
  impl_->queue.push_back(std::move(text));
  impl_->kick_writer();
}

void RoomSession::close(const std::string& reason) {
  if (impl_->closed_reported) return;
  const auto g = impl_->gen;
  impl_->open = false;
  impl_->closed_reported = true;
  impl_->queue.clear();
  asio::co_spawn(impl_->ex, impl_->close_now(impl_, g), asio::detached);
  if (impl_->callbacks.on_closed) impl_->callbacks.on_closed(reason);
  // Frames the reader already has in hand are not delivered after the close
  // (unless the callback already started a new connection, a new generation).
  if (impl_->gen == g) ++impl_->gen;
}

bool RoomSession::is_open() const { return impl_->open; }

}  // namespace wibwob::bridge
