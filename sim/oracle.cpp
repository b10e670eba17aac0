#include "sim/oracle.hpp"

#include "bridge/core/room_ledger.hpp"
#include "protocol/ipc.hpp"

namespace wibwob::sim::detail {

using protocol::Json;

std::vector<WriteOracle::Entry> WriteOracle::entries(int instance, const Json& delta) {
  std::vector<Entry> out;
  if (!delta.is_object()) return out;
  // A write's identity is its revision tag; an untagged one is a problem
  // (every write this bridge makes carries one) and gets a unique identity.
  auto stamp = [&](Entry& e, const std::optional<bridge::RevisionTag>& tag, const std::string& what, const Json& sent) {
    if (tag) {
      e.identity = tag->by;
      e.seen = tag->seen;
      return;
    }
    problem("i" + std::to_string(instance) + " sent " + what + " without a revision tag: " + sent.dump());
    e.identity = "untagged:" + std::to_string(++anonymous_);
  };
  bridge::for_each_write(delta, [&](bridge::WriteKind kind, const std::string& id, const Json& entry) {
    const bool put = kind != bridge::WriteKind::remove;
    Entry e{id, "", put, std::nullopt, std::nullopt};
    if (put) {
      if (auto v = protocol::normalise_window(entry)) e.value = std::move(*v);
      stamp(e, bridge::revision_of(entry), "an entry for " + id, entry);
    } else {
      stamp(e, bridge::removal_tag_of(delta, id), "a removal of " + id, delta);
    }
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<WriteOracle::Entry> WriteOracle::parse(int instance, const std::string& frame) {
  auto msg = protocol::ipc::parse_json(frame);
  if (!msg || !msg->is_object() || !msg->contains("delta")) return {};
  return entries(instance, (*msg)["delta"]);
}

void WriteOracle::problem(std::string what) {
  if (problem_.empty()) problem_ = "write oracle: " + std::move(what);
}

void WriteOracle::on_send(int instance, const std::string& frame, std::optional<std::int64_t> confirmed) {
  auto es = parse(instance, frame);
  for (const auto& e : es) {
    auto it = sent_.find(e.identity);
    if (it == sent_.end()) {
      sent_.emplace(e.identity, Sent{instance, confirmed.value_or(-1), ++order_, e.window, e.value});
      if (e.seen && *e.seen != confirmed.value_or(0))
        problem("tag " + e.identity + " says its writer had seen version " + std::to_string(*e.seen) +
                "; it had confirmed " + (confirmed ? std::to_string(*confirmed) : std::string("nothing")));
      continue;
    }
    // Sent again (after a reconnect): the same write, so the same window and value.
    const Sent& first = it->second;
    if (first.window != e.window || first.instance != instance || first.value.has_value() != e.value.has_value() ||
        (e.value && !first.value->same_synced(*e.value)))
      problem("tag " + e.identity + " names two different writes: one to " + e.window + " and an earlier one to " +
              first.window);
  }
  frames_[frame] = std::move(es);
}

void WriteOracle::on_sequenced(int instance, const std::string& frame, std::int64_t version) {
  std::vector<Entry> es;
  if (auto f = frames_.find(frame); f != frames_.end()) {
    es = std::move(f->second);
    frames_.erase(f);
  } else {
    es = parse(instance, frame);  // (every frame is sent first; kept for safety)
  }
  for (const auto& e : es) {
    ++writes_;
    if (landed_[e.identity]++) ++relanded_;
    if (!e.put && !present_[e.window]) continue;  // removing a missing window changes nothing
    present_[e.window] = e.put;
    history_[e.window].push_back(Landing{e.identity, version});
  }
}

bool WriteOracle::saw(const std::string& later, std::int64_t first_landing, const std::string& earlier) const {
  auto y = sent_.find(later);
  if (y == sent_.end()) return false;
  if (y->second.confirmed >= first_landing) return true;
  // A later write from the same desktop was made after it (the app showed it).
  auto z = sent_.find(earlier);
  return z != sent_.end() && z->second.instance == y->second.instance && y->second.order > z->second.order;
}

std::string WriteOracle::check() {
  if (!problem_.empty()) return problem_;
  // Writes that never arrived (counted; the ledger's model test checks that
  // none is lost, since only it sees the changes made offline).
  never_landed_ = lost_with_bridge_ = 0;
  for (const auto& [id, s] : sent_) {
    if (landed_.count(id)) continue;
    ++(ended_.count(id.substr(0, id.find('#'))) ? lost_with_bridge_ : never_landed_);
  }
  for (const auto& [window, h] : history_) {
    const Landing& last = h.back();
    std::optional<std::int64_t> first;
    for (const auto& l : h)
      if (l.write == last.write) {
        first = l.version;
        break;
      }
    if (*first == last.version) continue;
    for (const auto& y : h) {
      if (y.version <= *first || y.version >= last.version || y.write == last.write) continue;
      if (!saw(y.write, *first, last.write)) continue;
      auto describe = [&](const std::string& id) {
        auto s = sent_.find(id);
        if (s == sent_.end()) return id;
        return id + " (i" + std::to_string(s->second.instance) + ", which had seen version " +
               std::to_string(s->second.confirmed) + ")";
      };
      return "write oracle: window " + window + " ends with write " + describe(last.write) + ", sequenced at version " +
             std::to_string(*first) + " and again at " + std::to_string(last.version) + "; write " + describe(y.write) +
             " at version " + std::to_string(y.version) + " had replaced it knowing it: an overwritten change came back";
    }
  }
  return {};
}

}  // namespace wibwob::sim::detail
