// RoomLedger: what this bridge knows of the room's sequenced history.
//
// The room server is a single sequencer (shared/spec/sync.md): every
// state_delta it accepts gets the next version, and it broadcasts the delta
// to every member except the sender. The ledger keeps
//  - confirmed: the room state up to the last version it can place;
//  - pending:   own deltas sent on the open connection, not yet placed;
//  - offline:   own changes made while no connection was synced, folded to
//               at most one entry per window.
// A remote delta at version v leaves a gap of v - confirmed - 1 versions:
// exactly that many own pending deltas, oldest first, were sequenced before
// it. A ping sent after each own delta is a barrier: its pong proves the
// delta was sequenced, so it is placed at once.
//
// Every window entry the ledger sends carries a revision tag (`_rev`, below):
// who wrote it (this bridge's writer id and write number) and the version it
// had confirmed then. The server stores it like any other field. After a
// reconnect the tag tells "my write never arrived" from "my write arrived and
// someone wrote after it" (docs/bridge.md, "After a reconnect").
//
// Pure: no I/O, no clock. Deterministic. The engine decides when a delta is
// pending (a synced connection) or offline.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/window.hpp"

namespace wibwob::bridge {

// The field of a room window entry that holds the revision tag:
//   "_rev": {"by": "<writer>#<n>", "seen": <version>}
// Internal: never a synced field, never shown to the app, never compared.
inline constexpr const char* kRevisionField = "_rev";
// A removal leaves no window to carry its tag; the delta carries it instead,
// beside its lists: "_removed": {"<window id>": {"by": ..., "seen": ...}}.
// The server applies only add, remove and update, and relays the rest.
inline constexpr const char* kRemovalTagsField = "_removed";

struct RevisionTag {
  std::string by;         // "<writer>#<n>": unique per write
  std::int64_t seen = 0;  // the room version the writer had confirmed when it sent the write
};
// The tag of a window entry, when it has a well-formed one.
std::optional<RevisionTag> revision_of(const protocol::Json& window);
// The tag a delta carries for its removal of `id`.
std::optional<RevisionTag> removal_tag_of(const protocol::Json& delta, const std::string& id);

// The window writes of a raw delta, in the order the server applies them:
// its adds, then its removes, then its updates. `entry` is the window (add,
// update) or the id (remove); entries without a string id are skipped (no
// bridge sends them).
enum class WriteKind { add, remove, update };
void for_each_write(const protocol::Json& delta,
                    const std::function<void(WriteKind, const std::string& id, const protocol::Json& entry)>& fn);

// What to do, after a reconnect, with own deltas that were sent but not
// proven sequenced.
enum class ResendRule {
  // Re-send a window's unproven writes only when the room's entry for that
  // window is exactly what this bridge had confirmed (nothing was written to
  // it since), so a write that did land is never written again over a later
  // one (docs/bridge.md, "After a reconnect").
  unchanged_since_confirmed,
  // The rule before issue 14: re-send every unproven write minus what the
  // state already shows. Kept only so that the simulator can show that its
  // oracle catches it (tests/sim); never use it in a bridge.
  legacy_minus_shown,
};

class RoomLedger {
 public:
  explicit RoomLedger(protocol::Limits limits = {}, std::string writer = "b",
                      ResendRule rule = ResendRule::unchanged_since_confirmed)
      : limits_(limits), writer_(std::move(writer)), rule_(rule) {}

  // What a fresh state_sync asks the bridge to send.
  struct Resend {
    // At most one delta, with at most one entry per window (tagged); none
    // when the state already shows everything.
    std::optional<protocol::Json> delta;
    std::size_t entries = 0;           // window entries in it
    std::size_t unproven = 0;          // windows with own writes sent but not proven sequenced
    std::size_t unproven_dropped = 0;  // of those, not re-sent: the window was written since
    std::size_t offline = 0;           // windows changed while offline
  };
  // A fresh state_sync replaces confirmed. Folds every unproven pending
  // write (under the re-send rule) and every offline change into one entry
  // per window, minus what the new state already shows. The ledger then
  // holds no pending or offline changes; the caller sends the delta through
  // on_sent().
  Resend on_state_sync(protocol::RoomState state);

  struct Placement {
    bool ok = true;
    std::string why;             // when !ok: the version accounting is lost
    bool content_skipped = false;  // the delta had entries the bridge cannot use
  };
  // A remote delta the server sequenced at `version` (delta may be absent:
  // it still occupies its version).
  Placement on_remote_delta(std::int64_t version, const protocol::Json* delta);

  // A new local change, about to be sent: every add, update and removal gets
  // a fresh revision tag (any `_rev` it carried is replaced).
  protocol::Json tag(protocol::Json delta);
  void on_sent(protocol::Json delta);  // tagged, sent on the synced connection, ping follows
  // A local change made while not synced: folded into one entry per window.
  void on_offline(const protocol::Delta& change);
  // The pong for the oldest outstanding ping: places own deltas sent before it.
  void on_pong();
  // The connection is gone: outstanding pings will never be answered.
  // Pending deltas stay; their fate is decided at the next state_sync.
  void on_connection_lost() { ping_marks_.clear(); }
  // Layout sync is off: own deltas are never sent.
  void forget_local() {
    pending_.clear();
    offline_.clear();
    ++revision_;
  }
  // Windows this bridge removed that the room has again: room ids are
  // never reused, so only a late re-send of an add (the one case the
  // re-send rule cannot decide) or an update sequenced after the removal
  // (the server's upsert of a move made without knowing of it) brings one
  // back. The engine removes them again: the remover stands by its
  // removal, once (not every member that saw it). Cleared by the call.
  std::vector<std::string> take_came_back();

  bool has_state() const noexcept { return confirmed_.has_value(); }
  const std::optional<protocol::RoomState>& confirmed() const noexcept { return confirmed_; }
  // confirmed ⊕ pending ⊕ offline: the state the app is driven towards.
  protocol::RoomState target_state() const;
  std::size_t pending() const noexcept { return pending_.size(); }
  // Windows with changes made offline (bounded by the layout, not by time).
  std::size_t offline() const noexcept { return offline_.size(); }
  // Changes whenever target_state() may have (confirmed, pending or offline
  // changed), so a caller can keep what it derived from it until then.
  std::uint64_t revision() const noexcept { return revision_; }

 private:
  struct Pending {
    protocol::Json delta;
    std::uint64_t seq = 0;
  };
  // One window's offline changes folded: the last value (merged field by
  // field like the server does) or a removal.
  struct OfflineEntry {
    bool remove = false;
    bool opened = false;  // opened offline: the room never saw it, a removal cancels it
    protocol::Json window;
  };
  void place_front();
  protocol::Json fresh_tag();
  void remember(const std::string& id);
  void remember_removals(const protocol::Json& delta);
  void note_came_back(const protocol::Json& delta);

  protocol::Limits limits_;
  std::string writer_;
  ResendRule rule_;
  std::optional<protocol::RoomState> confirmed_;
  std::deque<Pending> pending_;
  std::map<std::string, OfflineEntry> offline_;
  std::deque<std::uint64_t> ping_marks_;  // per outstanding ping: the last seq sent before it
  std::uint64_t next_seq_ = 1;
  std::uint64_t revision_ = 0;
  std::uint64_t next_write_ = 1;  // the <n> of revision tags
  // Room ids this bridge removed, the most recent kRemembered of them.
  static constexpr std::size_t kRemembered = 1024;
  std::set<std::string> removed_;
  std::deque<std::string> removed_order_;
  std::set<std::string> came_back_;
};

// The synced view of a raw room state: valid, non-internal windows only,
// without internal fields (the revision tag). `skipped` counts entries that
// are not valid windows.
protocol::Layout typed_view(const protocol::RoomState& state, const protocol::Limits& limits,
                            std::uint64_t* skipped = nullptr);

}  // namespace wibwob::bridge
