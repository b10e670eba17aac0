// Turbo Vision's window arrangement, as the app's `tile` and `cascade` do it
// (TDeskTop::tile / TDeskTop::cascade over the desktop rectangle; the
// arithmetic was read from the public tvision source and written anew here).
//
// Places are numbered from the back: place 0 is for the window furthest
// back (highest z), place n-1 for the front-most one, which is how
// TDeskTop hands them out (it walks the windows front to back with a
// counter running down). Every rectangle is then passed through `locate`,
// which clamps its size to the window's limits (TWindow: at least 16x6, at
// most the desktop) keeping its top-left corner, as TView::locate does.
//
// Pure functions; `n` is the number of windows. An empty result means Turbo
// Vision refuses (TDeskTop::tileError, which does nothing): the windows stay
// where they are.
#pragma once

#include <cstddef>
#include <vector>

#include "fakewibwob/core/window_types.hpp"

namespace wibwob::fakewibwob {

// Turbo Vision's minimum window size (TWindow::minWinSize).
inline constexpr Rect kMinWindowSize{0, 0, 16, 6};

// TView::locate's size clamp: [min, max] per axis, top-left kept.
Rect locate(Rect r, Rect min_size, Rect max_size);

// TDeskTop::tile: a near-square grid, more rows than columns when it cannot
// be square (tileColumnsFirst off), the last `n % cols` columns one row
// taller. Empty when n == 0 or a cell would be 0 wide or high.
std::vector<Rect> tile_places(std::size_t n, Rect area);

// TDeskTop::cascade: place k starts k cells right of and below the area's
// corner and reaches its bottom-right corner. Empty when n == 0 or the
// back-most window's minimum size does not fit the last offset.
std::vector<Rect> cascade_places(std::size_t n, Rect area);

}  // namespace wibwob::fakewibwob
