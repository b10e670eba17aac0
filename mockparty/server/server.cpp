#include "mockparty/server/server.hpp"
#include "net/spawn.hpp"

#include <boost/uuid/uuid_io.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <deque>
#include <exception>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include "mockparty/server/mute_stream.hpp"
#include "net/cancellation.hpp"
#include "protocol/ipc.hpp"

namespace wibwob::mockparty {

namespace beast = boost::beast;
using protocol::Errc;
using protocol::make_error;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::size_t max_room_bytes = 80;  // keeps state file names < 255 bytes

std::int64_t now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Completion handler for the server's coroutines (net/spawn.hpp): an
// exception is a bug, printed and rethrown so the binary exits non-zero.
auto log_exceptions(std::string what) { return net::fail_loudly(std::move(what)); }

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

struct Route {
  std::string room;
  std::string pk;
};

// /party/<room> or /parties/main/<room>, room percent-decoded; `_pk` query.
std::optional<Route> route(beast::string_view target) {
  auto u = boost::urls::parse_origin_form(std::string_view(target.data(), target.size()));
  if (!u) return std::nullopt;
  std::vector<std::string> segs;
  for (auto s : u->segments()) segs.push_back(std::string(s));
  Route r;
  if (segs.size() == 2 && segs[0] == "party") {
    r.room = segs[1];
  } else if (segs.size() == 3 && segs[0] == "parties" && segs[1] == "main") {
    r.room = segs[2];
  } else {
    return std::nullopt;
  }
  if (r.room.empty() || r.room.size() > max_room_bytes) return std::nullopt;
  auto params = u->params();
  if (auto it = params.find("_pk"); it != params.end() && (*it).has_value) r.pk = std::string((*it).value);
  return r;
}

}  // namespace

// --- connections ------------------------------------------------------------------

class Connection {
 public:
  virtual ~Connection() = default;
  // Queue a text frame (delivered after the server's current delay).
  virtual void send(std::string text, std::string type, std::optional<std::int64_t> version) = 0;
  // Close frame after what is already queued.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  // TCP close now, no close frame.
  virtual void abort() = 0;
};

template <class Next>
class Session final : public Connection, public std::enable_shared_from_this<Session<Next>> {
 public:
  Session(Server& server, Next&& next, SocketId id, Route r)
      : server_(server), ws_(std::move(next)), wake_(server.io()), id_(id), room_(std::move(r.room)),
        conn_(std::move(r.pk)) {}

  awaitable<void> run(http::request<http::string_body> req) {
    auto self = this->shared_from_this();
    websocket::stream_base::timeout t = websocket::stream_base::timeout::suggested(beast::role_type::server);
    t.handshake_timeout = server_.config().handshake_timeout;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "mockparty"); }));
    ws_.read_message_max(server_.config().core.max_frame_bytes);
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind != websocket::frame_type::close) return;
      got_close_ = true;
      // Beast calls this before it replies: muting swallows the reply and
      // the teardown, like the real server that never answers.
      if (server_.core().options().defects.no_close_reply) ws_.next_layer().mute();
    });
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over

    beast::error_code ec;
    co_await ws_.async_accept(req, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    server_.connection_opened(id_, self, room_, conn_);
    writer_.spawn(writer(self), "mockparty writer");

    co_await reader();
    closed_ = true;
    writer_.cancel();  // the connection is over: nothing more is written
    server_.connection_closed(id_);

    if (got_close_ && ws_.next_layer().muted() && !aborted_) {
      // The client said goodbye and got no answer; it is the one to hang up
      // (its close timeout). Bounded so a silent client cannot pin us.
      auto& lowest = beast::get_lowest_layer(ws_);
      lowest.expires_after(server_.config().linger_after_close);
      std::array<char, 512> sink{};
      for (;;) {
        auto [rec, n] = co_await lowest.async_read_some(asio::buffer(sink), asio::as_tuple(use_awaitable));
        (void)n;
        if (rec) break;
      }
      beast::error_code ignored;
      lowest.socket().close(ignored);
    }
    server_.connection_finished(id_);
  }

  void send(std::string text, std::string type, std::optional<std::int64_t> version) override {
    if (closed_ || close_code_) return;
    if (queued_bytes_ + text.size() > server_.config().max_queue_bytes) {
      server_.log().write(room_, conn_, "event", "slow_consumer", std::nullopt, "send queue full: disconnecting");
      abort();
      return;
    }
    queued_bytes_ += text.size();
    queue_.push_back(Outgoing{steady::now() + server_.delay(), std::move(text), std::move(type), version});
    wake_.cancel();
  }

  void close(std::uint16_t code, std::string reason) override {
    if (closed_ || close_code_) return;
    close_code_ = code;
    close_reason_ = std::move(reason);
    wake_.cancel();
  }

  void abort() override {
    if (aborted_) return;
    aborted_ = true;
    closed_ = true;
    writer_.cancel();
    beast::error_code ignored;
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }

 private:
  struct Outgoing {
    steady::time_point due;
    std::string text;
    std::string type;
    std::optional<std::int64_t> version;
  };

  awaitable<void> reader() {
    beast::flat_buffer buf;
    for (;;) {
      beast::error_code ec;
      co_await ws_.async_read(buf, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == websocket::error::message_too_big)
          server_.log().write(room_, conn_, "event", "oversized", std::nullopt, "frame over the limit: closed with 1009");
        co_return;
      }
      const auto data = buf.cdata();
      if (ws_.got_text()) {
        server_.text_received(id_, std::string_view(static_cast<const char*>(data.data()), data.size()));
      } else {
        server_.binary_received(id_, data.size());
      }
      buf.consume(buf.size());
    }
  }

  // Runs in writer_ until the connection is over (run() or abort() cancel
  // it): after each await a checkpoint, so nothing is written for a
  // connection that ended meanwhile. send() and close() wake it.
  awaitable<void> writer(std::shared_ptr<Session> self) {
    (void)self;  // keeps the session alive while the writer runs
    beast::error_code ec;
    for (;;) {
      if (queue_.empty()) {
        if (close_code_) {
          co_await ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(*close_code_), close_reason_),
                                   asio::redirect_error(use_awaitable, ec));
          co_return;
        }
        wake_.expires_at(steady::time_point::max());
        co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
        co_await net::checkpoint();
        continue;
      }
      if (queue_.front().due > steady::now()) {
        wake_.expires_at(queue_.front().due);
        co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
        co_await net::checkpoint();
        continue;
      }
      Outgoing msg = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= msg.text.size();
      ws_.text(true);
      co_await ws_.async_write(asio::buffer(msg.text), asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      server_.log().write(room_, conn_, "out", msg.type, msg.version);
    }
  }

  Server& server_;
  websocket::stream<mute_stream<Next>> ws_;
  asio::steady_timer wake_;
  SocketId id_;
  std::string room_;
  std::string conn_;
  std::deque<Outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  std::optional<std::uint16_t> close_code_;
  std::string close_reason_;
  bool closed_ = false;   // send() and close() refuse: the connection is over
  bool aborted_ = false;  // ended by abort(): no lingering for the client's hang-up
  bool got_close_ = false;
  net::Scope writer_{server_.io().get_executor()};  // last: cancelled first when the session goes
};

// --- HTTP phase ---------------------------------------------------------------------

namespace {

template <class Stream>
awaitable<void> respond(Stream& stream, http::status status, unsigned version, std::string body) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "mockparty");
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(false);
  res.body() = std::move(body);
  res.prepare_payload();
  beast::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
}

}  // namespace

template <class Stream>
awaitable<void> serve_http(Server& server, Stream stream) {
  beast::flat_buffer buf;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(16 * 1024);
  beast::error_code ec;
  co_await http::async_read(stream, buf, parser, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return;
  auto req = parser.release();
  auto r = route(req.target());
  if (!r) {
    co_await respond(stream, http::status::not_found, req.version(), "not found\n");
    co_return;
  }
  if (!websocket::is_upgrade(req)) {
    co_await respond(stream, http::status::upgrade_required, req.version(), "websocket only\n");
    co_return;
  }
  if (server.refusing_upgrades()) {
    server.log().write(r->room, r->pk, "event", "refused", std::nullopt, "upgrade refused by fault injection");
    co_await respond(stream, http::status::service_unavailable, req.version(), "refusing upgrades\n");
    co_return;
  }
  if (r->pk.empty()) r->pk = server.random_uuid();
  beast::get_lowest_layer(stream).expires_never();
  auto session = std::make_shared<Session<Stream>>(server, std::move(stream), server.next_socket_id(), std::move(*r));
  co_await session->run(std::move(req));
}

awaitable<void> Server::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.socket().set_option(tcp::no_delay(true));
  stream.expires_after(config_.handshake_timeout);
  // Until the upgrade, stop() must be able to end this connection too: it
  // shuts the socket down (the descriptor stays ours), so the pending read
  // ends at once and the coroutine returns.
  // (The frame may be destroyed after the server, with the io_context: it
  // holds the registry by shared_ptr.)
  const int fd = stream.socket().native_handle();
  handshaking_->insert(fd);
  struct Unregister {
    std::shared_ptr<std::set<int>> set;
    int fd;
    ~Unregister() { set->erase(fd); }
  } unregister{handshaking_, fd};
  if (!ssl_) {
    co_await serve_http(*this, std::move(stream));
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *ssl_);
  beast::error_code ec;
  co_await tls.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return;
  co_await serve_http(*this, std::move(tls));
}

// --- the server --------------------------------------------------------------------

Server::Server(asio::io_context& io, ServerConfig config)
    : io_(io), config_(std::move(config)), core_(config_.core), acceptor_(io),
      control_(io, [this](const Json& req) { return ops_.run(req); }, [this](int code) { stop(code); }),
      listener_(io.get_executor()) {
  add_observation_ops(ops_);
  add_fault_ops(ops_);
}

Server::~Server() = default;

std::string Server::url() const {
  return std::string(tls() ? "wss://" : "ws://") + config_.host + ":" + std::to_string(port_);
}

// A random (version 4) UUID, as PartyKit gives a connection without `_pk`.
std::string Server::random_uuid() { return boost::uuids::to_string(uuids_()); }

protocol::Result<void> Server::start() {
  if (auto opened = log_.open(config_.log_path); !opened) return opened;
  if (!config_.state_dir.empty()) {
    auto st = StateStore::open(config_.state_dir);
    if (!st) return st.error();
    store_.emplace(std::move(st).value());
  }
  if (auto loaded = load_tls(); !loaded) return loaded;
  port_ = config_.port;
  if (auto listening = open_listener(); !listening) return listening;
  if (!config_.control_path.empty()) {
    if (auto opened = control_.open(config_.control_path); !opened)
      return make_error(opened.error().code, "control socket: " + opened.error().message);
  }
  return {};
}

protocol::Result<void> Server::load_tls() {
  if (config_.tls_cert.empty() && config_.tls_key.empty()) return {};
  if (config_.tls_cert.empty() || config_.tls_key.empty())
    return make_error(Errc::missing_field, "--tls-cert and --tls-key go together");
  ssl_.emplace(asio::ssl::context::tls_server);
  beast::error_code ec;
  ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  ssl_->use_certificate_chain_file(config_.tls_cert, ec);
  if (ec) return make_error(Errc::io_failed, "cannot load TLS certificate " + config_.tls_cert + ": " + ec.message());
  ssl_->use_private_key_file(config_.tls_key, asio::ssl::context::pem, ec);
  if (ec) return make_error(Errc::io_failed, "cannot load TLS key " + config_.tls_key + ": " + ec.message());
  return {};
}

protocol::Result<void> Server::open_listener() {
  beast::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(config_.host, ec), port_);
  if (ec) return make_error(Errc::bad_value, "bad host " + config_.host + ": " + ec.message());
  acceptor_.open(ep.protocol(), ec);
  // Resuming after a pause binds the same port again; accepted connections
  // in TIME_WAIT must not prevent it.
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return make_error(Errc::io_failed,
                      "cannot listen on " + config_.host + ":" + std::to_string(port_) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  paused_ = false;
  listener_.spawn(accept_loop(), "mockparty accept");
  return {};
}

// Runs in listener_ until a pause or stop() cancels it (the acceptor is then
// closed too). A connection that completed its accept just before that is
// closed at the checkpoint, as a closed listener's backlog is.
awaitable<void> Server::accept_loop() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(use_awaitable));
    co_await net::checkpoint();
    if (ec) {
      // EMFILE and friends under a connection flood: back off a little
      // instead of spinning, the backlog keeps the rest.
      spdlog::warn("accept: {}", ec.message());
      asio::steady_timer t(io_, std::chrono::milliseconds(10));
      co_await t.async_wait(use_awaitable);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(sock)), log_exceptions("mockparty connection"));
  }
}

void Server::pause_accepting(std::chrono::milliseconds ms) {
  listener_.cancel();  // the accept loop, or the resume of an earlier pause
  beast::error_code ignored;
  acceptor_.close(ignored);
  paused_ = true;
  listener_.spawn(resume_after(ms), "mockparty resume");
}

awaitable<void> Server::resume_after(std::chrono::milliseconds ms) {
  asio::steady_timer t(io_, ms);
  co_await t.async_wait(use_awaitable);  // cancelled: resumed early, paused again, or stopped
  resume_accepting();
}

void Server::resume_accepting() {
  if (!paused_ || stopped_) return;
  listener_.cancel();  // the pending resume (this very one when its time came)
  if (auto listening = open_listener(); !listening) {
    // Someone took the port meanwhile: keep trying, the contract is "same port".
    spdlog::error("resume: {}; retrying", listening.error().message);
    listener_.spawn(resume_after(std::chrono::milliseconds(50)), "mockparty resume");
  }
}

void Server::stop(int code) {
  if (stopped_) return;
  stopped_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  listener_.cancel();
  control_.close(/*unlink_file=*/true);
  for (int fd : *handshaking_) ::shutdown(fd, SHUT_RDWR);
  auto conns = conns_;  // abort() may re-enter and erase
  for (auto& [id, c] : conns) c->abort();
  if (on_exit) on_exit(code);
}

void Server::ensure_room_loaded(const std::string& room) {
  if (!store_ || core_.has_room(room)) return;
  auto st = store_->load(room);
  if (!st) {
    spdlog::error("state for room {}: {} (starting empty)", room, st.error().message);
    return;
  }
  if (*st) core_.load_room(room, std::move(**st));
}

void Server::connection_opened(SocketId id, std::shared_ptr<Connection> c, const std::string& room,
                               const std::string& conn) {
  ensure_room_loaded(room);
  conns_[id] = std::move(c);
  execute(core_.on_open(id, room, conn));
}

void Server::connection_closed(SocketId id) { execute(core_.on_close(id)); }

void Server::connection_finished(SocketId id) { conns_.erase(id); }

void Server::text_received(SocketId id, std::string_view text) { execute(core_.on_text(id, text, now_epoch_ms())); }

void Server::binary_received(SocketId id, std::size_t bytes) { execute(core_.on_binary(id, bytes)); }

void Server::execute(Effects effects) {
  for (auto& e : effects) {
    std::visit(overloaded{
                   [&](Send& s) {
                     if (auto it = conns_.find(s.to); it != conns_.end())
                       it->second->send(std::move(s.text), std::move(s.type), s.version);
                   },
                   [&](Close& c) {
                     if (auto it = conns_.find(c.to); it != conns_.end()) it->second->close(c.code, c.reason);
                   },
                   [&](Persist& p) {
                     if (!store_) return;
                     if (auto saved = store_->save(p.room, p.state_json); !saved)
                       spdlog::error("persist: {}", saved.error().message);
                   },
                   [&](Log& l) { log_.write(l.room, l.conn, l.dir, l.type, l.version, l.note); },
               },
               e);
  }
}

int Server::drop(const std::string* room, std::optional<std::uint16_t> code) {
  std::vector<SocketId> ids;
  if (room) {
    ids = core_.sockets(*room);
  } else {
    for (const auto& [id, c] : conns_) ids.push_back(id);
  }
  int n = 0;
  for (SocketId id : ids) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    auto c = it->second;  // keep alive across abort()
    if (code) {
      c->close(*code, "dropped by fault injection");
    } else {
      c->abort();
    }
    ++n;
  }
  return n;
}

// --- control ------------------------------------------------------------------------
// The op table (fixture/control_ops.hpp; docs/mockparty.md lists the ops):
// observation, then faults.

namespace {

using fixture::fail;
using fixture::int_field;
using fixture::ok;
using fixture::Reply;
using fixture::string_field;

// The defects by name, as `status` shows them and `set_defects` takes them.
constexpr std::pair<const char*, bool Defects::*> defect_fields[] = {
    {"leave_count_off_by_one", &Defects::leave_count_off_by_one},
    {"no_close_reply", &Defects::no_close_reply},
    {"duplicate_pk_ghost", &Defects::duplicate_pk_ghost},
    {"state_limit_silent", &Defects::state_limit_silent}};

Json defects_json(const Defects& d) {
  Json j = Json::object();
  for (auto [key, field] : defect_fields) j[key] = d.*field;
  return j;
}

Json stats_json(const PartyCore::Stats& st) {
  return Json{{"messages_in", st.messages_in}, {"deltas_applied", st.deltas_applied},
              {"deltas_rejected", st.deltas_rejected}, {"over_limit", st.over_limit}, {"ignored", st.ignored}};
}

}  // namespace

Json Server::control(const Json& request) {
  return fixture::answer_in_process(ops_.run(request), [this](int code) { stop(code); });
}

void Server::add_observation_ops(fixture::ControlOps& ops) {
  ops.add("ping", [](const Json&) -> Reply { return ok(); });
  ops.add("status", [this](const Json&) -> Reply {
    return ok({{"url", url()}, {"port", port_}, {"tls", tls()}, {"rooms", core_.rooms()},
               {"connections", conns_.size()}, {"sockets", core_.socket_count()}, {"accepting", acceptor_.is_open()},
               {"refusing_upgrades", refuse_upgrades_}, {"delay_ms", delay_.count()},
               {"defects", defects_json(core_.options().defects)}, {"stats", stats_json(core_.stats())}});
  });
  ops.add("state", [this](const Json& req) -> Reply {
    auto room = string_field(req, "room");
    if (!room) return fail("state needs a string room");
    const auto* s = core_.state(*room);
    Json conns = Json::array();
    for (SocketId id : core_.sockets(*room)) {
      const auto* info = core_.socket(id);
      conns.push_back(Json{{"conn", info->conn}, {"ghost", info->ghost}});
    }
    return ok({{"room", *room}, {"state", s ? s->to_json() : Json(nullptr)}, {"connections", conns}});
  });
}

void Server::add_fault_ops(fixture::ControlOps& ops) {
  ops.add("drop", [this](const Json& req) -> Reply {
    auto room = string_field(req, "room");
    if (req.contains("room") && !room) return fail("room must be a string");
    std::optional<std::uint16_t> code;
    if (req.contains("code")) {
      auto c = int_field(req, "code", 1000, 4999);
      if (!c) return fail("code must be an integer in 1000..4999");
      code = static_cast<std::uint16_t>(*c);
    }
    return ok({{"dropped", drop(room ? &*room : nullptr, code)}});
  });
  ops.add("pause_accept", [this](const Json& req) -> Reply {
    auto ms = int_field(req, "ms", 0, 3'600'000);
    if (!ms) return fail("pause_accept needs ms in 0..3600000");
    pause_accepting(std::chrono::milliseconds(*ms));
    return ok({{"port", port_}});
  });
  ops.add("resume_accept", [this](const Json&) -> Reply {
    resume_accepting();
    return ok({{"accepting", acceptor_.is_open()}});
  });
  ops.add("set_delay", [this](const Json& req) -> Reply {
    auto ms = int_field(req, "ms", 0, 600'000);
    if (!ms) return fail("set_delay needs ms in 0..600000");
    delay_ = std::chrono::milliseconds(*ms);
    return ok();
  });
  ops.add("refuse_upgrades", [this](const Json& req) -> Reply {
    auto on = fixture::bool_field(req, "on");
    if (!on) return fail("refuse_upgrades needs a boolean on");
    refuse_upgrades_ = *on;
    return ok();
  });
  ops.add("set_defects", [this](const Json& req) -> Reply {
    Defects d = core_.options().defects;
    for (auto [key, field] : defect_fields) {
      if (!req.contains(key)) continue;
      auto v = fixture::bool_field(req, key);
      if (!v) return fail(std::string(key) + " must be a boolean");
      d.*field = *v;
    }
    core_.set_defects(d);
    return ok({{"defects", defects_json(core_.options().defects)}});
  });
  ops.add("exit", [](const Json& req) -> Reply {
    if (!req.contains("code")) return fixture::exit_after_reply(0);
    auto code = int_field(req, "code", 0, 255);
    if (!code) return fail("code must be an integer in 0..255");
    return fixture::exit_after_reply(static_cast<int>(*code));
  });
}

}  // namespace wibwob::mockparty
