// The fake's desktop: windows in z-order with the app's id rules.
//
// Ids are "w<N>" from a per-process counter starting at 1; reset() models a
// new process (ids restart at w1). The front-most window (z = 0) is the
// focused one, as in Turbo Vision where selecting a window brings it to the
// front. Pure: no I/O, no clocks.
//
// Id reuse (spec "Window ids", quirk): the app maps window objects to ids by
// memory address and only an IPC close_window removes an entry, so a window
// closed any other way (close_all, a person, a workspace import) leaves its
// id behind at a freed address, and a later window of the same class may be
// allocated there and get that old id. The fake models the allocator as a
// seeded coin: when a window opens and windows of its type were closed that
// way, it takes one of their ids with probability `reuse_percent`, drawn from
// a splitmix64 stream seeded with `seed`, so a run is reproducible by seed.
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
  std::optional<std::string> text;      // figlet_text's text (workspace props)
  bool refuses_close = false;           // close_window answers {"error":"Close failed"}
  friend bool operator==(const DesktopWindow&, const DesktopWindow&) = default;
};

struct IdReuse {
  bool enabled = true;  // the app's behaviour; off: ids are never reused in a process
  std::uint64_t seed = 1;
  std::uint32_t reuse_percent = 50;  // chance that a freed id of the same type is taken
};

// How a window was closed: only an IPC close_window forgets its id.
enum class CloseRoute { ipc_close_window, other };

class Desktop {
 public:
  // Turbo Vision's minimum window size; resize clamps to it and to the desktop.
  static constexpr Rect kMinSize{0, 0, 16, 6};
  // Freed ids remembered at most (oldest forgotten first): bounds memory in long runs.
  static constexpr std::size_t kMaxFreed = 4096;

  explicit Desktop(Rect area = {0, 0, 200, 58}, IdReuse reuse = {});

  // Opens in front (and focused) with a new or reused id (see above).
  const DesktopWindow& open(DesktopWindow w);
  bool move(std::string_view id, std::int32_t x, std::int32_t y);
  // Clamped to [kMinSize, desktop size] like the app (which still replies success).
  bool resize(std::string_view id, std::int32_t w, std::int32_t h);
  bool focus(std::string_view id);  // brings to front
  bool close(std::string_view id, CloseRoute route = CloseRoute::other);  // false when missing
  DesktopWindow* find(std::string_view id);
  const DesktopWindow* find(std::string_view id) const;
  bool has_type(std::string_view type) const;

  // A new process: no windows, ids restart at w1, no freed ids; the reuse
  // stream starts again from its seed.
  void reset();

  const std::vector<DesktopWindow>& windows() const { return windows_; }  // front-most first
  std::vector<protocol::ipc::AppWindow> app_windows() const;             // get_state view
  std::uint64_t next_id_number() const { return next_; }
  Rect area() const { return area_; }
  // Ids left behind by closes that were not close_window, oldest first.
  std::size_t freed_ids() const { return freed_.size(); }

 private:
  struct Freed {
    std::string type;
    std::string id;
  };
  std::string take_id(const std::string& type);
  std::uint64_t draw();

  std::vector<DesktopWindow> windows_;
  std::uint64_t next_ = 1;
  Rect area_;
  IdReuse reuse_;
  std::uint64_t rng_ = 0;
  std::vector<Freed> freed_;
};

}  // namespace wibwob::fakewibwob
