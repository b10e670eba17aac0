#include "bridge/io/runtime.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "bridge/core/status.hpp"
#include "bridge/io/cancellation.hpp"
#include "bridge/io/local_paths.hpp"
#include "common/logging.hpp"
#include "net/unix_socket.hpp"

namespace wibwob::bridge {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

std::string describe(const EngineStats& s) {
  return "polls " + std::to_string(s.polls) + ", deltas sent " + std::to_string(s.deltas_sent) + ", received " +
         std::to_string(s.deltas_received) + ", IPC commands " + std::to_string(s.ipc_commands) + " (failed " +
         std::to_string(s.ipc_failures) + "), bad room messages " + std::to_string(s.bad_room_messages) +
         ", bad IPC replies " + std::to_string(s.bad_ipc_replies) + ", not creatable here " +
         std::to_string(s.uncreatable) + ", connects " + std::to_string(s.connects) + ", resyncs " +
         std::to_string(s.resyncs) + ", app restarts " + std::to_string(s.app_restarts) + ", chat in/out " +
         std::to_string(s.chat_in) + "/" + std::to_string(s.chat_out);
}

Runtime::Runtime(asio::io_context& io, BridgeConfig config)
    : io_(io),
      cfg_(std::move(config)),
      engine_(cfg_.engine),
      events_(io.get_executor()),
      ipc_jobs_(io.get_executor()),
      room_(io.get_executor(), cfg_.room, [this](RoomEvent ev) { events_.push(std::move(ev)); }),
      t0_(std::chrono::steady_clock::now()) {}

Ms Runtime::now() const { return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0_); }

asio::awaitable<void> Runtime::run() {
  spdlog::info("bridge for {} -> {} (origin {})", cfg_.ipc.socket_path, cfg_.room.endpoint.url_for_logs,
               engine_.origin());
  co_await (until_cancelled(event_loop()) && until_cancelled(room_.run()) && until_cancelled(ipc_loop()) &&
            until_cancelled(subscription_loop()) && until_cancelled(status_loop()) &&
            until_cancelled(status_server()));
  spdlog::info("stopped: {}", describe(engine_.stats()));
}

asio::awaitable<void> Runtime::event_loop() {
  execute(engine_.start(now()));
  asio::steady_timer deadline(io_);
  for (;;) {
    const auto due = engine_.next_deadline();
    deadline.expires_at(due ? t0_ + *due : asio::steady_timer::time_point::max());
    co_await (events_.wait() || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    drain();
  }
}

void Runtime::drain() {
  while (!events_.empty()) handle(events_.take());
  if (const auto d = engine_.next_deadline(); d && now() >= *d) execute(engine_.on_timer(now()));
}

void Runtime::handle(RuntimeEvent ev) {
  namespace re = runtime_event;
  if (auto* room = std::get_if<RoomEvent>(&ev)) {
    handle_room(std::move(*room));
  } else if (auto* reply = std::get_if<re::IpcReply>(&ev)) {
    execute(engine_.on_ipc_reply(reply->id, reply->outcome, now()));
  } else if (auto* line = std::get_if<re::IpcEventLine>(&ev)) {
    execute(engine_.on_ipc_event(line->line, now()));
  } else if (std::holds_alternative<re::AppUnreachable>(ev)) {
    execute(engine_.on_app_unreachable(now()));
  } else if (auto* identity = std::get_if<re::AppIdentity>(&ev)) {
    execute(engine_.on_app_identity(std::move(identity->key), now()));
  } else {
    spdlog::info("status: {} v{} | {}", engine_.room_synced() ? "synced" : "not synced",
                 engine_.confirmed_version().value_or(-1), describe(engine_.stats()));
  }
}

void Runtime::handle_room(RoomEvent ev) {
  if (auto* open = std::get_if<room_event::Opened>(&ev)) {
    spdlog::info("connected to {} as {}", cfg_.room.endpoint.url_for_logs, open->conn_id);
    execute(engine_.on_room_open(now()));
  } else if (auto* frame = std::get_if<room_event::Frame>(&ev)) {
    execute(engine_.on_room_message(frame->text, now()));
  } else {
    spdlog::info("room connection ended: {}", std::get<room_event::Closed>(ev).reason);
    execute(engine_.on_room_closed(now()));
  }
}

// Effects only enqueue work for the loops that own the sockets.
void Runtime::execute(Effects fx) {
  for (auto& e : fx) {
    if (auto* ipc = std::get_if<effect::SendIpc>(&e)) {
      ipc_jobs_.push(IpcJob{ipc->id, std::move(ipc->line)});
    } else if (auto* send = std::get_if<effect::SendRoom>(&e)) {
      room_.send(std::move(send->text));
    } else if (std::holds_alternative<effect::ConnectRoom>(e)) {
      spdlog::info("connecting to {}", cfg_.room.endpoint.url_for_logs);
      room_.connect();
    } else if (auto* close = std::get_if<effect::CloseRoom>(&e)) {
      room_.close(std::move(close->reason));
    } else if (auto* log = std::get_if<effect::Log>(&e)) {
      spdlog::log(logging::to_spdlog(log->level), "{}", log->text);
      if (log->level == LogLevel::warn || log->level == LogLevel::error) last_error_ = log->text;
    }
  }
  save_handover();
}

// After every input: the mapping the next bridge run resumes (handover.hpp).
void Runtime::save_handover() {
  if (cfg_.handover_file.empty()) return;
  auto handover = engine_.take_handover();
  if (!handover) return;
  auto written = write_handover_file(cfg_.handover_file, encode_handover(*handover));
  if (written) {
    handover_error_.reset();
  } else if (handover_error_ != written.error().message) {
    handover_error_ = written.error().message;
    spdlog::warn("{}; a bridge restart will match windows by content", *handover_error_);
    last_error_ = handover_error_;
  }
}

asio::awaitable<void> Runtime::ipc_loop() {
  for (;;) {
    co_await ipc_jobs_.wait();
    IpcJob job = ipc_jobs_.take();
    IpcOutcome outcome = co_await ipc_request(cfg_.ipc, std::move(job.line));
    post_reply(job.id, std::move(outcome));
  }
}

asio::awaitable<void> Runtime::subscription_loop() {
  asio::steady_timer wait(io_);
  for (;;) {
    post_identity(socket_identity(cfg_.ipc.socket_path));
    auto outcome = co_await ipc_subscribe(
        cfg_.ipc, [this](std::string_view line) { post(runtime_event::IpcEventLine{std::string(line)}); });
    if (outcome.failure == IpcFailure::unreachable) post_unreachable();
    spdlog::debug("event subscription ended ({}); resubscribing", outcome.text);
    wait.expires_after(cfg_.resubscribe_delay);
    co_await wait.async_wait(asio::use_awaitable);
  }
}

std::string Runtime::status_line() const {
  return status_json(engine_, StatusContext{now(), cfg_.room.endpoint.url_for_logs, last_error_}).dump() + "\n";
}

namespace {

// Removes the socket file when the server's scope ends (also by cancellation).
struct Unlink {
  std::string path;
  ~Unlink() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

}  // namespace

// Answers each connection with one status object, then closes it.
asio::awaitable<void> Runtime::status_server() {
  if (cfg_.status_socket.empty()) co_return;
  asio::local::stream_protocol::acceptor acceptor(io_);
  if (auto bound = net::bind_unix_socket(acceptor, cfg_.status_socket); !bound) {
    spdlog::warn("no status socket: {}", bound.error().message);
    co_return;
  }
  Unlink unlink{cfg_.status_socket};
  ::chmod(cfg_.status_socket.c_str(), 0600);  // the room URL and counts are this user's business
  spdlog::info("status on {}", cfg_.status_socket);
  for (;;) {
    auto [ec, peer] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
    if (ec) continue;
    const std::string line = status_line();
    asio::steady_timer deadline(io_, std::chrono::seconds(1));
    co_await (asio::async_write(peer, asio::buffer(line), asio::as_tuple(asio::use_awaitable)) ||
              deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  }
}

asio::awaitable<void> Runtime::status_loop() {
  if (cfg_.status_interval.count() <= 0) co_return;
  asio::steady_timer wait(io_);
  for (;;) {
    wait.expires_after(cfg_.status_interval);
    co_await wait.async_wait(asio::use_awaitable);
    post_status_tick();
  }
}

}  // namespace wibwob::bridge
