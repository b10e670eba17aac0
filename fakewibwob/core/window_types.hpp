// The window types as the fake shows them: protocol/window_types.hpp's table
// (what each type can do) plus the fake's own choices of default bounds and
// titles.
//
// Default bounds are the fake's own choice (the spec gives none except by
// example): each type has a fixed rectangle so tests can predict it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "protocol/window_types.hpp"

namespace wibwob::fakewibwob {

struct Rect {
  std::int32_t x = 0, y = 0, w = 0, h = 0;
  friend bool operator==(const Rect&, const Rect&) = default;
};

struct WindowType : protocol::WindowTypeInfo {
  Rect default_bounds;
  std::string_view default_title;
};

// All 35, in the spec's order.
const std::vector<WindowType>& window_types();
// nullptr when `name` is not one of the 35 (names are case-sensitive).
const WindowType* find_window_type(std::string_view name);

}  // namespace wibwob::fakewibwob
