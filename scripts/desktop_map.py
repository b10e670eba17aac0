"""Small text maps of WibWob-DOS desktops, for the live session's output.

A desktop is a list of windows as fakewibwob's control plane reports them
(dicts with x, y, w, h in the app's character cells and a type), bottom to top.
Each map scales the app's 200x59 canvas down (by default to 50x15): the canvas
is dots, each window an outline with its type written into its top edge, and
a window drawn later (higher) hides what it covers. Standard library only.

    render(windows, cols=50, rows=15) -> list of `rows` strings of `cols` characters
    side_by_side([(title, lines), ...]) -> the maps next to each other, titled
"""

from __future__ import annotations

CANVAS = (200, 59)  # the app's desktop: 200x60 terminal minus the menu bar
BACKGROUND = "."


def _span(pos: int, size: int, cells: int, canvas: int) -> tuple[int, int] | None:
    """First and last map cell covered by [pos, pos + size) of `canvas`, clipped; None when off the map."""
    if pos >= canvas or pos + size <= 0:
        return None
    first = max(pos, 0) * cells // canvas
    last = (min(pos + size, canvas) - 1) * cells // canvas
    # At least two cells, so that every window shows as an outline.
    if last == first:
        if last + 1 < cells:
            last += 1
        else:
            first -= 1
    return first, last


def _check(w: dict) -> tuple[int, int, int, int]:
    try:
        x, y, width, height = (int(w[k]) for k in ("x", "y", "w", "h"))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"a window needs integer x, y, w and h: {w!r}") from e
    if width <= 0 or height <= 0:
        raise ValueError(f"a window needs a positive size: {w!r}")
    return x, y, width, height


def render(windows: list[dict], cols: int = 50, rows: int = 15, canvas: tuple[int, int] = CANVAS) -> list[str]:
    """One desktop as `rows` lines of `cols` characters."""
    if cols < 2 or rows < 2:
        raise ValueError(f"a map needs at least 2x2 cells, not {cols}x{rows}")
    grid = [[BACKGROUND] * cols for _ in range(rows)]
    for w in windows:
        x, y, width, height = _check(w)
        xs, ys = _span(x, width, cols, canvas[0]), _span(y, height, rows, canvas[1])
        if xs is None or ys is None:
            continue
        (left, right), (top, bottom) = xs, ys
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                edge_r, edge_c = r in (top, bottom), c in (left, right)
                grid[r][c] = "+" if edge_r and edge_c else "-" if edge_r else "|" if edge_c else " "
        label = str(w.get("type", "?"))[: right - left - 1]
        for i, ch in enumerate(label):
            grid[top][left + 1 + i] = ch
    return ["".join(row) for row in grid]


def side_by_side(maps: list[tuple[str, list[str]]], gap: int = 3) -> list[str]:
    """The maps next to each other, each under its title (cut to the map's width)."""
    if not maps:
        return []
    widths = [len(lines[0]) if lines else 0 for _, lines in maps]
    height = max(len(lines) for _, lines in maps)
    sep = " " * gap
    out = [sep.join(title[:wd].ljust(wd) for (title, _), wd in zip(maps, widths)).rstrip()]
    for r in range(height):
        out.append(sep.join((lines[r] if r < len(lines) else "").ljust(wd) for (_, lines), wd in zip(maps, widths)))
    return out
