#include "bridge/core/room_ledger.hpp"

#include <set>

namespace wibwob::bridge {

using protocol::Json;
using protocol::RoomState;

namespace {

std::optional<RevisionTag> read_tag(const Json& r) {
  if (!r.is_object()) return std::nullopt;
  auto by = r.find("by");
  auto seen = r.find("seen");
  if (by == r.end() || !by->is_string() || seen == r.end() || !seen->is_number_integer()) return std::nullopt;
  return RevisionTag{by->get<std::string>(), seen->get<std::int64_t>()};
}

}  // namespace

std::optional<RevisionTag> revision_of(const Json& window) {
  if (!window.is_object()) return std::nullopt;
  auto r = window.find(kRevisionField);
  return r == window.end() ? std::nullopt : read_tag(*r);
}

std::optional<RevisionTag> removal_tag_of(const Json& delta, const std::string& id) {
  if (!delta.is_object()) return std::nullopt;
  auto tags = delta.find(kRemovalTagsField);
  if (tags == delta.end() || !tags->is_object()) return std::nullopt;
  auto t = tags->find(id);
  return t == tags->end() ? std::nullopt : read_tag(*t);
}

void for_each_write(const Json& delta, const std::function<void(WriteKind, const std::string&, const Json&)>& fn) {
  if (!delta.is_object()) return;
  auto each = [&](const char* key, WriteKind kind) {
    auto it = delta.find(key);
    if (it == delta.end() || !it->is_array()) return;
    for (const auto& entry : *it) {
      const Json* id = &entry;  // a removal names the window; an add or update carries its id
      if (kind != WriteKind::remove) {
        if (!entry.is_object()) continue;
        auto i = entry.find("id");
        if (i == entry.end()) continue;
        id = &*i;
      }
      if (id->is_string()) fn(kind, id->get_ref<const std::string&>(), entry);
    }
  };
  each("add", WriteKind::add);
  each("remove", WriteKind::remove);
  each("update", WriteKind::update);
}

protocol::Layout typed_view(const RoomState& state, const protocol::Limits& limits, std::uint64_t* skipped) {
  protocol::Layout out;
  for (const auto& [key, raw] : state.windows) {
    auto w = protocol::normalise_window(raw, limits);
    if (!w || w->id != key) {
      if (skipped) ++*skipped;
      continue;
    }
    if (protocol::is_internal_window_type(w->type)) continue;
    w->extra.erase(kRevisionField);  // the bridge's own bookkeeping, not the window's
    out.emplace(key, std::move(*w));
  }
  return out;
}

namespace {

const Json* find_window(const RoomState& s, const std::string& id) {
  auto it = s.windows.find(id);
  return it == s.windows.end() ? nullptr : &it->second;
}

bool same_synced(const Json& a, const Json& b, const protocol::Limits& limits) {
  auto wa = protocol::normalise_window(a, limits);
  auto wb = protocol::normalise_window(b, limits);
  return wa && wb && wa->same_synced(*wb);
}

// One own write to one window, as it was sent.
struct Write {
  WriteKind kind;
  Json window;  // add, update: the entry as sent (tagged); remove: its tag
};

// The writes of the pending deltas, per window, in the server's order.
std::map<std::string, std::vector<Write>> writes_by_window(const std::deque<Json>& deltas) {
  std::map<std::string, std::vector<Write>> out;
  for (const auto& d : deltas)
    for_each_write(d, [&](WriteKind kind, const std::string& id, const Json& entry) {
      if (kind != WriteKind::remove) {
        out[id].push_back(Write{kind, entry});
        return;
      }
      Json tag;
      if (auto t = d.find(kRemovalTagsField); t != d.end() && t->is_object() && t->contains(id)) tag = (*t)[id];
      out[id].push_back(Write{kind, std::move(tag)});
    });
  return out;
}

// Room ids of this bridge's form, "<origin>:<local id>", are never reused;
// the earlier Python bridge reuses its bare ids, so a window of its coming
// back is no news.
bool never_reused(const std::string& id) { return id.find(':') != std::string::npos; }

// The rule (docs/bridge.md, "After a reconnect"). `writes` are this
// bridge's unproven writes to window `id`, in the order sent; each was sent
// after every version the bridge had confirmed (`before`), so if it landed,
// it landed after them and left its tag on the window. Returns from which of
// them to re-send, or nothing:
//  - the room's entry is exactly the confirmed one: nothing was written to
//    the window since, none of them landed: re-send all;
//  - the entry carries the tag (and the synced fields) of one of them, Mj:
//    Mj landed last and nothing was written after it: re-send those after Mj;
//  - anything else (someone's tag, an untagged change, the window gone)
//    is a write after ours or concurrent with it, which may have seen ours:
//    re-send nothing. One of ours that did not land is then ordered before
//    that write, a valid order, since this bridge had not seen it.
// Not decidable: a window absent from both, i.e. our own add of a new
// window that either never arrived or arrived and was removed. It is re-sent
// (a new window that vanished would be a loss); the remover removes it
// again (take_came_back).
std::optional<std::size_t> resend_from(ResendRule rule, const protocol::Limits& limits, const std::string& id,
                                       const std::vector<Write>& writes, const RoomState* before, const RoomState& now) {
  if (rule == ResendRule::legacy_minus_shown) return 0;
  const Json* was = before ? find_window(*before, id) : nullptr;
  const Json* is = find_window(now, id);
  if (!was && !is) return 0;
  if (was && is && *was == *is) return 0;
  if (!is) return std::nullopt;
  const auto tag = revision_of(*is);
  if (!tag) return std::nullopt;
  for (std::size_t j = writes.size(); j-- > 0;) {
    const auto& w = writes[j];
    if (w.kind == WriteKind::remove) continue;
    auto mine = revision_of(w.window);
    if (mine && mine->by == tag->by) {
      if (!same_synced(*is, w.window, limits)) return std::nullopt;  // an untagged write after it
      return j + 1;
    }
  }
  return std::nullopt;
}

}  // namespace

RoomLedger::Resend RoomLedger::on_state_sync(RoomState state) {
  ++revision_;
  std::optional<RoomState> before = std::move(confirmed_);
  confirmed_ = std::move(state);
  ping_marks_.clear();
  const RoomState& now = *confirmed_;
  Resend r;
  for (const auto& id : removed_)
    if (now.windows.count(id) && never_reused(id)) came_back_.insert(id);

  std::deque<Json> sent;
  for (auto& p : pending_) sent.push_back(std::move(p.delta));
  const auto unproven = writes_by_window(sent);
  std::set<std::string> ids;
  for (const auto& [id, w] : unproven) ids.insert(id);
  for (const auto& [id, e] : offline_) ids.insert(id);

  Json add = Json::array(), remove = Json::array(), update = Json::array(), removal_tags = Json::object();
  for (const auto& id : ids) {
    const Json* base = find_window(now, id);
    std::optional<Json> value;
    if (base) value = *base;
    bool fresh = false;  // an offline change is the last word: a new write, tagged now
    Json removal_tag;    // a re-sent removal keeps its tag
    if (auto u = unproven.find(id); u != unproven.end()) {
      ++r.unproven;
      const auto from = resend_from(rule_, limits_, id, u->second, before ? &*before : nullptr, now);
      if (from) {
        for (std::size_t j = *from; j < u->second.size(); ++j) {
          const Write& w = u->second[j];
          if (w.kind == WriteKind::add) {
            value = w.window;
          } else if (w.kind == WriteKind::remove) {
            value.reset();
            removal_tag = w.window;
          } else if (value) {
            protocol::merge_update(*value, w.window);
          } else if (rule_ == ResendRule::legacy_minus_shown) {
            value = w.window;  // the server's upsert brings a removed window back
          }
        }
      }
      if (!from) ++r.unproven_dropped;  // someone wrote since, or removed it
      // Our removal is not in the room any more: it landed (or someone
      // else's did). Either way the window is gone, as we decided.
      if (!base && u->second.back().kind == WriteKind::remove) remember(id);
    }
    if (auto o = offline_.find(id); o != offline_.end()) {
      ++r.offline;
      const OfflineEntry& e = o->second;
      if (e.remove) {
        value.reset();
        removal_tag = Json();
      } else if (e.opened) {
        value = e.window;
        fresh = true;
      } else if (value) {
        protocol::merge_update(*value, e.window);
        fresh = true;
      }
      // else: someone removed the window meanwhile; a change to it made
      // offline does not bring it back.
    }
    // Minus what the state already shows.
    if (!value) {
      if (base) {
        remove.push_back(id);
        removal_tags[id] = removal_tag.is_object() ? removal_tag : fresh_tag();
      }
      continue;
    }
    if (base && same_synced(*base, *value, limits_)) continue;
    // An offline change is a new write, sent now, knowing `now`.
    if (fresh) (*value)[kRevisionField] = fresh_tag();
    (base ? update : add).push_back(std::move(*value));
  }
  pending_.clear();
  offline_.clear();
  r.entries = add.size() + remove.size() + update.size();
  if (r.entries) {
    Json d = Json::object();
    if (!add.empty()) d["add"] = std::move(add);
    if (!remove.empty()) {
      d["remove"] = std::move(remove);
      d[kRemovalTagsField] = std::move(removal_tags);
    }
    if (!update.empty()) d["update"] = std::move(update);
    r.delta = std::move(d);
  }
  return r;
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
    note_came_back(*delta);
  }
  confirmed_->version = version;
  return r;
}

Json RoomLedger::fresh_tag() {
  return Json{{"by", writer_ + "#" + std::to_string(next_write_++)}, {"seen", confirmed_ ? confirmed_->version : 0}};
}

Json RoomLedger::tag(Json delta) {
  if (!delta.is_object()) return delta;
  for (const char* k : {"add", "update"}) {
    auto it = delta.find(k);
    if (it == delta.end() || !it->is_array()) continue;
    for (auto& w : *it)
      if (w.is_object()) w[kRevisionField] = fresh_tag();
  }
  if (auto it = delta.find("remove"); it != delta.end() && it->is_array() && !it->empty()) {
    Json tags = Json::object();
    for (const auto& id : *it)
      if (id.is_string()) tags[id.get<std::string>()] = fresh_tag();
    delta[kRemovalTagsField] = std::move(tags);
  }
  return delta;
}

void RoomLedger::on_sent(Json delta) {
  ++revision_;
  const std::uint64_t seq = next_seq_++;
  pending_.push_back(Pending{std::move(delta), seq});
  ping_marks_.push_back(seq);
}

void RoomLedger::on_offline(const protocol::Delta& change) {
  ++revision_;
  // In the server's order: adds, removes, updates.
  for (const auto& w : change.add) offline_[w.id] = OfflineEntry{false, true, protocol::to_json(w)};
  for (const auto& id : change.remove) {
    auto it = offline_.find(id);
    if (it != offline_.end() && it->second.opened)
      offline_.erase(it);  // opened and closed offline: the room never needs to hear of it
    else
      offline_[id] = OfflineEntry{true, false, Json()};
  }
  for (const auto& w : change.update) {
    auto it = offline_.find(w.id);
    if (it != offline_.end() && !it->second.remove)
      protocol::merge_update(it->second.window, protocol::to_json(w));
    else
      offline_[w.id] = OfflineEntry{false, false, protocol::to_json(w)};
  }
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
  remember_removals(pending_.front().delta);
  protocol::apply_room_delta(*confirmed_, &pending_.front().delta);
  pending_.pop_front();
}

void RoomLedger::remember(const std::string& id) {
  if (!removed_.insert(id).second) return;
  removed_order_.push_back(id);
  if (removed_order_.size() > kRemembered) {
    removed_.erase(removed_order_.front());
    removed_order_.pop_front();
  }
}

// Call before applying an own delta to confirmed: the windows it removes.
void RoomLedger::remember_removals(const Json& delta) {
  if (!delta.is_object()) return;
  auto it = delta.find("remove");
  if (it == delta.end() || !it->is_array()) return;
  for (const auto& id : *it)
    if (id.is_string() && confirmed_->windows.count(id.get<std::string>())) remember(id.get<std::string>());
}

// Call after applying `delta` to confirmed: windows it brought back that
// this bridge saw removed.
void RoomLedger::note_came_back(const Json& delta) {
  if (removed_.empty()) return;
  for_each_write(delta, [&](WriteKind kind, const std::string& id, const Json&) {
    if (kind != WriteKind::remove && removed_.count(id) && confirmed_->windows.count(id) && never_reused(id))
      came_back_.insert(id);
  });
}

std::vector<std::string> RoomLedger::take_came_back() {
  std::vector<std::string> out;
  for (const auto& id : came_back_)
    if (confirmed_ && confirmed_->windows.count(id)) out.push_back(id);
  came_back_.clear();
  return out;
}

RoomState RoomLedger::target_state() const {
  RoomState view = confirmed_ ? *confirmed_ : RoomState{};
  for (const auto& p : pending_) protocol::apply_room_delta(view, &p.delta);
  for (const auto& [id, e] : offline_) {
    if (e.remove) {
      view.windows.erase(id);
    } else if (e.opened) {
      view.windows[id] = e.window;
    } else {
      protocol::merge_update(view.windows[id], e.window);  // the server's update: merge, or insert
    }
  }
  return view;
}

}  // namespace wibwob::bridge
