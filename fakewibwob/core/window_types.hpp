// The 35 window types of WibWob-DOS with the creation rules the fake applies
// (spec/wibwob-ipc.md, "Window commands").
//
// Default bounds are the fake's own choice (the spec gives none except by
// example): each type has a fixed rectangle so tests can predict it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace wibwob::fakewibwob {

struct Rect {
  std::int32_t x = 0, y = 0, w = 0, h = 0;
  friend bool operator==(const Rect&, const Rect&) = default;
};

struct WindowType {
  std::string_view name;
  Rect default_bounds;
  bool creatable = true;      // false only for scramble: "err unsupported type"
  bool needs_path = false;    // frame_player, text_view: "err missing path"; path shown in get_state
  bool needs_text = false;    // figlet_text: "err missing text param"; text becomes the title
  bool reply_has_id = true;   // false for text_editor: {"success":true} without id
  bool modal_dialog = false;  // backrooms_tv: the reply waits for a person to close a dialog
  std::string_view default_title;
};

// All 35, in the spec's order.
const std::vector<WindowType>& window_types();
// nullptr when `name` is not one of the 35 (names are case-sensitive).
const WindowType* find_window_type(std::string_view name);

}  // namespace wibwob::fakewibwob
