#include "bridge/core/own_events.hpp"

#include <algorithm>

namespace wibwob::bridge {

bool OwnEvents::create_done(const std::optional<std::string>& id) {
  create_in_flight_ = false;
  bool matched = false, foreign = false;
  for (const auto& h : held_) {
    if (id && !matched && h == *id)
      matched = true;
    else
      foreign = true;
  }
  held_.clear();
  if (id && !matched) expected_.insert(*id);
  return foreign;
}

void OwnEvents::change_done(const std::string& id, bool ok) {
  if (ok) return;
  if (auto it = expected_.find(id); it != expected_.end()) expected_.erase(it);
}

bool OwnEvents::consume(const std::optional<std::string>& id) {
  if (!id) return false;
  if (auto it = expected_.find(*id); it != expected_.end()) {
    expected_.erase(it);
    return true;
  }
  if (!create_in_flight_) return false;
  if (held_.size() < 64) {
    held_.push_back(*id);
    return true;
  }
  return false;  // a burst of foreign events: just poll
}

void OwnEvents::on_poll() {
  expected_.clear();
  if (!create_in_flight_) held_.clear();
}

}  // namespace wibwob::bridge
