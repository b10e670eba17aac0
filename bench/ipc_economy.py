#!/usr/bin/env python3
"""How much of the app's IPC the bridge takes (issue "Footprint and speed",
IPC economy), on the real binaries.

The app serves one IPC connection per 20 ms UI tick for everyone: the
person's tools, the assistant, scripts. This measures, against fakewibwob
with that tick:
  1. the bridge's IPC connections per minute while idle (5 synced windows,
     nothing changes), by command, from the fake app's journal;
  2. the same under a steady room of 5 changes/s (a peer moves a window);
  3. the round trip a third-party client sees for `cmd:get_state`, with and
     without a bridge attached (same load as 2).

Usage: bench/ipc_economy.py [--bin build/bin] [--seconds 20] [--n 200]
Talks only to 127.0.0.1 and Unix sockets.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "acceptance"))
import harness  # noqa: E402
from harness import Bridge, FakeWibWob, MockParty, ipc_request, wait_until  # noqa: E402

import websocket  # noqa: E402

ROOM = "economy"


def commands_between(app: FakeWibWob, since: int) -> Counter:
    return Counter(e["command"] for e in app.journal(since))


def journal_len(app: FakeWibWob) -> int:
    return app.control("status").get("journal_next", len(app.journal()))


def peer_moves(party: MockParty, per_second: float, stop: threading.Event):
    ws = websocket.create_connection(f"{party.ws_url}/party/{ROOM}?_pk=bench-peer", timeout=5)
    ws.recv()
    w = {"id": "peer:w1", "type": "cube", "x": 0, "y": 0, "w": 20, "h": 8}
    ws.send(json.dumps({"type": "state_delta", "delta": {"add": [w]}}))
    x = 0
    while not stop.is_set():
        x = (x + 7) % 150
        ws.send(json.dumps({"type": "state_delta", "delta": {"update": [dict(w, x=x)]}}))
        stop.wait(1.0 / per_second)
    ws.shutdown()


def third_party_rtts(app: FakeWibWob, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        ipc_request(app.socket, "cmd:get_state")
        out.append((time.monotonic() - t0) * 1000)
    return out


def describe(xs: list[float]) -> str:
    xs = sorted(xs)
    return (f"p50 {statistics.median(xs):6.1f} ms  p90 {xs[int(0.9 * (len(xs) - 1))]:6.1f} ms  "
            f"max {xs[-1]:6.1f} ms")


def per_minute(c: Counter, seconds: float) -> str:
    total = sum(c.values())
    parts = ", ".join(f"{k} {v * 60 / seconds:.0f}" for k, v in c.most_common())
    return f"{total * 60 / seconds:.0f}/min ({parts})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parent.parent / "build" / "bin"))
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    os.environ["WIBWOB_BIN_DIR"] = a.bin
    with tempfile.TemporaryDirectory(prefix="wibwob-ipc-economy-") as d:
        work = Path(d)
        party = MockParty(work)
        app = FakeWibWob(work, "a", ui_tick_ms=20)
        alone = FakeWibWob(work, "alone", ui_tick_ms=20)
        for i in range(5):
            app.control("open", type="verse", x=i * 10, y=i * 3, w=30, h=10)
        bridge = Bridge(work, "a", app, party.http_url, ROOM)
        try:
            wait_until(lambda: len(harness.room_windows(party, ROOM)) == 5, 10, "5 synced windows")
            start = journal_len(app)
            time.sleep(a.seconds)  # measuring a rate over a fixed window, not waiting for an event
            idle = commands_between(app, start)
            stop = threading.Event()
            t = threading.Thread(target=peer_moves, args=(party, 5.0, stop))
            t.start()
            wait_until(lambda: any(w["type"] == "cube" for w in app.windows()), 5, "the peer's window")
            start = journal_len(app)
            t0 = time.monotonic()
            with_bridge = third_party_rtts(app, a.n)
            without = third_party_rtts(alone, a.n)
            time.sleep(max(0.0, a.seconds - (time.monotonic() - t0)))  # the rest of the window under load
            busy = commands_between(app, start)
            busy["get_state"] -= a.n  # the third-party client's own requests
            busy_seconds = time.monotonic() - t0
            stop.set()
            t.join()
        finally:
            bridge.stop()
            app.stop()
            alone.stop()
            party.stop()
    print("bridge IPC connections, app with a 20 ms UI tick, 5 synced windows:")
    print(f"  idle:             {per_minute(idle, a.seconds)}")
    print(f"  5 changes/s room: {per_minute(busy, busy_seconds)}")
    print(f"third-party get_state round trip (n={a.n}), room at 5 changes/s:")
    print(f"  with the bridge:    {describe(with_bridge)}")
    print(f"  without a bridge:   {describe(without)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
