// Reconciler: from the layout the app should show (the room's, in room ids)
// and the layout the bridge believes it shows, the next IPC command that
// brings the app closer. One command at a time, in a fixed order (room
// order: creates, closes of replaced windows, moves, resizes; then closes of
// windows the room no longer has), so the engine can interleave them with
// polls and chat on the app's single IPC slot.
//
// Some room windows cannot be created here (unknown type, a type the app
// cannot open over IPC, a path outside the local policy, a request too long
// for the app's IPC). The reconciler says so with the reason; the engine
// records it with refuse(), counts it and logs the reason once, and the
// window stays in the room for everyone else. A window whose command failed
// is blocked until the next poll tells what happened.
//
// Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "bridge/core/app_mirror.hpp"
#include "bridge/core/path_policy.hpp"
#include "protocol/result.hpp"
#include "protocol/window.hpp"

namespace wibwob::bridge {

struct CreatePolicy {
  PathPolicy paths;                    // which files path windows may open (default: none)
  std::size_t max_room_windows = 128;  // windows from the room shown here at once
};

// Whether the app can and may create `w` here; the error says why not.
protocol::Result<void> check_creatable(const protocol::Window& w, const CreatePolicy& policy);

struct WindowCommand {
  enum class Kind { create, move, resize, close };
  Kind kind;
  std::string room_id;
  protocol::Window target;  // what the command asks the app for (close: the window shown)
  std::string line;         // the IPC request line
};

// A room window this app will not show, and why.
struct Refusal {
  std::string room_id;
  std::string type;
  std::string why;
};
// A command that cannot be expressed (no local id yet): wait for a poll.
struct Deferral {
  std::string room_id;
};
// A window the room wants created while this desktop already shows
// max_room_windows windows from the room: held until there is room again.
struct OverBound {
  std::string room_id;
};
using ReconcileStep = std::variant<WindowCommand, Refusal, Deferral, OverBound>;

class Reconciler {
 public:
  explicit Reconciler(CreatePolicy policy) : policy_(std::move(policy)) {}

  // The next step towards `target`, or nullopt when the app shows it (apart
  // from refused and blocked windows). A query: record the step's outcome
  // with refuse() / block().
  std::optional<ReconcileStep> next_step(const protocol::Layout& target, const AppMirror& mirror) const;

  void refuse(const Refusal& r) { refused_.emplace(r.room_id, r.why); }
  void block(const std::string& room_id) { blocked_.insert(room_id); }
  // Returns true the first time this window is held (count and log it once).
  bool hold(const std::string& room_id);
  // A fresh poll: blocked and held windows get another try; refusals of
  // windows the room no longer has are forgotten (bounded memory).
  void on_poll(const protocol::Layout& target);

  const std::map<std::string, std::string>& refused() const noexcept { return refused_; }
  bool refused(const std::string& room_id) const { return refused_.count(room_id) != 0; }
  // Not expected to be shown here: refused, or held over the bound.
  bool excused(const std::string& room_id) const { return refused(room_id) || held_.count(room_id) != 0; }
  std::size_t held() const noexcept { return held_.size(); }

 private:
  std::optional<ReconcileStep> step_for(const std::string& rid, const protocol::Window& w, const AppMirror& mirror,
                                        std::size_t from_room) const;

  CreatePolicy policy_;
  std::map<std::string, std::string> refused_;  // room id -> why
  std::set<std::string> blocked_;               // command failed since the last poll
  std::set<std::string> held_;                  // over the window bound since the last poll
  std::set<std::string> ever_held_;             // held at some time (counted once)
};

}  // namespace wibwob::bridge
