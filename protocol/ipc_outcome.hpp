// How one IPC request to the app ended, as the client saw it. Pure data: the
// IPC client (bridge/ipc) produces it, the bridge engine, the orchestrator's
// health probe and the simulator consume it.
#pragma once

#include <string>

namespace wibwob::protocol {

enum class IpcFailure {
  none,
  unreachable,  // socket missing or connection refused: the app is not running
  timeout,      // connected but no reply in time (e.g. a modal dialog)
  auth,         // authentication refused or not offered
  io,           // any other I/O error
};

struct IpcOutcome {
  IpcFailure failure = IpcFailure::none;
  std::string text;  // the reply line when failure == none, else a description

  bool ok() const noexcept { return failure == IpcFailure::none; }
};

}  // namespace wibwob::protocol
