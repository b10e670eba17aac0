// RoomLedger: what this bridge knows of the room's sequenced history.
//
// The room server is a single sequencer (shared/spec/sync.md): every
// state_delta it accepts gets the next version, and it broadcasts the delta
// to every member except the sender. The ledger keeps
//  - confirmed: the room state up to the last version it can place;
//  - pending:   own deltas sent on the open connection, not yet placed;
//  - offline:   own deltas made while no connection was synced.
// A remote delta at version v leaves a gap of v - confirmed - 1 versions:
// exactly that many own pending deltas, oldest first, were sequenced before
// it. A ping sent after each own delta is a barrier: its pong proves the
// delta was sequenced, so it is placed at once.
//
// Pure: no I/O, no clock. Deterministic. The engine decides when a delta is
// pending (a synced connection) or offline.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "protocol/window.hpp"

namespace wibwob::bridge {

class RoomLedger {
 public:
  explicit RoomLedger(protocol::Limits limits = {}) : limits_(limits) {}

  // A fresh state_sync replaces confirmed. Returns the own deltas to send
  // again, in order: every pending and offline one, minus what the new state
  // already shows (an empty remainder is dropped). The ledger then holds no
  // pending or offline deltas; the caller re-sends through on_sent().
  std::vector<protocol::Json> on_state_sync(protocol::RoomState state);

  struct Placement {
    bool ok = true;
    std::string why;             // when !ok: the version accounting is lost
    bool content_skipped = false;  // the delta had entries the bridge cannot use
  };
  // A remote delta the server sequenced at `version` (delta may be absent:
  // it still occupies its version).
  Placement on_remote_delta(std::int64_t version, const protocol::Json* delta);

  void on_sent(protocol::Json delta);     // sent on the synced connection, ping follows
  void on_offline(protocol::Json delta);  // made while not synced
  // The pong for the oldest outstanding ping: places own deltas sent before it.
  void on_pong();
  // The connection is gone: outstanding pings will never be answered.
  // Pending deltas stay; their fate is known at the next state_sync.
  void on_connection_lost() { ping_marks_.clear(); }
  // Layout sync is off: own deltas are never sent.
  void forget_local() {
    pending_.clear();
    offline_.clear();
    ++revision_;
  }

  bool has_state() const noexcept { return confirmed_.has_value(); }
  const std::optional<protocol::RoomState>& confirmed() const noexcept { return confirmed_; }
  // confirmed ⊕ pending ⊕ offline: the state the app is driven towards.
  protocol::RoomState target_state() const;
  std::size_t pending() const noexcept { return pending_.size(); }
  std::size_t offline() const noexcept { return offline_.size(); }
  // Changes whenever target_state() may have (confirmed, pending or offline
  // changed), so a caller can keep what it derived from it until then.
  std::uint64_t revision() const noexcept { return revision_; }

 private:
  struct Pending {
    protocol::Json delta;
    std::uint64_t seq = 0;
  };
  void place_front();

  protocol::Limits limits_;
  std::optional<protocol::RoomState> confirmed_;
  std::deque<Pending> pending_;
  std::vector<protocol::Json> offline_;
  std::deque<std::uint64_t> ping_marks_;  // per outstanding ping: the last seq sent before it
  std::uint64_t next_seq_ = 1;
  std::uint64_t revision_ = 0;
};

// The synced view of a raw room state: valid, non-internal windows only.
// `skipped` counts entries that are not valid windows.
protocol::Layout typed_view(const protocol::RoomState& state, const protocol::Limits& limits,
                            std::uint64_t* skipped = nullptr);

}  // namespace wibwob::bridge
