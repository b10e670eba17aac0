// The IPC client (library wibwob_ipc_client): one WibWob-DOS IPC request per
// connection, and the event subscription, over the app's Unix socket. Used by
// the bridge and by the orchestrator's health probe; it knows nothing of the
// sync engine.
//
// The app runs IPC on its UI thread, so a client that dawdles freezes the
// whole desktop (spec/wibwob-ipc.md): every phase has a short timeout, the
// request is written right after connecting (and authenticating), and the
// socket is closed right after the reply line.
//
// Executor: coroutines on the caller's executor (single-threaded io_context).
// Cancellation: closing the io_context or the returned coroutine's scope;
// each operation is bounded by its timeout.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "protocol/ipc_outcome.hpp"

namespace wibwob::bridge {

using protocol::IpcFailure;
using protocol::IpcOutcome;

struct IpcClientConfig {
  std::string socket_path;
  std::optional<std::string> secret;           // WIBWOB_AUTH_SECRET
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds auth_step_timeout{1000};
  std::chrono::milliseconds reply_timeout{2000};
  std::size_t max_reply_bytes = 4 * 1024 * 1024;
};

// Both coroutines take their arguments by value: a coroutine must not hold
// references to its caller's temporaries.
//
// Sends one request line (ending in '\n') and returns the reply line
// without its newline, or a failure.
boost::asio::awaitable<IpcOutcome> ipc_request(IpcClientConfig config, std::string line);

// Subscribes to events and calls on_line for each pushed line until the
// connection ends. Returns how it ended (failure none = clean EOF).
boost::asio::awaitable<IpcOutcome> ipc_subscribe(IpcClientConfig config,
                                                 std::function<void(std::string_view)> on_line);

}  // namespace wibwob::bridge
