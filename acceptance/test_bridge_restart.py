"""A bridge restarted beside a running app neither duplicates nor loses
windows (shared/spec/sync.md, requirement 8), even when the room changed a
window while no bridge watched: the new run resumes the last run's mapping
from its handover file (docs/bridge.md, "Bridge restart")."""

from harness import layouts_equal, room_windows, wait_until

ROOM = "acceptance"


def verse_at(app, x):
    return any(w["type"] == "verse" and w["x"] == x for w in app.windows())


def test_a_bridge_restart_with_a_remote_move_meanwhile_duplicates_nothing(party, make_app, make_bridge, workdir):
    a = make_app("a")
    b = make_app("b")
    make_bridge(a, party.http_url, poll_ms=100)
    first = make_bridge(b, party.http_url, poll_ms=100, name="b-first")
    wait_until(lambda: len(party.connections(ROOM)) >= 2, 10, "both bridges in the room")
    a.control("open", type="verse", x=1, y=1, w=40, h=12)
    wait_until(lambda: layouts_equal([a, b]) and sum(b.synced_layout().values()) == 1, 5, "the verse on both")
    handover = workdir / "b.bridge.handover"
    wait_until(lambda: handover.exists() and '"verse"' in handover.read_text(), 5, "b's bridge wrote its handover")
    assert first.stop() == 0
    # While b has no bridge, a's person drags the verse elsewhere.
    verse = next(w for w in a.windows() if w["type"] == "verse")
    a.control("move", id=verse["id"], x=70, y=20)
    wait_until(lambda: any(w.get("x") == 70 for w in room_windows(party, ROOM).values()), 5, "the move in the room")
    second = make_bridge(b, party.http_url, poll_ms=100, name="b-second")
    wait_until(lambda: verse_at(b, 70), 5, "b's verse moved by the room")
    wait_until(lambda: layouts_equal([a, b]), 5, "both desktops equal")
    assert sum(b.synced_layout().values()) == 1, b.windows()
    assert len(room_windows(party, ROOM)) == 1, room_windows(party, ROOM)
    assert "resumed the previous bridge run's mapping of 1 window(s)" in second.log_text()


def test_a_damaged_handover_file_is_reported_and_the_bridge_still_syncs(party, make_app, make_bridge, workdir):
    a = make_app("a")
    (workdir / "a.bridge.handover").write_text('{"format":1,"app":')
    a.control("open", type="cube", x=2, y=3, w=30, h=10)
    bridge = make_bridge(a, party.http_url, poll_ms=100)
    wait_until(lambda: any(w.get("type") == "cube" for w in room_windows(party, ROOM).values()), 5, "the cube in the room")
    wait_until(lambda: "ignoring the last bridge run's handover" in bridge.log_text(), 5, "the warning")
    assert "not valid JSON" in bridge.log_text()
