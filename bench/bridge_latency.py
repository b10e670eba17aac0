#!/usr/bin/env python3
"""End-to-end sync latency of wibwob-bridge on the real binaries.

Setup: one mockparty, two fakewibwob apps (20 ms UI tick like the real app,
or --ui-tick-ms), a wibwob-bridge beside each (poll 250 ms). Two kinds of
change on app A, each repeated --n times, alternating positions:

  ipc:    move_window through IPC (the app fires an event)
  person: a move made "with the mouse" through the control plane (no event;
          only a poll can see it)

For each change it measures the time until app B shows the new position
(end to end: A's bridge sees it, sends state_delta, mockparty relays it, B's
bridge applies it through IPC). Observation polls app B's control plane every
1 ms, so each sample carries up to ~1-2 ms of observation overhead.

Usage: bench/bridge_latency.py [--bin build/bin] [--n 50] [--ui-tick-ms 20]
Prints p50/p90/p99/max per kind. Talks only to 127.0.0.1 and Unix sockets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "acceptance"))
import harness  # noqa: E402
from harness import Bridge, FakeWibWob, MockParty, wait_until  # noqa: E402


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=None)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--ui-tick-ms", type=int, default=20)
    ap.add_argument("--poll-ms", type=int, default=250)
    args = ap.parse_args()
    if args.bin:
        os.environ["WIBWOB_BIN_DIR"] = str(Path(args.bin).resolve())

    work = Path(tempfile.mkdtemp(prefix="wibwob-bench-"))
    party = MockParty(work)
    a = FakeWibWob(work, "a", ui_tick_ms=args.ui_tick_ms)
    b = FakeWibWob(work, "b", ui_tick_ms=args.ui_tick_ms)
    bridges = [Bridge(work, "a", a, party.http_url, "bench", poll_ms=args.poll_ms),
               Bridge(work, "b", b, party.http_url, "bench", poll_ms=args.poll_ms)]
    try:
        wid = a.control("open", type="verse", x=0, y=0, w=30, h=10)["id"]
        wait_until(lambda: any(w["type"] == "verse" for w in b.windows()), 10, "the window on b")
        results: dict[str, list[float]] = {"ipc": [], "person": []}
        x = 1
        for i in range(args.n):
            for kind in ("ipc", "person"):
                x = 1 + (x % 150)
                t0 = time.monotonic()
                if kind == "ipc":
                    harness.ipc_request(a.socket, f"cmd:move_window id={wid} x={x} y=2")
                else:
                    a.control("move", id=wid, x=x, y=2)
                wait_until(lambda: any(w["type"] == "verse" and w["x"] == x for w in b.windows()), 10,
                           f"{kind} move {i} on b", interval=0.001)
                results[kind].append((time.monotonic() - t0) * 1000)
        print(f"bridge end-to-end latency, app A change -> app B shows it (n={args.n} each, "
              f"UI tick {args.ui_tick_ms} ms, poll {args.poll_ms} ms)")
        for kind, xs in results.items():
            print(f"  {kind:<7} p50 {percentile(xs, 50):7.1f} ms  p90 {percentile(xs, 90):7.1f} ms  "
                  f"p99 {percentile(xs, 99):7.1f} ms  max {max(xs):7.1f} ms  mean {statistics.mean(xs):7.1f} ms")
        return 0
    finally:
        for br in bridges:
            br.stop()
        a.stop()
        b.stop()
        party.stop()


if __name__ == "__main__":
    sys.exit(main())
