#include "fakewibwob/core/desktop.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace wibwob::fakewibwob {

Desktop::Desktop(Rect area, IdReuse reuse) : area_(area), reuse_(reuse), rng_(reuse.seed) {}

std::uint64_t Desktop::draw() {
  // splitmix64: tiny, fully specified, so a seed gives the same ids on every
  // platform (std distributions are implementation-defined).
  std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Desktop::take_id(const std::string& type) {
  if (reuse_.enabled) {
    std::vector<std::size_t> same;
    for (std::size_t i = 0; i < freed_.size(); ++i)
      if (freed_[i].type == type) same.push_back(i);
    if (!same.empty() && draw() % 100 < reuse_.reuse_percent) {
      const std::size_t pick = same[draw() % same.size()];
      std::string id = std::move(freed_[pick].id);
      freed_.erase(freed_.begin() + static_cast<std::ptrdiff_t>(pick));
      return id;
    }
  }
  // Formatted with to_chars: GCC 12's -Wrestrict misfires on
  // "w" + std::to_string(n) at -O2 (GCC bug 105329).
  std::array<char, 24> buf{'w'};
  auto [end, ec] = std::to_chars(buf.data() + 1, buf.data() + buf.size(), next_++);
  (void)ec;  // 23 digits always suffice for a uint64
  return std::string(buf.data(), end);
}

const DesktopWindow& Desktop::open(DesktopWindow w) {
  w.id = take_id(w.type);
  // push_back + rotate rather than insert at begin(): same result (new
  // window front-most), without GCC 12's -Wnull-dereference false positive
  // in vector::_M_realloc_insert.
  windows_.push_back(std::move(w));
  std::rotate(windows_.begin(), windows_.end() - 1, windows_.end());
  return windows_.front();
}

DesktopWindow* Desktop::find(std::string_view id) {
  auto it = std::find_if(windows_.begin(), windows_.end(), [&](const auto& w) { return w.id == id; });
  return it == windows_.end() ? nullptr : &*it;
}

const DesktopWindow* Desktop::find(std::string_view id) const {
  auto it = std::find_if(windows_.begin(), windows_.end(), [&](const auto& w) { return w.id == id; });
  return it == windows_.end() ? nullptr : &*it;
}

bool Desktop::has_type(std::string_view type) const {
  return std::any_of(windows_.begin(), windows_.end(), [&](const auto& w) { return w.type == type; });
}

bool Desktop::move(std::string_view id, std::int32_t x, std::int32_t y) {
  DesktopWindow* w = find(id);
  if (!w) return false;
  w->bounds.x = x;
  w->bounds.y = y;
  return true;
}

bool Desktop::resize(std::string_view id, std::int32_t w, std::int32_t h) {
  DesktopWindow* win = find(id);
  if (!win) return false;
  win->bounds.w = std::clamp(w, kMinSize.w, std::max(kMinSize.w, area_.w));
  win->bounds.h = std::clamp(h, kMinSize.h, std::max(kMinSize.h, area_.h));
  return true;
}

bool Desktop::focus(std::string_view id) {
  auto it = std::find_if(windows_.begin(), windows_.end(), [&](const auto& w) { return w.id == id; });
  if (it == windows_.end()) return false;
  std::rotate(windows_.begin(), it, it + 1);
  return true;
}

bool Desktop::close(std::string_view id, CloseRoute route) {
  auto it = std::find_if(windows_.begin(), windows_.end(), [&](const auto& w) { return w.id == id; });
  if (it == windows_.end()) return false;
  if (route == CloseRoute::other && reuse_.enabled) {
    if (freed_.size() >= kMaxFreed) freed_.erase(freed_.begin());
    freed_.push_back({it->type, it->id});
  }
  windows_.erase(it);
  return true;
}

void Desktop::reset() {
  windows_.clear();
  freed_.clear();
  next_ = 1;
  rng_ = reuse_.seed;
}

std::vector<protocol::ipc::AppWindow> Desktop::app_windows() const {
  std::vector<protocol::ipc::AppWindow> out;
  out.reserve(windows_.size());
  std::int32_t z = 0;
  for (const auto& w : windows_) {
    protocol::ipc::AppWindow a;
    a.id = w.id;
    // Windows of a class the app does not know (dialogs) report test_pattern.
    a.type = find_window_type(w.type) ? w.type : "test_pattern";
    a.x = w.bounds.x;
    a.y = w.bounds.y;
    a.w = w.bounds.w;
    a.h = w.bounds.h;
    a.z = z;
    a.focused = (z == 0);
    a.title = w.title;
    const WindowType* t = find_window_type(w.type);
    if (t && t->needs_path) a.path = w.path.value_or("");
    out.push_back(std::move(a));
    ++z;
  }
  return out;
}

}  // namespace wibwob::fakewibwob
