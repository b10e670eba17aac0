#include "fakewibwob/core/arrange.hpp"

#include <algorithm>
#include <cstdint>

namespace wibwob::fakewibwob {

namespace {

// Turbo Vision's integer square root: a Newton-like iteration that stops when
// the two estimates are within one and returns the smaller. It is not always
// floor(sqrt(n)), so the grid shape depends on reproducing it, not on std::sqrt.
std::int64_t tv_isqrt(std::int64_t n) {
  std::int64_t a = 2;
  std::int64_t b = n / a;
  while (std::abs(a - b) > 1) {
    a = (a + b) / 2;
    b = n / a;
  }
  return std::min(a, b);
}

struct Grid {
  std::int64_t cols = 0, rows = 0;
};

// The most equal divisors of n, favouring rows (TDeskTop's default).
Grid most_equal_divisors(std::int64_t n) {
  std::int64_t i = tv_isqrt(n);
  if (n % i != 0 && n % (i + 1) == 0) ++i;
  if (i < n / i) i = n / i;
  return Grid{n / i, i};
}

// The line at `pos` of `num` equal divisions of [lo, hi), rounded down.
std::int32_t divider(std::int32_t lo, std::int32_t hi, std::int64_t num, std::int64_t pos) {
  return static_cast<std::int32_t>(std::int64_t{hi - lo} * pos / num + lo);
}

}  // namespace

Rect locate(Rect r, Rect min_size, Rect max_size) {
  r.w = std::clamp(r.w, min_size.w, std::max(min_size.w, max_size.w));
  r.h = std::clamp(r.h, min_size.h, std::max(min_size.h, max_size.h));
  return r;
}

std::vector<Rect> tile_places(std::size_t count, Rect area) {
  std::vector<Rect> out;
  if (count == 0 || area.w <= 0 || area.h <= 0) return out;
  const auto n = static_cast<std::int64_t>(count);
  const Grid g = most_equal_divisors(n);
  if (area.w / g.cols == 0 || area.h / g.rows == 0) return out;  // tileError: nothing moves
  // The first (cols - left_over) columns have `rows` rows, the rest rows + 1.
  const std::int64_t left_over = n % g.cols;
  const std::int64_t short_places = (g.cols - left_over) * g.rows;
  const std::int32_t x0 = area.x, x1 = area.x + area.w, y0 = area.y, y1 = area.y + area.h;
  out.reserve(count);
  for (std::int64_t pos = 0; pos < n; ++pos) {
    const bool tall = pos >= short_places;
    const std::int64_t rows = tall ? g.rows + 1 : g.rows;
    const std::int64_t col = tall ? (pos - short_places) / rows + (g.cols - left_over) : pos / rows;
    const std::int64_t row = tall ? (pos - short_places) % rows : pos % rows;
    Rect r;
    r.x = divider(x0, x1, g.cols, col);
    r.w = divider(x0, x1, g.cols, col + 1) - r.x;
    r.y = divider(y0, y1, rows, row);
    r.h = divider(y0, y1, rows, row + 1) - r.y;
    out.push_back(locate(r, kMinWindowSize, area));
  }
  return out;
}

std::vector<Rect> cascade_places(std::size_t count, Rect area) {
  std::vector<Rect> out;
  if (count == 0) return out;
  const auto n = static_cast<std::int64_t>(count);
  // Turbo Vision checks the back-most window's minimum size against the
  // area shrunk by the window count (not count - 1).
  if (kMinWindowSize.w > std::int64_t{area.w} - n || kMinWindowSize.h > std::int64_t{area.h} - n) return out;
  out.reserve(count);
  for (std::int64_t k = 0; k < n; ++k) {
    const auto off = static_cast<std::int32_t>(k);
    out.push_back(locate(Rect{area.x + off, area.y + off, area.w - off, area.h - off}, kMinWindowSize, area));
  }
  return out;
}

}  // namespace wibwob::fakewibwob
