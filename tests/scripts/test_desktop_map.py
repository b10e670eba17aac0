"""scripts/desktop_map.py: the live session's text maps of the desktops."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from desktop_map import render, side_by_side  # noqa: E402


def win(x, y, w, h, type="verse"):
    return {"id": "w1", "type": type, "x": x, "y": y, "w": w, "h": h}


def test_an_empty_desktop_is_all_background():
    assert render([], cols=8, rows=3) == ["........"] * 3


def test_a_full_screen_window_outlines_the_whole_map_with_its_type():
    assert render([win(0, 0, 200, 59, "cube")], cols=10, rows=4) == [
        "+cube----+",
        "|        |",
        "|        |",
        "+--------+",
    ]


def test_windows_are_scaled_from_the_apps_200x59_canvas():
    # The right half of the screen, top half: columns 25..49 and rows 0..7 of 50x15.
    lines = render([win(100, 0, 100, 30, "life")])
    assert len(lines) == 15 and all(len(l) == 50 for l in lines)
    assert lines[0] == "." * 25 + "+life" + "-" * 19 + "+"
    assert lines[7] == "." * 25 + "+" + "-" * 23 + "+"
    assert lines[3] == "." * 25 + "|" + " " * 23 + "|"
    assert lines[8] == "." * 50


def test_a_later_window_hides_what_it_covers():
    lines = render([win(0, 0, 200, 59, "verse"), win(80, 20, 40, 20, "cube")], cols=20, rows=6)
    assert lines[0].startswith("+verse")
    # The cube, drawn on top, blanks the verse's interior where it lies.
    assert lines[2] == "|       +cu+       |"
    assert lines[3] == "|       +--+       |"


def test_windows_partly_off_the_canvas_are_clipped_and_tiny_ones_still_show():
    lines = render([win(-50, 50, 100, 40, "orbit"), win(199, 0, 1, 1, "x")], cols=10, rows=5)
    assert lines[3].startswith("+o+.") and lines[4].startswith("+-+.")  # clipped at the left and the bottom
    assert lines[0].endswith("++")  # a one-cell window still gets an outline
    assert render([win(300, 0, 10, 10)], cols=4, rows=2) == ["....", "...."]  # entirely off: not drawn


def test_long_types_are_cut_to_the_window():
    assert render([win(0, 0, 80, 59, "text_view")], cols=10, rows=3)[0] == "+te+......"


def test_bad_windows_and_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="integer x, y, w and h"):
        render([{"x": 1, "y": 2, "w": "wide", "h": 3}])
    with pytest.raises(ValueError, match="positive size"):
        render([win(0, 0, 0, 5)])
    with pytest.raises(ValueError, match="at least 2x2"):
        render([], cols=1, rows=5)


def test_maps_side_by_side_under_their_titles():
    a, b = render([], cols=6, rows=2), render([win(0, 0, 200, 59, "c")], cols=4, rows=2)
    assert side_by_side([("alice", a), ("bob-the-long", b)], gap=2) == [
        "alice   bob-",
        "......  +c-+",
        "......  +--+",
    ]
    assert side_by_side([]) == []
