// Runtime: drives one SyncEngine with real sockets and a real clock.
//
// Structure (docs/bridge.md): run() is one scope of six loops joined with
// `&&`; each owns what it touches and they talk only through mailboxes.
//  - the event loop is the only caller of the engine: it waits for the next
//    event or the engine's deadline, feeds the engine and executes the
//    effects by enqueueing work for the other loops (never calling them);
//  - the room session's loop owns the WebSocket (RoomSession);
//  - the IPC loop owns the one request connection to the app at a time;
//  - the subscription loop owns the event subscription (and reports the
//    app's identity each time it subscribes);
//  - the status loop ticks the status line;
//  - the status server answers each connection to --status-socket with one
//    JSON status object (bridge/core/status.hpp) and closes it.
// The engine is never re-entered: effects never run inline.
//
// Executor: one single-threaded io_context. Cancellation: cancelling run()
// (a cancellation_signal bound to its co_spawn) ends every loop at its next
// await; the room connection first sends its close frame (bounded by
// close_timeout). A loop that throws anything else ends run() with that
// exception, which reaches the co_spawn handler: the bridge exits non-zero
// with the message instead of stalling.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "bridge/core/sync_engine.hpp"
#include "bridge/io/mailbox.hpp"
#include "bridge/io/room_session.hpp"
#include "bridge/ipc/ipc_client.hpp"

namespace wibwob::bridge {

struct BridgeConfig {
  EngineConfig engine;
  IpcClientConfig ipc;
  RoomSessionConfig room;
  std::chrono::milliseconds status_interval{10000};  // 0: no status lines
  std::string status_socket;  // answers one JSON status object per connection; empty: none
  std::string handover_file;  // the engine's handover for the next run; empty: none
  std::chrono::milliseconds resubscribe_delay{500};
};

namespace runtime_event {
struct IpcReply { std::uint64_t id = 0; IpcOutcome outcome{}; };
struct IpcEventLine { std::string line; };
struct AppUnreachable {};
struct AppIdentity { std::string key; };
struct StatusTick {};
}  // namespace runtime_event
using RuntimeEvent = std::variant<RoomEvent, runtime_event::IpcReply, runtime_event::IpcEventLine,
                                  runtime_event::AppUnreachable, runtime_event::AppIdentity, runtime_event::StatusTick>;

class Runtime {
 public:
  // Throws std::system_error when the room's TLS settings cannot be loaded.
  Runtime(boost::asio::io_context& io, BridgeConfig config);
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Runs the bridge until cancelled.
  boost::asio::awaitable<void> run();
  const SyncEngine& engine() const { return engine_; }

 private:
  struct IpcJob {
    std::uint64_t id;
    std::string line;
  };
  Ms now() const;
  boost::asio::awaitable<void> event_loop();
  boost::asio::awaitable<void> ipc_loop();
  boost::asio::awaitable<void> subscription_loop();
  boost::asio::awaitable<void> status_loop();
  boost::asio::awaitable<void> status_server();
  std::string status_line() const;  // one JSON object and "\n"
  // Plain functions, not coroutine bodies: see mailbox.hpp on GCC 12.
  void drain();
  void post(RuntimeEvent ev) { events_.push(std::move(ev)); }
  void post_reply(std::uint64_t id, IpcOutcome o) { post(runtime_event::IpcReply{id, std::move(o)}); }
  void post_unreachable() { post(runtime_event::AppUnreachable{}); }
  void post_identity(std::string key) { post(runtime_event::AppIdentity{std::move(key)}); }
  void post_status_tick() { post(runtime_event::StatusTick{}); }
  void handle(RuntimeEvent ev);
  void handle_room(RoomEvent ev);
  void execute(Effects fx);
  void save_handover();

  boost::asio::io_context& io_;
  BridgeConfig cfg_;
  SyncEngine engine_;
  Mailbox<RuntimeEvent> events_;
  Mailbox<IpcJob> ipc_jobs_;
  RoomSession room_;
  std::chrono::steady_clock::time_point t0_;
  std::optional<std::string> last_error_;  // the last warning or error logged
  std::optional<std::string> handover_error_;  // the last failure to write the handover, logged once
};

std::string describe(const EngineStats& s);

}  // namespace wibwob::bridge
