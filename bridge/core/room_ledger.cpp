#include "bridge/core/room_ledger.hpp"

namespace wibwob::bridge {

using protocol::Delta;
using protocol::Json;
using protocol::RoomState;
using protocol::Window;

protocol::Layout typed_view(const RoomState& state, const protocol::Limits& limits, std::uint64_t* skipped) {
  protocol::Layout out;
  for (const auto& [key, raw] : state.windows) {
    auto w = protocol::normalise_window(raw, limits);
    if (!w || w->id != key) {
      if (skipped) ++*skipped;
      continue;
    }
    if (protocol::is_internal_window_type(w->type)) continue;
    out.emplace(key, std::move(*w));
  }
  return out;
}

namespace {

// Drops from `delta` what the state already shows, so a re-send after a
// reconnect does not repeat a change that did land.
Json prune_against(const Json& delta, const RoomState& state, const protocol::Limits& limits) {
  auto parsed = protocol::parse_delta(delta, limits);
  if (!parsed) return Json::object();
  Delta keep;
  auto shown = [&](const Window& w) {
    auto it = state.windows.find(w.id);
    if (it == state.windows.end()) return false;
    auto cur = protocol::normalise_window(it->second, limits);
    return cur && cur->same_synced(w);
  };
  for (auto& w : parsed->delta.add)
    if (!shown(w)) keep.add.push_back(w);
  for (auto& id : parsed->delta.remove)
    if (state.windows.count(id)) keep.remove.push_back(id);
  for (auto& w : parsed->delta.update)
    if (!shown(w)) keep.update.push_back(w);
  return keep.empty() ? Json::object() : protocol::to_json(keep);
}

bool json_delta_empty(const Json& d) {
  if (!d.is_object()) return true;
  for (const char* k : {"add", "remove", "update"})
    if (auto it = d.find(k); it != d.end() && it->is_array() && !it->empty()) return false;
  return true;
}

}  // namespace

std::vector<Json> RoomLedger::on_state_sync(RoomState state) {
  ++revision_;
  confirmed_ = std::move(state);
  ping_marks_.clear();
  std::vector<Json> resend;
  auto keep = [&](const Json& d) {
    Json pruned = prune_against(d, *confirmed_, limits_);
    if (!json_delta_empty(pruned)) resend.push_back(std::move(pruned));
  };
  for (const auto& p : pending_) keep(p.delta);
  for (const auto& d : offline_) keep(d);
  pending_.clear();
  offline_.clear();
  return resend;
}

RoomLedger::Placement RoomLedger::on_remote_delta(std::int64_t version, const Json* delta) {
  if (!confirmed_) return {false, "delta before state_sync", false};
  const std::int64_t gap = version - confirmed_->version - 1;
  if (gap < 0 || static_cast<std::uint64_t>(gap) > pending_.size())
    return {false,
            "delta version " + std::to_string(version) + " after " + std::to_string(confirmed_->version) + " with " +
                std::to_string(pending_.size()) + " own delta(s) unplaced",
            false};
  ++revision_;
  for (std::int64_t i = 0; i < gap; ++i) place_front();
  Placement r;
  // A malformed delta still occupies its version; apply_room_delta applies
  // exactly what the server applied.
  if (delta) {
    protocol::apply_room_delta(*confirmed_, delta);
    auto p = protocol::parse_delta(*delta, limits_);
    r.content_skipped = !p || !p->skipped.empty();
  }
  confirmed_->version = version;
  return r;
}

void RoomLedger::on_sent(Json delta) {
  ++revision_;
  const std::uint64_t seq = next_seq_++;
  pending_.push_back(Pending{std::move(delta), seq});
  ping_marks_.push_back(seq);
}

void RoomLedger::on_offline(Json delta) {
  ++revision_;
  offline_.push_back(std::move(delta));
}

void RoomLedger::on_pong() {
  if (ping_marks_.empty() || !confirmed_) return;
  const std::uint64_t mark = ping_marks_.front();
  ping_marks_.pop_front();
  // Every broadcast sequenced before our ping reached us before this pong,
  // so our deltas sent before the ping fill the versions right after ours.
  while (!pending_.empty() && pending_.front().seq <= mark) place_front();
}

// Moves the oldest pending delta into confirmed: target_state() stays the
// same (the same deltas applied in the same order), so the revision does too.
void RoomLedger::place_front() {
  // apply_room_delta bumps the version as the server did for this delta.
  protocol::apply_room_delta(*confirmed_, &pending_.front().delta);
  pending_.pop_front();
}

RoomState RoomLedger::target_state() const {
  RoomState view = confirmed_ ? *confirmed_ : RoomState{};
  for (const auto& p : pending_) protocol::apply_room_delta(view, &p.delta);
  for (const auto& d : offline_) protocol::apply_room_delta(view, &d);
  return view;
}

}  // namespace wibwob::bridge
