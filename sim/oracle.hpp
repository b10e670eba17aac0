// The write oracle (issue 14): after a run, no window's final value is a
// write that a later write had replaced, made by a writer who had seen it.
//
// The simulator knows what the bridges cannot: the server's order, and what
// each bridge had confirmed when it sent each write. The oracle records
//  - every write the first time a bridge sends it (which instance, what that
//    bridge had confirmed then, and in which order the instance sent it);
//  - every write the room server sequences, per window, in the server's order.
// A write is known by its revision tag (`_rev.by`, bridge/core/room_ledger.hpp);
// a removal by the tag its delta carries for it (`_removed`). A write sent
// again after a reconnect keeps its tag, so the oracle sees it land twice.
//
// The check: take a window's last write Z. If Z was sequenced earlier too
// (first at version F), and some other write Y to that window was sequenced
// between F and Z's last landing by a writer who had seen F (it had confirmed
// version F or later, or it came from Z's own instance after Z), then the
// final value is Z written back over Y, which had replaced it knowingly: a
// person sees the window jump back. Writes that never saw Z (concurrent ones)
// may be ordered either way, so they are not violations.
//
// It counts the writes that never arrived: lost in a drop and then not
// re-sent (ordered before a later write to their window, or folded into a
// later change of their own), or held by a bridge that was restarted. That
// none of them is a lost change is checked where every change is known,
// offline ones included: tests/bridge/test_room_ledger.cpp.
//
// It also checks that the tags are honest: one tag always names the same
// window with the same synced fields, and its `seen` is what its bridge had
// confirmed when it first sent it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/window.hpp"

namespace wibwob::sim::detail {

class WriteOracle {
 public:
  // A bridge on `instance` sends a state_delta frame (its text); its engine
  // had confirmed `confirmed` (nullopt: no state yet). The frame is parsed
  // here, once.
  void on_send(int instance, const std::string& frame, std::optional<std::int64_t> confirmed);
  // The room server sequenced that frame from `instance` at `version`.
  void on_sequenced(int instance, const std::string& frame, std::int64_t version);
  // A bridge run ended (its engine was replaced): `writer` is its origin.
  void bridge_ended(const std::string& writer) { ended_.insert(writer); }
  // After the run: empty, or the first problem found.
  std::string check();

  std::uint64_t writes() const noexcept { return writes_; }        // writes sequenced
  std::uint64_t relanded() const noexcept { return relanded_; }    // of those, a write sequenced again
  std::uint64_t never_landed() const noexcept { return never_landed_; }  // sent, never sequenced
  std::uint64_t lost_with_bridge() const noexcept { return lost_with_bridge_; }  // sent by a bridge restarted before they landed

 private:
  struct Sent {
    int instance = 0;
    std::int64_t confirmed = -1;  // what its bridge had confirmed at the first send
    std::uint64_t order = 0;      // global send order
    std::string window;
    std::optional<protocol::Window> value;  // puts: the synced fields
  };
  struct Landing {
    std::string write;
    std::int64_t version = 0;
  };
  // Each entry of a delta, in the server's order (adds, removes, updates).
  struct Entry {
    std::string window;
    std::string identity;
    bool put = false;                      // add or update (else a removal)
    std::optional<protocol::Window> value;  // puts: the synced fields
    std::optional<std::int64_t> seen;      // what its tag says
  };
  std::vector<Entry> entries(int instance, const protocol::Json& delta);
  std::vector<Entry> parse(int instance, const std::string& frame);
  bool saw(const std::string& later, std::int64_t first_landing, const std::string& earlier) const;
  void problem(std::string what);

  std::map<std::string, std::vector<Entry>> frames_;      // frame text -> its entries, until sequenced (a few lost in drops stay)
  std::map<std::string, Sent> sent_;                      // identity -> first send
  std::map<std::string, std::vector<Landing>> history_;   // window -> writes in the server's order
  std::map<std::string, bool> present_;                   // window -> present in the server's state
  std::uint64_t order_ = 0, anonymous_ = 0;
  std::uint64_t writes_ = 0, relanded_ = 0, never_landed_ = 0, lost_with_bridge_ = 0;
  std::set<std::string> ended_;
  std::map<std::string, std::int64_t> landed_;            // identity -> versions sequenced (count)
  std::string problem_;
};

}  // namespace wibwob::sim::detail
