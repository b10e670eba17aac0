#include "bridge/io/runtime.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace wibwob::bridge {

namespace asio = boost::asio;

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
      room_(io.get_executor(), cfg_.room,
            RoomSession::Callbacks{
                [this](const std::string& pk) {
                  spdlog::info("connected to {} as {}", cfg_.room.endpoint.url_for_logs, pk);
                  execute(engine_.on_room_open(now()));
                },
                [this](std::string text) { execute(engine_.on_room_message(text, now())); },
                [this](const std::string& reason) {
                  if (stopping_) return;
                  spdlog::info("room connection ended: {}", reason);
                  execute(engine_.on_room_closed(now()));
                }}),
      timer_(io),
      t0_(std::chrono::steady_clock::now()) {}

Runtime::~Runtime() { *alive_ = false; }

Ms Runtime::now() const {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0_);
}

void Runtime::start() {
  spdlog::info("bridge for {} -> {} (origin {})", cfg_.ipc.socket_path, cfg_.room.endpoint.url_for_logs,
               engine_.origin());
  asio::co_spawn(io_, subscription_loop(), asio::detached);
  if (cfg_.status_interval.count() > 0) asio::co_spawn(io_, status_loop(), asio::detached);
  execute(engine_.start(now()));
}

void Runtime::stop() {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("stopping: {}", describe(engine_.stats()));
  timer_.cancel();
  room_.close("bridge stopping");
  *alive_ = false;
}

void Runtime::execute(Effects fx) {
  if (stopping_) return;
  for (auto& e : fx) {
    std::visit(
        [this](auto&& ef) {
          using T = std::decay_t<decltype(ef)>;
          if constexpr (std::is_same_v<T, effect::SendIpc>) {
            auto alive = alive_;
            asio::co_spawn(
                io_,
                [this, alive, ef]() -> asio::awaitable<void> {
                  auto outcome = co_await ipc_request(cfg_.ipc, ef.line);
                  if (!*alive) co_return;
                  execute(engine_.on_ipc_reply(ef.id, outcome, now()));
                },
                asio::detached);
          } else if constexpr (std::is_same_v<T, effect::SendRoom>) {
            room_.send(std::move(ef.text));
          } else if constexpr (std::is_same_v<T, effect::ConnectRoom>) {
            spdlog::info("connecting to {}", cfg_.room.endpoint.url_for_logs);
            room_.connect();
          } else if constexpr (std::is_same_v<T, effect::CloseRoom>) {
            room_.close(ef.reason);
          } else if constexpr (std::is_same_v<T, effect::Log>) {
            switch (ef.level) {
              case LogLevel::debug: spdlog::debug("{}", ef.text); break;
              case LogLevel::info: spdlog::info("{}", ef.text); break;
              case LogLevel::warn: spdlog::warn("{}", ef.text); break;
              case LogLevel::error: spdlog::error("{}", ef.text); break;
            }
          }
        },
        std::move(e));
    if (stopping_) return;
  }
  arm_timer();
}

void Runtime::arm_timer() {
  auto d = engine_.next_deadline();
  if (!d || stopping_) return;
  timer_.expires_at(t0_ + *d);
  auto alive = alive_;
  timer_.async_wait([this, alive](boost::system::error_code ec) {
    if (ec || !*alive) return;
    execute(engine_.on_timer(now()));
  });
}

asio::awaitable<void> Runtime::subscription_loop() {
  auto alive = alive_;
  asio::steady_timer wait(io_);
  while (*alive) {
    auto outcome = co_await ipc_subscribe(cfg_.ipc, [this, alive](std::string_view line) {
      if (*alive) execute(engine_.on_ipc_event(line, now()));
    });
    if (!*alive) co_return;
    if (outcome.failure == IpcFailure::unreachable) execute(engine_.on_app_unreachable(now()));
    spdlog::debug("event subscription ended ({}); resubscribing", outcome.text);
    wait.expires_after(cfg_.resubscribe_delay);
    boost::system::error_code ec;
    co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Runtime::status_loop() {
  auto alive = alive_;
  asio::steady_timer wait(io_);
  while (*alive) {
    wait.expires_after(cfg_.status_interval);
    boost::system::error_code ec;
    co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!*alive) co_return;
    spdlog::info("status: {} v{} | {}", engine_.room_synced() ? "synced" : "not synced",
                 engine_.confirmed_version().value_or(-1), describe(engine_.stats()));
  }
}

}  // namespace wibwob::bridge
