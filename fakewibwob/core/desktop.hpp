// The fake's desktop: windows in z-order with the app's id rules.
//
// Ids are "w<N>" from a per-process counter starting at 1, never reused
// within a process; reset() models a new process (ids restart at w1). The
// front-most window (z = 0) is the focused one, as in Turbo Vision where
// selecting a window brings it to the front. Pure: no I/O, no clocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakewibwob/core/window_types.hpp"
#include "protocol/ipc.hpp"

namespace wibwob::fakewibwob {

struct DesktopWindow {
  std::string id;  // "w<N>"
  std::string type;
  Rect bounds;
  std::string title;
  std::optional<std::string> path;      // reported only for types with needs_path
  std::optional<std::string> gradient;  // kept for gradient windows (not reported)
  bool refuses_close = false;           // close_window answers {"error":"Close failed"}
  friend bool operator==(const DesktopWindow&, const DesktopWindow&) = default;
};

class Desktop {
 public:
  // Turbo Vision's minimum window size; resize clamps to it and to the desktop.
  static constexpr Rect kMinSize{0, 0, 16, 6};

  explicit Desktop(Rect area = {0, 0, 240, 80}) : area_(area) {}

  // Opens in front (and focused); returns the new id.
  const DesktopWindow& open(DesktopWindow w);
  bool move(std::string_view id, std::int32_t x, std::int32_t y);
  // Clamped to [kMinSize, desktop size] like the app (which still replies success).
  bool resize(std::string_view id, std::int32_t w, std::int32_t h);
  bool focus(std::string_view id);  // brings to front
  bool close(std::string_view id);  // false when missing
  DesktopWindow* find(std::string_view id);
  const DesktopWindow* find(std::string_view id) const;
  bool has_type(std::string_view type) const;

  // A new process: no windows, ids restart at w1.
  void reset();

  const std::vector<DesktopWindow>& windows() const { return windows_; }  // front-most first
  std::vector<protocol::ipc::AppWindow> app_windows() const;             // get_state view
  std::uint64_t next_id_number() const { return next_; }
  Rect area() const { return area_; }

 private:
  std::vector<DesktopWindow> windows_;
  std::uint64_t next_ = 1;
  Rect area_;
};

}  // namespace wibwob::fakewibwob
