"""A hostile room peer against the bridge's defaults (docs/security.md), over
the real binaries: two fake apps each with the real bridge on its default
flags, mockparty, and a plain WebSocket client in the room sending what a
hostile member could. The bridge must stay up within its bounds, its memory
must stay bounded, the app must keep answering, and the well-behaved
instances must stay in sync with the room. Each wait has a deadline."""

import json
import os

import websocket

from harness import ipc_request, layouts_equal, room_windows, wait_until

ROOM = "hostile"
WINDOW_BOUND = 128  # the bridge's default --max-room-windows


def hostile_peer(party, pk="hostile"):
    ws = websocket.create_connection(f"{party.ws_url}/party/{ROOM}?_pk={pk}", timeout=10)
    assert json.loads(ws.recv())["type"] == "state_sync"
    return ws


def hang_up(ws):
    """Drops a peer's socket: the room server never answers a close frame
    (partykit-room.md), so a polite close would wait for its timeout."""
    try:
        ws.shutdown()
    except Exception:
        pass


def two_instances(party, make_app, make_bridge):
    a, b = make_app("ha"), make_app("hb")
    ba = make_bridge(a, party.http_url, room=ROOM)
    bb = make_bridge(b, party.http_url, room=ROOM)
    wait_until(lambda: len(party.connections(ROOM)) >= 2, 10, "both bridges in the room")
    return a, b, ba, bb


# Sanitizer builds keep freed memory in quarantine and map shadow memory: their
# resident set says nothing about the product's. The Release suite measures it.
SANITIZED = bool(os.environ.get("WIBWOB_SANITIZED"))
RSS_BOUND_KIB = 64 * 1024


def assert_memory_bounded(proc):
    if not SANITIZED:
        assert rss_kib(proc) < RSS_BOUND_KIB, "bridge memory grew with the flood"


def rss_kib(proc) -> int:
    """Peak resident set (VmHWM) of a process, in KiB."""
    with open(f"/proc/{proc.p.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def app_answers(app):
    reply = ipc_request(app.socket, "cmd:get_state")
    return json.loads(reply)["windows"] is not None


def window(i, **kw):
    w = {"id": f"h:{i}", "type": "verse", "x": i % 150, "y": i % 40, "w": 12, "h": 5}
    w.update(kw)
    return w


def test_a_room_peer_cannot_open_local_files(party, make_app, make_bridge, workdir):
    a, b, ba, bb = two_instances(party, make_app, make_bridge)
    private = workdir / "private.txt"
    private.write_text("only mine")
    os.chmod(private, 0o600)
    ws = hostile_peer(party)
    try:
        paths = ["/etc/passwd", "/etc/shadow", str(private)]
        ws.send(json.dumps({"type": "state_delta", "delta": {
            "add": [window(i, type="text_view", path=p) for i, p in enumerate(paths)]}}))
        wait_until(lambda: len(room_windows(party, ROOM)) == 3, 5, "the three windows in the room")
        wait_until(lambda: "is not shown here" in ba.log_text() and "is not shown here" in bb.log_text(), 5,
                   "both bridges to refuse them")
        for app in (a, b):
            assert not [w for w in app.windows() if w["type"] == "text_view"], "a local file was opened"
            assert not app.commands("create_window")
        assert "--allow-path" in ba.log_text()
        # They stay in the room for everyone else.
        assert len(room_windows(party, ROOM)) == 3
    finally:
        hang_up(ws)


def test_a_window_flood_is_bounded_and_the_instances_stay_in_sync(party, make_app, make_bridge):
    a, b, ba, bb = two_instances(party, make_app, make_bridge)
    ws = hostile_peer(party)
    try:
        for batch in range(12):  # 1,200 small windows, the room state stays under 128 KiB
            ws.send(json.dumps({"type": "state_delta", "delta": {
                "add": [window(batch * 100 + i) for i in range(100)]}}))
        wait_until(lambda: len(room_windows(party, ROOM)) == 1200, 10, "1,200 windows in the room")
        for app in (a, b):
            wait_until(lambda: len(app.windows()) >= WINDOW_BOUND, 30, f"{app.name} to show the bound")
        wait_until(lambda: "held back" in ba.log_text(), 10, "the bridge to report the bound")
        for bridge in (ba, bb):
            assert bridge.proc.alive()
            assert_memory_bounded(bridge.proc)
        assert len(a.windows()) == WINDOW_BOUND and len(b.windows()) == WINDOW_BOUND
        assert app_answers(a) and app_answers(b)

        # The flood recedes; a person's window on one instance reaches the other.
        ws.send(json.dumps({"type": "state_delta", "delta": {"remove": [f"h:{i}" for i in range(1200)]}}))
        wait_until(lambda: not a.windows() and not b.windows(), 30, "the flood's windows closed")
        a.control("open", type="cube", x=5, y=5, w=30, h=10)
        wait_until(lambda: layouts_equal([a, b]) and len(b.windows()) == 1, 10, "the cube on both desktops")
    finally:
        hang_up(ws)


def test_hostile_frames_leave_the_bridges_up_and_in_sync(party, make_app, make_bridge):
    a, b, ba, bb = two_instances(party, make_app, make_bridge)
    ws = hostile_peer(party)
    spam = [hostile_peer(party, pk=f"spam{i}") for i in range(20)]  # presence churn
    try:
        deep = "[" * 5000 + "]" * 5000
        frames = [
            "not json", deep, json.dumps({"type": "state_delta", "delta": deep}),
            # a huge id (the room state must stay under the server's 128 KiB,
            # past which the real server stops broadcasting for everyone)
            json.dumps({"type": "state_delta", "delta": {"add": [window(1, id="x" * 20_000)]}}),
            json.dumps({"type": "state_delta", "delta": {"remove": ["x" * 20_000]}}),
            json.dumps({"type": "state_delta", "version": 10**18, "delta": {"update": [window(2)]}}),
            json.dumps({"type": "state_delta", "delta": {"remove": [f"nope{i}" for i in range(5000)]}}),
            json.dumps({"type": "state_delta", "delta": {"add": [5, "x", {"id": 7}, {"id": "h:9", "x": "NaN"}]}}),
            json.dumps({"type": "chat_msg", "sender": "s" * 5000, "text": "t" * 100_000}),
            json.dumps({"type": "rename", "name": "n" * 10_000}),
            json.dumps({"type": "presence", "event": "sync", "connections": [f"c{i}" for i in range(10_000)]}),
        ]
        for f in frames:
            ws.send(f)
        ws.send_binary(b"\xff\xfe\x00binary")
        for i in range(500):
            ws.send(json.dumps({"type": "chat_msg", "sender": "spam", "text": f"line {i}"}))
        for s in spam:
            hang_up(s)
        # A frame over the server's 1 MiB limit: the server closes this peer (1009).
        try:
            ws.send(json.dumps({"type": "chat_msg", "text": "j" * (1 << 20)}))
        except Exception:
            pass
        # Invalid UTF-8 in a text frame from a second hostile connection.
        bad = hostile_peer(party, pk="utf8")
        try:
            bad.send(b"\xc3\x28 invalid", opcode=websocket.ABNF.OPCODE_TEXT)
        except Exception:
            pass
        a.control("open", type="orbit", x=9, y=3, w=30, h=10)
        wait_until(lambda: any(w["type"] == "orbit" for w in b.windows()), 15, "a normal change to reach b")
        for bridge in (ba, bb):
            assert bridge.proc.alive()
            assert_memory_bounded(bridge.proc)
        assert app_answers(a) and app_answers(b)
        # Both desktops show the same synced windows.
        wait_until(lambda: layouts_equal([a, b]), 10, "a and b to agree")
    finally:
        for s in [ws, *spam]:
            hang_up(s)
