#include "bridge/core/app_mirror.hpp"

#include <algorithm>

namespace wibwob::bridge {

namespace ipc = protocol::ipc;
using protocol::Delta;
using protocol::Layout;
using protocol::Window;

namespace {

// Of two app ids, the one the app handed out later.
bool newer(const std::string& a, const std::string& b) { return a.size() != b.size() ? a.size() > b.size() : a > b; }

}  // namespace

AppMirror::AppMirror(std::string base_origin) : base_origin_(std::move(base_origin)), origin_(base_origin_) {}

std::optional<std::string> AppMirror::detect_restart(const std::vector<ipc::AppWindow>&) const {
  if (unreachable_ && (adopted_ || !room_to_local_.empty()))
    return "the app answers again after it was unreachable or its events started over";
  return std::nullopt;
}

std::optional<std::string> AppMirror::observe_poll(std::vector<ipc::AppWindow> windows) {
  auto restart = detect_restart(windows);
  unreachable_ = false;
  if (restart) reset();
  std::erase_if(windows, [](const ipc::AppWindow& a) { return protocol::is_internal_window_type(a.type); });
  local_ = std::move(windows);
  return restart;
}

void AppMirror::reset() {
  ++revision_;
  reuses_.clear();
  ++epoch_;
  origin_ = base_origin_ + "." + std::to_string(epoch_);
  room_to_local_.clear();
  local_to_room_.clear();
  believed_.clear();
  awaiting_id_.clear();
  adopted_ = false;
}

void AppMirror::map(const std::string& room_id, const std::string& local_id) {
  // The app handed out an id that still names another room window here: that
  // window is gone (its id was freed); the next diff removes it from the room.
  if (auto old = local_to_room_.find(local_id); old != local_to_room_.end() && old->second != room_id) {
    room_to_local_.erase(old->second);
    ++reuses_[local_id];
  }
  room_to_local_[room_id] = local_id;
  local_to_room_[local_id] = room_id;
  ++revision_;
}

void AppMirror::unmap(std::map<std::string, std::string>::iterator room_entry) {
  ++revision_;
  ++reuses_[room_entry->second];  // the app may hand this id out again
  // Only if the local id still names this window (it may name a newer one).
  if (auto it = local_to_room_.find(room_entry->second); it != local_to_room_.end() && it->second == room_entry->first)
    local_to_room_.erase(it);
  room_to_local_.erase(room_entry);
}

std::string AppMirror::fresh_room_id(const std::string& local_id) const {
  auto it = reuses_.find(local_id);
  const std::string base = origin_ + ":" + local_id;
  return it == reuses_.end() ? base : base + "~" + std::to_string(it->second);
}

Window AppMirror::to_room_window(const ipc::AppWindow& a, const std::string& room_id) const {
  Window w;
  w.id = room_id;
  w.type = a.type;
  w.x = a.x;
  w.y = a.y;
  w.w = a.w;
  w.h = a.h;
  w.path = a.path;
  // figlet_text is re-created from its text, which the app shows as the title.
  if (const auto* t = protocol::find_window_type(a.type); t && t->needs_text) w.extra["text"] = a.title;
  return w;
}

AppMirror::Adoption AppMirror::adopt(const Layout& room_view) {
  adopted_ = true;
  ++revision_;
  Adoption r;
  std::set<std::string> taken;
  for (const auto& [rid, local] : room_to_local_) taken.insert(rid);
  Layout shown;
  for (const auto& a : *local_) {
    if (auto it = local_to_room_.find(a.id); it != local_to_room_.end()) {
      shown[it->second] = to_room_window(a, it->second);
      continue;
    }
    std::optional<std::string> match;
    for (const auto& [rid, w] : room_view) {
      if (!taken.count(rid) && to_room_window(a, rid).same_synced(w)) {
        match = rid;
        break;
      }
    }
    const std::string rid = match ? *match : fresh_room_id(a.id);
    taken.insert(rid);
    map(rid, a.id);
    shown[rid] = to_room_window(a, rid);
    if (match)
      ++r.matched;
    else
      r.push.add.push_back(shown[rid]);
  }
  believed_ = std::move(shown);
  return r;
}

void AppMirror::settle_awaiting() {
  if (!awaiting_id_.empty()) ++revision_;
  // A window created without an id in the reply (text_editor): the unmapped
  // local window of that type with the bounds the bridge asked for, else the
  // newest one. (Newest alone takes a window a person opened after the
  // create; found by the simulator, seed 9 of its stress settings.)
  for (const auto& entry : awaiting_id_) {
    const std::string& rid = entry.first;  // (clang 14 cannot capture a structured binding)
    const std::string& type = entry.second;
    const auto asked = believed_.find(rid);
    auto exact = [&](const ipc::AppWindow& a) {
      return asked != believed_.end() && to_room_window(a, rid).same_synced(asked->second);
    };
    const ipc::AppWindow* best = nullptr;
    for (const auto& a : *local_) {
      if (a.type != type || local_to_room_.count(a.id)) continue;
      if (best && exact(*best)) break;
      if (!best || exact(a) || newer(a.id, best->id)) best = &a;
    }
    if (best)
      map(rid, best->id);
    else
      believed_.erase(rid);  // it did not appear: the reconciler tries again
  }
  awaiting_id_.clear();
}

Delta AppMirror::take_local_changes() {
  settle_awaiting();
  Layout now_shown;
  for (const auto& a : *local_) {
    auto it = local_to_room_.find(a.id);
    if (it != local_to_room_.end()) {
      // An id that shows another type came back for a new window: the old
      // one was closed (the diff below removes it from the room).
      auto was = believed_.find(it->second);
      if (was != believed_.end() && was->second.type != a.type) {
        unmap(room_to_local_.find(it->second));
        it = local_to_room_.end();
      }
    }
    if (it == local_to_room_.end()) {
      map(fresh_room_id(a.id), a.id);
      it = local_to_room_.find(a.id);
    }
    now_shown[it->second] = to_room_window(a, it->second);
  }
  // Mapped windows that vanished were closed by a person.
  for (auto it = room_to_local_.begin(); it != room_to_local_.end();) {
    if (!now_shown.count(it->first) && believed_.count(it->first))
      unmap(it++);
    else
      ++it;
  }
  Delta d = protocol::diff(believed_, now_shown);
  if (!d.empty()) ++revision_;
  believed_ = std::move(now_shown);
  return d;
}

void AppMirror::on_created(const std::string& room_id, const Window& w, const std::optional<std::string>& local_id) {
  ++revision_;
  believed_[room_id] = w;
  if (local_id)
    map(room_id, *local_id);
  else
    awaiting_id_[room_id] = w.type;
}

void AppMirror::on_moved(const std::string& room_id, std::int32_t x, std::int32_t y) {
  ++revision_;
  if (auto it = believed_.find(room_id); it != believed_.end()) {
    it->second.x = x;
    it->second.y = y;
  }
}

void AppMirror::on_resized(const std::string& room_id, std::int32_t w, std::int32_t h) {
  ++revision_;
  if (auto it = believed_.find(room_id); it != believed_.end()) {
    it->second.w = w;
    it->second.h = h;
  }
}

void AppMirror::on_closed(const std::string& room_id) {
  ++revision_;
  believed_.erase(room_id);
  if (auto it = room_to_local_.find(room_id); it != room_to_local_.end()) unmap(it);
}

std::optional<std::string> AppMirror::local_id_of(const std::string& room_id) const {
  auto it = room_to_local_.find(room_id);
  if (it == room_to_local_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> AppMirror::room_id_of(const std::string& local_id) const {
  auto it = local_to_room_.find(local_id);
  if (it == local_to_room_.end()) return std::nullopt;
  return it->second;
}

bool AppMirror::set_app_key(std::string key) {
  if (key == app_key_) return false;
  // A known process replaced by another one: whatever is mapped is stale.
  const bool other_process = !app_key_.empty() && !key.empty() && (adopted_ || !room_to_local_.empty());
  app_key_ = std::move(key);
  ++revision_;
  if (other_process) unreachable_ = true;
  return other_process;
}

Handover AppMirror::handover() const {
  Handover h;
  h.app_key = adopted_ ? app_key_ : std::string();  // nothing to resume before adoption
  h.room_to_local = room_to_local_;
  for (const auto& [rid, w] : believed_) {
    if (room_to_local_.count(rid))
      h.believed.emplace(rid, w);
    else if (awaiting_id_.count(rid))
      h.creating.emplace(rid, w);
  }
  return h;
}

void AppMirror::resume(const Handover& h) {
  ++revision_;
  local_to_room_.clear();
  believed_.clear();
  awaiting_id_.clear();
  room_to_local_ = h.room_to_local;
  for (const auto& [rid, local] : room_to_local_) local_to_room_[local] = rid;
  for (const auto& [rid, w] : h.believed)
    if (room_to_local_.count(rid)) believed_.emplace(rid, w);
  // Sent but not seen answered: the next poll maps the window if the app
  // made it (like a create whose reply has no id), else the reconciler
  // creates it again.
  for (const auto& [rid, w] : h.creating) {
    if (room_to_local_.count(rid)) continue;
    believed_[rid] = w;
    awaiting_id_[rid] = w.type;
  }
  adopted_ = true;
}

}  // namespace wibwob::bridge

