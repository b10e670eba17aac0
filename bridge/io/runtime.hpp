// Runtime: drives one SyncEngine with real sockets and a real clock.
//
// It maps the engine's effects to I/O: SendIpc to a one-shot IPC request
// (never more than one at a time, as the engine asks), SendRoom/ConnectRoom/
// CloseRoom to the RoomSession, Log to spdlog; it keeps one timer at the
// engine's next deadline and an event subscription that reconnects on its
// own. All of it on one single-threaded io_context.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bridge/core/sync_engine.hpp"
#include "bridge/io/ipc_client.hpp"
#include "bridge/io/room_session.hpp"

namespace wibwob::bridge {

struct BridgeConfig {
  EngineConfig engine;
  IpcClientConfig ipc;
  RoomSessionConfig room;
  std::chrono::milliseconds status_interval{10000};  // 0: no status lines
  std::chrono::milliseconds resubscribe_delay{500};
};

class Runtime {
 public:
  Runtime(boost::asio::io_context& io, BridgeConfig config);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  void start();
  // Closes the room connection and stops timers and the subscription, so
  // the io_context runs out of work.
  void stop();
  const SyncEngine& engine() const { return engine_; }

 private:
  Ms now() const;
  void execute(Effects fx);
  void arm_timer();
  boost::asio::awaitable<void> subscription_loop();
  boost::asio::awaitable<void> status_loop();

  boost::asio::io_context& io_;
  BridgeConfig cfg_;
  SyncEngine engine_;
  RoomSession room_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point t0_;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

std::string describe(const EngineStats& s);

}  // namespace wibwob::bridge
