#include "orchestrator/io/runner.hpp"

#include <csignal>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <spdlog/spdlog.h>

#include "bridge/ipc/ipc_client.hpp"
#include "common/logging.hpp"
#include "net/cancellation.hpp"
#include "orchestrator/io/process.hpp"

namespace wibwob::orchestrator {

namespace asio = boost::asio;

Runner::Runner(asio::io_context& io, Plan plan, SupervisorConfig config, ProbeTimeouts probe)
    : io_(io),
      sup_(std::move(plan), config, [] { return fresh_secret(); }),
      probe_(probe),
      epoch_(std::chrono::steady_clock::now()),
      wake_(io),
      child_signals_(io, SIGCHLD),
      stop_signals_(io, SIGTERM, SIGINT) {}

Ms Runner::now() const {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - epoch_);
}

void Runner::run() {
  // A dead bridge must not take us down with SIGPIPE (we never write to
  // children, but the IPC probe writes to sockets).
  std::signal(SIGPIPE, SIG_IGN);
  child_signals_.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) on_child_signal();
  });
  stop_signals_.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) on_stop_signal();
  });
  apply(sup_.start(now()));
  if (!sup_.finished()) io_.run();
}

void Runner::on_child_signal() {
  for (const auto& r : reap_children()) apply(sup_.on_exited(r.pid, r.how, now()));
  if (sup_.finished()) return;
  child_signals_.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) on_child_signal();
  });
}

void Runner::on_stop_signal() {
  spdlog::info("stop requested by signal");
  apply(sup_.request_stop(now()));
  if (sup_.finished()) return;
  stop_signals_.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) on_stop_signal();
  });
}

Effects Runner::start_child(const effect::Start& s) {
  const std::string& room = sup_.plan().rooms[s.room].room.room_id;
  const std::string role = to_string(s.role);
  std::string cmd;
  for (const auto& a : s.launch.argv) cmd += (cmd.empty() ? "" : " ") + a;
  const std::string log_path = log_path_for(sup_.plan(), s.room, role);
  logging::log_fields(spdlog::level::info,
                      "[" + room + "] starting " + role + ": " + cmd +
                          (log_path.empty() ? "" : " (output to " + log_path + ")"),
                      {{"room", room}, {"role", role}, {"log", log_path}});
  auto pid = spawn_process(s.launch, log_path);
  return pid ? sup_.on_started(s.room, s.role, *pid, now())
             : sup_.on_start_failed(s.room, s.role, pid.error().message, now());
}

void Runner::start_probe(const effect::Probe& p) {
  bridge::IpcClientConfig c;
  c.socket_path = p.socket_path;
  c.secret = p.secret;
  c.connect_timeout = probe_.connect;
  c.auth_step_timeout = probe_.auth_step;
  c.reply_timeout = probe_.reply;
  const std::size_t room = p.room;
  const std::uint64_t id = p.id;
  // One probe per room at a time; Finished cancels the ones in flight, and a
  // cancelled probe ends at its checkpoint without reporting (until_cancelled
  // makes that a normal end). Anything else a probe throws is a bug: the
  // handler rethrows, io_context::run() throws, and wibwob-rooms exits
  // non-zero with the message.
  asio::co_spawn(
      io_, net::until_cancelled(probe(std::move(c), room, id)),
      asio::bind_cancellation_slot(probe_stop_[room].slot(), [](std::exception_ptr ex) {
        if (ex) std::rethrow_exception(ex);
      }));
}

// Parameters by value: they live in the coroutine's frame.
asio::awaitable<void> Runner::probe(bridge::IpcClientConfig c, std::size_t room, std::uint64_t id) {
  auto outcome = co_await bridge::ipc_request(c, "cmd:get_state\n");
  co_await net::checkpoint();  // a reply that raced Finished is not reported
  ProbeReply reply{outcome.failure == bridge::IpcFailure::none, std::move(outcome.text)};
  apply(sup_.on_probe_result(room, id, reply, now()));
}

void Runner::send_signal(const effect::Signal& sig) {
  const std::string& room = sup_.plan().rooms[sig.room].room.room_id;
  spdlog::info("[{}] {} {} (pid {})", room, sig.sig == Sig::term ? "SIGTERM to" : "SIGKILL to", to_string(sig.role),
               sig.pid);
  if (auto sent = signal_process(sig.pid, sig.sig == Sig::kill); !sent)
    spdlog::warn("[{}] signalling pid {}: {}", room, sig.pid, sent.error().message);
}

// The supervisor is done: cancel everything still waiting, so run() returns.
void Runner::finish() {
  wake_.cancel();
  boost::system::error_code ignored;
  child_signals_.cancel(ignored);
  stop_signals_.cancel(ignored);
  for (auto& [room_index, signal] : probe_stop_) signal.emit(asio::cancellation_type::terminal);
}

void Runner::apply(Effects effects) {
  // Effects can produce inputs (a spawn reports its pid at once), which
  // produce effects: one queue, drained here, never re-entered.
  queue_.insert(queue_.end(), std::make_move_iterator(effects.begin()), std::make_move_iterator(effects.end()));
  if (applying_) return;
  applying_ = true;
  while (!queue_.empty()) {
    Effect e = std::move(queue_.front());
    queue_.erase(queue_.begin());
    if (auto* s = std::get_if<effect::Start>(&e)) {
      Effects more = start_child(*s);
      queue_.insert(queue_.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    } else if (auto* p = std::get_if<effect::Probe>(&e)) {
      start_probe(*p);
    } else if (auto* sig = std::get_if<effect::Signal>(&e)) {
      send_signal(*sig);
    } else if (auto* w = std::get_if<effect::WakeAt>(&e)) {
      wake_.expires_at(epoch_ + w->at);
      wake_.async_wait([this](boost::system::error_code ec) {
        if (!ec) apply(sup_.on_timer(now()));
      });
    } else if (auto* l = std::get_if<effect::Log>(&e)) {
      const auto level = logging::to_spdlog(l->level);
      if (l->room.empty())
        spdlog::log(level, "{}", l->text);
      else
        spdlog::log(level, "[{}] {}", l->room, l->text);
    } else if (std::holds_alternative<effect::Finished>(e)) {
      finish();
    }
  }
  applying_ = false;
}

}  // namespace wibwob::orchestrator
