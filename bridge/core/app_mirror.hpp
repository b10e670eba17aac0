// AppMirror: what the bridge believes the local app shows, and how its
// windows map to room windows.
//
// Local ids (w1, w2…) never leave this bridge. Each local window gets a room
// id "<origin>:<local id>", where the origin is unique per bridge run and app
// incarnation ("<base>.<n>" after the n-th app restart); the mirror keeps the
// mapping both ways, and the believed layout in room ids (what the app showed
// at the last poll, plus what the bridge's own successful commands changed).
//
// Ids come back (spec/wibwob-ipc.md, "Window ids"): after any close that is
// not IPC close_window, a new window can get a freed id. So a reused id does
// not prove a restart. A mapped id that shows another type is the old window
// closed and a new one opened; a local id that comes back gets a fresh room
// id ("<origin>:w3~1"), so a room id never names two windows.
//
// App incarnations: the app answering again after it was unreachable, or its
// event sequence starting over, proves a new process; the mapping is then
// discarded and the next poll is adopted afresh (matched to room windows by
// content).
//
// Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bridge/core/handover.hpp"
#include "protocol/ipc.hpp"
#include "protocol/window.hpp"

namespace wibwob::bridge {

class AppMirror {
 public:
  explicit AppMirror(std::string base_origin);

  // A good get_state reply (every window, internal ones included). Returns
  // why it shows a new app process when it does (the mapping is then reset).
  std::optional<std::string> observe_poll(std::vector<protocol::ipc::AppWindow> windows);
  // The app refused a connection, or its events started over: the next good
  // poll is a new process.
  void mark_unreachable() { unreachable_ = true; }
  bool unreachable() const noexcept { return unreachable_; }
  bool has_poll() const noexcept { return local_.has_value(); }
  bool adopted() const noexcept { return adopted_; }

  struct Adoption {
    protocol::Delta push;     // local windows the room does not have yet
    std::size_t matched = 0;  // local windows matched to room windows by content
  };
  // First contact between this app and the room (needs has_poll()).
  Adoption adopt(const protocol::Layout& room_view);
  // After a poll, once adopted: settles creations that came without an id,
  // maps new local windows, forgets closed ones, and returns what the app
  // shows differently from what the bridge believed.
  protocol::Delta take_local_changes();

  // The bridge's own commands succeeded.
  void on_created(const std::string& room_id, const protocol::Window& w, const std::optional<std::string>& local_id);
  void on_moved(const std::string& room_id, std::int32_t x, std::int32_t y);
  void on_resized(const std::string& room_id, std::int32_t w, std::int32_t h);
  void on_closed(const std::string& room_id);

  const protocol::Layout& believed() const noexcept { return believed_; }
  bool awaiting_id(const std::string& room_id) const { return awaiting_id_.count(room_id) != 0; }
  std::optional<std::string> local_id_of(const std::string& room_id) const;
  std::optional<std::string> room_id_of(const std::string& local_id) const;
  const std::string& origin() const noexcept { return origin_; }

  // Bridge restarts (handover.hpp). The shell's identity of the app process
  // (empty: unknown). A known key replaced by another one is a new process:
  // returns true and the next poll resets the mapping.
  bool set_app_key(std::string key);
  const std::string& app_key() const noexcept { return app_key_; }
  // The mapping for the next bridge run; its app_key is empty (nothing to
  // resume) until this run has adopted the app.
  Handover handover() const;
  // Takes over a previous run's mapping for the same app process, instead of
  // adopting by content (needs has_poll(); the caller checked the keys).
  void resume(const Handover& h);
  // Changes whenever anything handover() reports may have changed.
  std::uint64_t revision() const noexcept { return revision_; }

 private:
  std::optional<std::string> detect_restart(const std::vector<protocol::ipc::AppWindow>& windows) const;
  void reset();
  void map(const std::string& room_id, const std::string& local_id);
  void settle_awaiting();
  void unmap(std::map<std::string, std::string>::iterator room_entry);
  std::string fresh_room_id(const std::string& local_id) const;
  protocol::Window to_room_window(const protocol::ipc::AppWindow& a, const std::string& room_id) const;

  std::string base_origin_;
  std::string origin_;
  std::uint32_t epoch_ = 0;
  bool unreachable_ = false;
  bool adopted_ = false;
  std::optional<std::vector<protocol::ipc::AppWindow>> local_;  // last good poll, synced types only
  std::map<std::string, std::string> room_to_local_;
  std::map<std::string, std::string> local_to_room_;
  protocol::Layout believed_;                         // room ids
  std::map<std::string, std::string> awaiting_id_;    // room id -> type (created, id not in the reply)
  std::map<std::string, std::uint32_t> reuses_;       // local id -> times it was given up
  std::string app_key_;
  std::uint64_t revision_ = 0;
};

}  // namespace wibwob::bridge
