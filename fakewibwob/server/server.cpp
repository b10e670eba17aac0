#include "fakewibwob/server/server.hpp"

#include "fakewibwob/server/disk_files.hpp"
#include "net/cancellation.hpp"
#include "net/spawn.hpp"
#include "net/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <csignal>
#include <filesystem>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace wibwob::fakewibwob {

namespace {

using namespace boost::asio::experimental::awaitable_operators;
using boost::system::error_code;
using clock = std::chrono::steady_clock;

// Expected endings (EOF, peer gone, cancelled) come back as values.
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// One read() of at most the buffer's size. Returns the byte count (0 on EOF
// or error), or nullopt when `timeout` passed first.
asio::awaitable<std::optional<std::size_t>> read_some_for(unix_socket& s, asio::mutable_buffer b,
                                                          std::optional<Millis> timeout) {
  if (!timeout) {
    auto [ec, n] = co_await s.async_read_some(b, nothrow);
    co_return ec ? std::size_t{0} : n;
  }
  asio::steady_timer t(s.get_executor(), *timeout);
  auto result = co_await (s.async_read_some(b, nothrow) || t.async_wait(nothrow));
  if (result.index() == 1) co_return std::nullopt;
  auto [ec, n] = std::get<0>(result);
  co_return ec ? std::size_t{0} : n;
}

asio::awaitable<bool> write_all(unix_socket& s, const std::string& data) {
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(data), nothrow);
  co_return !ec;
}

void close_quietly(unix_socket& s) {
  error_code ec;
  s.close(ec);
}

// What the shell provides the core: the disk for workspace files (unless the
// caller brought its own) and the wall clock for their timestamps.
ServerConfig with_shell_services(ServerConfig c) {
  if (!c.core.files) c.core.files = std::make_shared<DiskFiles>();
  c.core.epoch_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return c;
}

}  // namespace

Server::Server(asio::io_context& io, ServerConfig config)
    : io_(io),
      config_(with_shell_services(std::move(config))),
      app_(config_.core),
      acceptor_(io),
      control_(io, [this](const ipc::Json& req) { return handle_control(req); }, [this](int code) { stop(code); }),
      wake_(io),
      started_(clock::now()),
      rng_(std::random_device{}()) {
  if (!config_.crash) config_.crash = [] { std::raise(SIGKILL); };
  app_.restart(config_.layout);
  add_person_ops(ops_);
  add_lifecycle_ops(ops_);
  add_fault_ops(ops_);
  add_observation_ops(ops_);
}

Server::~Server() {
  // No on_exit from a destructor: its captures may already be gone.
  on_exit = nullptr;
  stop(0);
}

Millis Server::now() const { return std::chrono::duration_cast<Millis>(clock::now() - started_); }

protocol::Result<void> Server::bind_app() { return net::bind_unix_socket(acceptor_, config_.socket_path); }

protocol::Result<void> Server::start() {
  if (auto bound = bind_app(); !bound) return bound;
  if (!config_.control_path.empty()) {
    if (auto opened = control_.open(config_.control_path); !opened) {
      error_code ec;
      acceptor_.close(ec);
      return opened;
    }
  }
  started_ok_ = true;
  app_scope_.spawn(app_loop(), "fakewibwob app loop");
  return {};
}

void Server::stop(int code) {
  if (stopped_) return;
  stopped_ = true;
  // The app loop and a pending end of down time end by cancellation; the
  // sockets are closed for the peers' sake.
  app_scope_.cancel();
  down_scope_.cancel();
  error_code ec;
  acceptor_.close(ec);
  control_.close();
  if (current_) close_quietly(*current_);
  for (auto& s : subscribers_) close_quietly(*s);
  subscribers_.clear();
  for (auto& [id, s] : held_) close_quietly(*s);
  held_.clear();
  if (started_ok_) {
    std::error_code fec;
    if (config_.remove_socket_on_exit) std::filesystem::remove(config_.socket_path, fec);
    // The control socket is the fake's own, not the app's: always tidy it.
    if (!config_.control_path.empty()) std::filesystem::remove(config_.control_path, fec);
  }
  if (on_exit) {
    auto cb = std::move(on_exit);
    on_exit = nullptr;
    cb(code);
  }
}

void Server::set_refusing(bool refuse) {
  if (stopped_) return;
  if (refuse) {
    // Closing the listener but keeping the file: a connect is refused,
    // exactly what a client sees when the app is not running.
    error_code ec;
    acceptor_.close(ec);
    return;
  }
  if (acceptor_.is_open()) return;
  if (auto bound = bind_app(); !bound) spdlog::error("fakewibwob: cannot listen again: {}", bound.error().message);
  wake_.cancel();
}

// --- the app's UI loop -----------------------------------------------------------

// Runs in app_scope_ until stop() cancels it: every await is followed by a
// checkpoint, so a result that raced the cancellation is not acted on.
asio::awaitable<void> Server::app_loop() {
  asio::steady_timer tick(io_);
  std::optional<clock::time_point> last_tick;
  for (;;) {
    if (!acceptor_.is_open()) {
      wake_.expires_at(clock::time_point::max());
      co_await wake_.async_wait(nothrow);
      co_await net::checkpoint();
      continue;
    }
    auto [ec] = co_await acceptor_.async_wait(unix_acceptor::wait_read, nothrow);
    co_await net::checkpoint();
    if (ec) continue;  // listener closed (refusing): wait to be woken
    if (config_.ui_tick.count() > 0) {
      // The app polls its listener once per UI tick: a new connection waits
      // for the next tick boundary, and back-to-back ones are a tick apart.
      const auto len = std::chrono::duration_cast<clock::duration>(config_.ui_tick);
      const auto since = clock::now() - started_;
      auto at = started_ + ((since + len - clock::duration(1)) / len) * len;
      if (last_tick && at <= *last_tick) at = *last_tick + len;
      tick.expires_at(at);
      co_await tick.async_wait(nothrow);
      co_await net::checkpoint();
      last_tick = at;
    }
    if (!acceptor_.is_open()) continue;
    unix_socket socket(io_);
    error_code aec;
    acceptor_.non_blocking(true, aec);
    acceptor_.accept(socket, aec);
    if (aec) continue;  // the client gave up before the tick
    co_await serve(std::move(socket));
  }
}

asio::awaitable<void> Server::serve(unix_socket socket) {
  ++served_;
  current_ = &socket;
  struct ClearCurrent {
    Server* s;
    ~ClearCurrent() { s->current_ = nullptr; }
  } clear_current{this};

  std::array<char, ipc::max_request_bytes> buf{};
  const std::size_t n = co_await read_command(socket, asio::buffer(buf));
  co_await net::checkpoint();
  if (n == 0) co_return;

  Response r = app_.handle_request(std::string_view(buf.data(), n), now());
  // The app pushes events from inside the handler: before the reply.
  broadcast();
  if (!r.reply) {
    // backrooms_tv: the reply waits for a person to close the dialog. The
    // app's nested modal loop keeps serving other connections meanwhile.
    held_[*r.dialog] = std::make_unique<unix_socket>(std::move(socket));
    co_return;
  }
  if (reply_delay_.count() > 0) {
    asio::steady_timer t(io_, reply_delay_);
    co_await t.async_wait(nothrow);
    co_await net::checkpoint();
  }
  if (!co_await write_all(socket, *r.reply)) co_return;  // client left mid-reply
  if (r.subscribe) {
    keep_as_subscriber(std::move(socket));
    co_return;
  }
  error_code ec;
  socket.shutdown(unix_socket::shutdown_send, ec);
  // The app waits for the client to close before it moves on (quirk).
  for (;;) {
    auto [rec, m] = co_await socket.async_read_some(asio::buffer(buf), nothrow);
    if (rec) break;
  }
}

// The command's bytes; 0 when the client left or failed to authenticate.
// With auth on, the handshake comes first and each step gets its timeout.
asio::awaitable<std::size_t> Server::read_command(unix_socket& socket, asio::mutable_buffer buf) {
  if (!config_.secret) {
    // No timeout: a client that connects and never writes stalls the app.
    auto got = co_await read_some_for(socket, buf, std::nullopt);
    co_return got.value_or(0);
  }
  std::array<std::uint8_t, 16> random{};
  for (auto& b : random) b = static_cast<std::uint8_t>(rng_());
  AuthSession auth(*config_.secret, make_nonce(random));
  const std::string challenge = auth.challenge();
  if (!co_await write_all(socket, challenge)) co_return 0;
  auto got = co_await read_some_for(socket, buf, config_.auth_step_timeout);
  if (!got) {
    const std::string failed = auth.on_timeout();
    co_await write_all(socket, failed);
    co_return 0;
  }
  if (*got == 0) co_return 0;
  const std::string verdict = auth.on_answer(std::string_view(static_cast<const char*>(buf.data()), *got));
  if (!co_await write_all(socket, verdict)) co_return 0;
  if (auth.state() != AuthSession::State::authenticated) co_return 0;
  // The command needs a fresh read: anything sent with the answer is lost.
  got = co_await read_some_for(socket, buf, config_.auth_step_timeout);
  co_return got.value_or(0);
}

void Server::keep_as_subscriber(unix_socket socket) {
  error_code ec;
  if (config_.subscriber_sndbuf > 0) socket.set_option(asio::socket_base::send_buffer_size(config_.subscriber_sndbuf), ec);
  // Pushes never wait: a full buffer means the subscriber is dropped.
  socket.non_blocking(true, ec);
  subscribers_.push_back(std::make_unique<unix_socket>(std::move(socket)));
}

void Server::broadcast() {
  for (const auto& e : app_.take_events()) {
    const std::string line = ipc::format_event(e);
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      error_code ec;
      const std::size_t written = (*it)->write_some(asio::buffer(line), ec);
      if (ec || written < line.size()) {
        spdlog::info("fakewibwob: subscriber dropped ({})", ec ? ec.message() : "buffer full");
        close_quietly(**it);
        it = subscribers_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void Server::answer_dialog(std::uint64_t dialog, std::string reply) {
  auto it = held_.find(dialog);
  if (it == held_.end()) return;
  std::shared_ptr<unix_socket> socket(std::move(it->second));
  held_.erase(it);
  asio::co_spawn(
      io_,
      [socket, reply = std::move(reply)]() -> asio::awaitable<void> {
        co_await write_all(*socket, reply);
        error_code ec;
        socket->shutdown(unix_socket::shutdown_send, ec);
        socket->close(ec);
      },
      net::fail_loudly("fakewibwob dialog answer"));
}

void Server::close_held(std::uint64_t dialog) {
  auto it = held_.find(dialog);
  if (it == held_.end()) return;
  close_quietly(*it->second);
  held_.erase(it);
}

void Server::restart(std::vector<OpenSpec> layout, Millis down) {
  // A new process: every connection of the old one dies.
  for (auto& s : subscribers_) close_quietly(*s);
  subscribers_.clear();
  for (auto d : app_.restart(layout)) close_held(d);
  for (auto& [id, s] : held_) close_quietly(*s);
  held_.clear();
  if (current_) close_quietly(*current_);
  if (down.count() > 0) {
    set_refusing(true);
    down_scope_.cancel();  // an earlier restart's down time, if still running
    down_scope_.spawn(listen_again_after(down), "fakewibwob down time");
  }
}

// Runs in down_scope_: a later restart or stop() cancels it.
asio::awaitable<void> Server::listen_again_after(Millis down) {
  asio::steady_timer t(io_, down);
  co_await t.async_wait(asio::use_awaitable);
  co_await net::checkpoint();  // the time came, but a restart or stop() ended the task meanwhile
  set_refusing(false);
}

}  // namespace wibwob::fakewibwob
