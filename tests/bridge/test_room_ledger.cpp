// RoomLedger (bridge/core/room_ledger.hpp): an rc::state model-based test
// against a small model of the room server's sequencing, with connections
// that drop, in the spirit of shared/model/sequencing_model.py.
//
// The model is the server plus the wire: one sequencer (every delta it
// accepts gets the next version; peers' deltas are broadcast to the bridge,
// the bridge's own are not; a ping is answered with a pong in order), two
// FIFO queues (bridge -> server, server -> bridge) that a drop empties, and
// a state_sync at every reconnect. It also tracks, independently of the
// ledger, which of the bridge's own deltas the bridge has proof of (a pong
// after it, or a broadcast sequenced after it).
//
// Properties checked on the ledger:
//  - whenever it places something, its confirmed state is exactly the
//    server's state at that version (the scheme never mis-orders);
//  - when nothing is in flight, nothing is pending and confirmed is the
//    server's current state;
//  - at a reconnect it re-sends exactly the own deltas without proof plus
//    the offline ones, in order, minus what the fresh state already shows.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <deque>
#include <map>

#include "bridge/core/room_ledger.hpp"

using namespace wibwob;
using bridge::RoomLedger;
using protocol::Json;
using protocol::RoomState;

namespace {

struct Up {
  bool ping = false;
  Json delta;           // own delta (when !ping)
  std::size_t own = 0;  // index into Model::own
};
struct Down {
  bool pong = false;
  std::int64_t version = 0;  // broadcast of a peer's delta
  Json delta;
  std::size_t proves_through = 0;  // pong: own deltas [0, proves_through) are proven
};
struct Own {
  Json delta;
  bool proven = false;
  bool current = true;                     // sent since the last state_sync
  std::optional<std::int64_t> sequenced;   // version the server gave it
};

struct Model {
  RoomState server;
  std::map<std::int64_t, RoomState> history{{0, RoomState{}}};
  std::deque<Up> up;
  std::deque<Down> down;
  bool connected = false;
  std::vector<Own> own;
  std::vector<Json> offline;

  void sequence(const Json& delta) {
    protocol::apply_room_delta(server, &delta);
    history[server.version] = server;
  }
  void send_own(Json delta) {
    own.push_back(Own{delta, false, true, std::nullopt});
    up.push_back(Up{false, std::move(delta), own.size() - 1});
    up.push_back(Up{true, Json(), own.size() - 1});
  }
};

// The reference re-send rule, written independently of the ledger: keep
// what the state does not show yet.
Json reference_prune(const Json& delta, const RoomState& state) {
  auto parsed = protocol::parse_delta(delta);
  protocol::Delta keep;
  auto shown = [&](const protocol::Window& w) {
    auto it = state.windows.find(w.id);
    if (it == state.windows.end()) return false;
    auto cur = protocol::normalise_window(it->second);
    return cur && cur->same_synced(w);
  };
  for (const auto& w : parsed->delta.add)
    if (!shown(w)) keep.add.push_back(w);
  for (const auto& id : parsed->delta.remove)
    if (state.windows.count(id)) keep.remove.push_back(id);
  for (const auto& w : parsed->delta.update)
    if (!shown(w)) keep.update.push_back(w);
  return keep.empty() ? Json() : protocol::to_json(keep);
}

std::vector<Json> expected_resend(const Model& m) {
  std::vector<Json> out;
  auto keep = [&](const Json& d) {
    Json p = reference_prune(d, m.server);
    if (!p.is_null()) out.push_back(std::move(p));
  };
  for (const auto& o : m.own)
    if (o.current && !o.proven) keep(o.delta);
  for (const auto& d : m.offline) keep(d);
  return out;
}

// Small deltas over four ids, so that windows are often added, moved,
// replaced and removed by both sides.
rc::Gen<Json> gen_nonempty_delta() {
  return rc::gen::exec([] {
    const std::string id = *rc::gen::element<std::string>("a", "b", "c", "d");
    protocol::Window w;
    w.id = id;
    w.type = "verse";
    w.x = *rc::gen::inRange(0, 4);
    w.y = *rc::gen::inRange(0, 4);
    w.w = 20;
    w.h = 8;
    protocol::Delta d;
    switch (*rc::gen::inRange(0, 3)) {
      case 0: d.add.push_back(w); break;
      case 1: d.update.push_back(w); break;
      default: d.remove.push_back(id); break;
    }
    return protocol::to_json(d);
  });
}

using Cmd = rc::state::Command<Model, RoomLedger>;

void check_placed(const Model& m, const RoomLedger& l) {
  RC_ASSERT(l.confirmed().has_value());
  const auto v = l.confirmed()->version;
  RC_ASSERT(m.history.count(v) == 1u);
  RC_ASSERT(*l.confirmed() == m.history.at(v));
}

struct Send : Cmd {
  Json delta = *gen_nonempty_delta();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.connected); }
  void apply(Model& m) const override { m.send_own(delta); }
  void run(const Model&, RoomLedger& l) const override { l.on_sent(delta); }
};

struct Offline : Cmd {
  Json delta = *gen_nonempty_delta();
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.connected); }
  void apply(Model& m) const override { m.offline.push_back(delta); }
  void run(const Model&, RoomLedger& l) const override { l.on_offline(delta); }
};

// The server takes the next frame from the bridge.
struct ServerStep : Cmd {
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.up.empty()); }
  void apply(Model& m) const override {
    Up u = m.up.front();
    m.up.pop_front();
    if (u.ping) {
      m.down.push_back(Down{true, 0, Json(), u.own + 1});
    } else {
      m.sequence(u.delta);
      m.own[u.own].sequenced = m.server.version;
    }
  }
  void run(const Model&, RoomLedger&) const override {}
};

// Another member's delta, sequenced now.
struct PeerDelta : Cmd {
  Json delta = *gen_nonempty_delta();
  void apply(Model& m) const override {
    m.sequence(delta);
    if (m.connected) m.down.push_back(Down{false, m.server.version, delta, 0});
  }
  void run(const Model&, RoomLedger&) const override {}
};

// The bridge reads the next frame from the server.
struct Deliver : Cmd {
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.down.empty()); }
  void apply(Model& m) const override {
    Down d = m.down.front();
    m.down.pop_front();
    for (std::size_t i = 0; i < m.own.size(); ++i) {
      auto& o = m.own[i];
      if (!o.current) continue;
      if (d.pong ? i < d.proves_through : (o.sequenced && *o.sequenced < d.version)) o.proven = true;
    }
  }
  void run(const Model& m, RoomLedger& l) const override {
    const Down& d = m.down.front();
    if (d.pong) {
      l.on_pong();
    } else {
      auto placed = l.on_remote_delta(d.version, &d.delta);
      RC_ASSERT(placed.ok);
    }
    check_placed(m, l);
    if (m.up.empty() && m.down.size() == 1) {  // nothing left in flight after this frame
      RC_ASSERT(l.pending() == 0u);
      RC_ASSERT(*l.confirmed() == m.server);
    }
  }
};

struct Drop : Cmd {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.connected); }
  void apply(Model& m) const override {
    m.up.clear();
    m.down.clear();
    m.connected = false;
  }
  void run(const Model&, RoomLedger& l) const override { l.on_connection_lost(); }
};

struct Reconnect : Cmd {
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.connected); }
  void apply(Model& m) const override {
    auto resend = expected_resend(m);
    for (auto& o : m.own) o.current = false;
    m.offline.clear();
    m.connected = true;
    for (auto& d : resend) m.send_own(std::move(d));
  }
  void run(const Model& m, RoomLedger& l) const override {
    const auto expected = expected_resend(m);
    auto resend = l.on_state_sync(m.server);
    RC_ASSERT(resend == expected);
    RC_ASSERT(*l.confirmed() == m.server);
    for (auto& d : resend) l.on_sent(std::move(d));
  }
};

}  // namespace

RC_GTEST_PROP(RoomLedger, PlacesEveryVersionExactlyAsTheServerSequencedIt, ()) {
  Model initial;
  RoomLedger ledger;
  rc::state::check(initial, ledger,
                   rc::state::gen::execOneOfWithArgs<Send, Offline, ServerStep, PeerDelta, Deliver, Drop, Reconnect>());
}

TEST(RoomLedger, ARemoteDeltaBeyondTheOwnPendingOnesIsLostTrack) {
  RoomLedger l;
  (void)l.on_state_sync(RoomState{});
  auto placed = l.on_remote_delta(3, nullptr);  // versions 1 and 2 are unaccounted for
  EXPECT_FALSE(placed.ok);
  EXPECT_NE(placed.why.find("delta version 3 after 0"), std::string::npos) << placed.why;
}

TEST(RoomLedger, AnOldVersionIsLostTrackToo) {
  RoomLedger l;
  RoomState s;
  s.version = 5;
  (void)l.on_state_sync(s);
  EXPECT_FALSE(l.on_remote_delta(5, nullptr).ok);
  EXPECT_FALSE(l.on_remote_delta(2, nullptr).ok);
}

// SyncEngine keeps its target layout until the ledger's revision changes
// (docs/bridge.md): whatever the ledger is told, an unchanged revision means
// an unchanged target_state().
RC_GTEST_PROP(RoomLedger, TargetStateChangesOnlyWithTheRevision, ()) {
  RoomLedger l;
  const auto steps = *rc::gen::inRange(1, 40);
  for (int i = 0; i < steps; ++i) {
    const auto before = l.target_state();
    const auto rev = l.revision();
    switch (*rc::gen::inRange(0, 7)) {
      case 0: {
        RoomState s;
        for (int k = *rc::gen::inRange(0, 3); k > 0; --k) {
          const Json d = *gen_nonempty_delta();
          protocol::apply_room_delta(s, &d);
        }
        for (auto& d : l.on_state_sync(s)) l.on_sent(std::move(d));
        break;
      }
      case 1: l.on_sent(*gen_nonempty_delta()); break;
      case 2: l.on_offline(*gen_nonempty_delta()); break;
      case 3: l.on_pong(); break;
      case 4: {
        if (!l.confirmed()) break;
        const auto gap = *rc::gen::inRange<std::size_t>(0, l.pending() + 1);
        const Json d = *gen_nonempty_delta();
        RC_ASSERT(l.on_remote_delta(l.confirmed()->version + 1 + static_cast<std::int64_t>(gap), &d).ok);
        break;
      }
      case 5: l.on_connection_lost(); break;
      default: l.forget_local(); break;
    }
    if (l.revision() == rev) RC_ASSERT(l.target_state() == before);
  }
}
