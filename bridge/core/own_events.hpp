// OwnEvents: which of the app's events the bridge's own window commands
// caused, so that they do not start a poll. The bridge already knows what
// its command changed; a poll for it would cost the app a second IPC
// connection (the app serves one per 20 ms UI tick, for everyone).
//
// The app fires one event per successful create_window, move_window,
// resize_window and close_window, sometimes before the reply
// (spec/wibwob-ipc.md). A move/resize/close names the local id up front; a
// create's id is known only from its reply, so events for unknown ids that
// arrive while a create is in flight are held until the reply says whether
// one of them was ours. Anything else (another client's commands, new
// windows) still starts a poll. A poll sees everything, so expectations are
// dropped at each poll (bounded memory, and a late event costs at most one
// extra poll).
//
// Pure: no I/O, no clock.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace wibwob::bridge {

class OwnEvents {
 public:
  // A create_window went out.
  void create_sent() { create_in_flight_ = true; }
  // A move/resize/close of local window `id` went out.
  void change_sent(const std::string& id) { expected_.insert(id); }

  // The create's reply: `id` when it succeeded and named the window. Returns
  // true when an event held meanwhile was not ours (poll).
  bool create_done(const std::optional<std::string>& id);
  // A move/resize/close reply; a failed command fires no event.
  void change_done(const std::string& id, bool ok);

  // An app event for window `id`: true when it was (or may be) the bridge's
  // own and needs no poll.
  bool consume(const std::optional<std::string>& id);
  void on_poll();

 private:
  std::multiset<std::string> expected_;
  bool create_in_flight_ = false;
  std::vector<std::string> held_;  // unknown ids seen while a create was in flight
};

}  // namespace wibwob::bridge
