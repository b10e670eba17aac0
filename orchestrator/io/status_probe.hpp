// The probes behind `wibwob-rooms status` (docs/orchestrator.md, "status").
//
// The app: an unauthenticated connect to its IPC socket; a socket that
// accepts a connection counts as up (status cannot know the per-start secret
// of a running wibwob-rooms, so it does not send a command). The bridge: its
// status socket (bridge_status_path), read to the end, at most
// max_bridge_status_bytes. Every step has a deadline; a hostile or garbled
// answer becomes RoomStatus::Bridge::bad_status, never an exception.
//
// Executor: a private single-threaded io_context; every room is probed at once.
#pragma once

#include <vector>

#include "common/time.hpp"
#include "orchestrator/core/plan.hpp"
#include "orchestrator/core/status.hpp"

namespace wibwob::orchestrator {

struct StatusTimeouts {
  Ms connect{500};  // each connect
  Ms read{1000};    // the bridge's whole answer
};

// Probes every room of the plan; one RoomStatus per room, in plan order, with
// the log file names filled in.
std::vector<RoomStatus> collect_status(const Plan& plan, StatusTimeouts timeouts = {});

}  // namespace wibwob::orchestrator
