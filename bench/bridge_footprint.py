#!/usr/bin/env python3
"""The bridge's footprint on the real binaries (issue "Footprint and speed",
deliverable 1): memory, CPU and start-up.

Setup: one mockparty, one fakewibwob with the real app's 20 ms UI tick and
auth on (--secret; the bridge gets WIBWOB_AUTH_SECRET), 5 windows open, and
wibwob-bridge beside it at its defaults (poll 250 ms, log level info). It
measures:
  1. start to room joined: from just before the bridge process is spawned to
     the timestamp of its "joined room" log line (JSON log, millisecond
     resolution), --starts times, each a fresh process and a fresh room;
  2. idle: RSS (VmRSS) sampled every second and CPU (utime + stime from
     /proc/PID/stat) over --idle-seconds, with the 5 windows synced and
     nothing changing;
  3. busy: the same while a peer in the room moves a window --rate times a
     second (each move is a state_delta the bridge applies with IPC);
  4. with --smaps: where the idle RSS is, by mapping (/proc/PID/smaps).

Usage: bench/bridge_footprint.py [--bin build/bin] [--idle-seconds 60]
       [--busy-seconds 60] [--rate 20] [--starts 10] [--smaps]
Talks only to 127.0.0.1 and Unix sockets; Linux only (/proc).
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
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "acceptance"))
import harness  # noqa: E402
from harness import FakeWibWob, MockParty, Proc, bin_dir, wait_until  # noqa: E402

import websocket  # noqa: E402

SECRET = "footprint-bench-secret"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def start_bridge(work: Path, name: str, app: FakeWibWob, party: MockParty, room: str) -> Proc:
    env = dict(os.environ)
    env.update({"WIBWOB_PARTYKIT_URL": party.http_url, "WIBWOB_PARTYKIT_ROOM": room,
                "WIBWOB_AUTH_SECRET": SECRET})
    argv = [str(bin_dir() / "wibwob-bridge"), "--socket", app.socket, "--log-format", "json",
            "--status-socket", str(work / f"{name}.bridge.sock")]
    return Proc(argv, work / f"{name}.bridge.log", env=env, ready=False)


def joined_at(log_path: Path) -> float | None:
    """The wall-clock time of the first "joined room" line, if any yet."""
    try:
        text = log_path.read_text(errors="replace")
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        if '"msg":"joined room' in line:
            ts = json.loads(line)["ts"]
            return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
    return None


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_KB


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def status_fields(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def measure(pid: int, seconds: float) -> tuple[list[int], float]:
    """RSS every second and the CPU time used over `seconds`."""
    samples = []
    cpu0 = cpu_seconds(pid)
    t0 = time.monotonic()
    deadline = t0 + seconds
    nxt = t0
    while True:
        samples.append(rss_kb(pid))
        nxt += 1.0
        if nxt > deadline:
            break
        time.sleep(max(0.0, nxt - time.monotonic()))  # a sampling period, not a wait for an event
    time.sleep(max(0.0, deadline - time.monotonic()))
    return samples, (cpu_seconds(pid) - cpu0) * 60.0 / seconds


def smaps_breakdown(pid: int) -> list[tuple[str, dict[str, int]]]:
    """Rss, Private_Dirty, Private_Clean, Shared_Clean (kB) per mapping name."""
    by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    name = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and ":" not in head[0]:  # a mapping's first line
                name = head[5] if len(head) > 5 else "[anon]"
                name = os.path.basename(name) if name.startswith("/") else name
            elif head[0].rstrip(":") in ("Rss", "Private_Dirty", "Private_Clean", "Shared_Clean", "Shared_Dirty"):
                by[name][head[0].rstrip(":")] += int(head[1])
    return sorted(by.items(), key=lambda kv: -kv[1]["Rss"])


class Peer:
    """A room participant that moves one window `rate` times a second."""

    def __init__(self, party: MockParty, room: str, rate: float):
        self.ws = websocket.create_connection(f"{party.ws_url}/party/{room}?_pk=footprint-peer", timeout=5)
        self.ws.recv()  # state_sync
        self.w = {"id": "peer:w1", "type": "cube", "x": 0, "y": 0, "w": 20, "h": 8}
        self.ws.send(json.dumps({"type": "state_delta", "delta": {"add": [self.w]}}))
        self.rate = rate
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.reader = threading.Thread(target=self._drain)

    def _drain(self):
        # Reads the room's broadcasts so that the server never backs up.
        try:
            while not self.stop.is_set():
                self.ws.recv()
        except Exception:  # the socket closed at the end
            pass

    def _run(self):
        x = 0
        nxt = time.monotonic()
        while not self.stop.is_set():
            x = (x + 7) % 150
            self.ws.send(json.dumps({"type": "state_delta", "delta": {"update": [dict(self.w, x=x)]}}))
            self.sent += 1
            nxt += 1.0 / self.rate
            self.stop.wait(max(0.0, nxt - time.monotonic()))

    def __enter__(self):
        self.thread.start()
        self.reader.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.ws.close()
        self.reader.join()


def describe_rss(samples: list[int]) -> str:
    mb = [s / 1024 for s in samples]
    return (f"first {mb[0]:.2f} MB, median {statistics.median(mb):.2f} MB, max {max(mb):.2f} MB, "
            f"last {mb[-1]:.2f} MB ({len(mb)} samples)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=None)
    ap.add_argument("--idle-seconds", type=float, default=60)
    ap.add_argument("--busy-seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=20, help="room deltas per second in the busy phase")
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--smaps", action="store_true", help="print where the idle RSS is, by mapping")
    a = ap.parse_args()
    if a.bin:
        os.environ["WIBWOB_BIN_DIR"] = str(Path(a.bin).resolve())

    with tempfile.TemporaryDirectory(prefix="wibwob-footprint-") as d:
        work = Path(d)
        party = MockParty(work)
        app = FakeWibWob(work, "app", ui_tick_ms=20, secret=SECRET)
        bridge = None
        try:
            for i in range(5):
                app.control("open", type="verse", x=i * 10, y=i * 3, w=30, h=10)

            starts = []
            for i in range(a.starts):
                room = f"footprint-start-{i}"
                t0 = time.time()
                b = start_bridge(work, f"start{i}", app, party, room)
                try:
                    t1 = wait_until(lambda: joined_at(b.log_path), 10, f"{room}: joined")
                    starts.append((t1 - t0) * 1000)
                    # Joined means pushing the 5 windows can begin; let them land
                    # before the next start so each begins from the same state.
                    wait_until(lambda: len(harness.room_windows(party, room)) == 5, 10, f"{room}: 5 windows")
                finally:
                    b.stop()

            room = "footprint"
            bridge = start_bridge(work, "bridge", app, party, room)
            pid = bridge.p.pid
            wait_until(lambda: len(harness.room_windows(party, room)) == 5, 10, "5 synced windows")
            idle, idle_cpu = measure(pid, a.idle_seconds)
            st = status_fields(pid)
            breakdown = smaps_breakdown(pid) if a.smaps else []

            journal0 = app.control("status").get("journal_next", 0)
            with Peer(party, room, a.rate) as peer:
                wait_until(lambda: any(w["type"] == "cube" for w in app.windows()), 5, "the peer's window")
                busy, busy_cpu = measure(pid, a.busy_seconds)
                sent = peer.sent
            applied = sum(1 for e in app.journal(journal0) if e["command"] == "move_window")
            after = rss_kb(pid)
            alive = bridge.alive()
        finally:
            if bridge:
                bridge.stop()
            app.stop()
            party.stop()

    print("wibwob-bridge footprint: fakewibwob (20 ms UI tick, auth on), 5 synced windows")
    print(f"start to room joined (n={len(starts)}): median {statistics.median(starts):.1f} ms, "
          f"max {max(starts):.1f} ms")
    print(f"idle {a.idle_seconds:.0f} s:  RSS {describe_rss(idle)}; CPU {idle_cpu:.3f} s per minute")
    print(f"  threads {st.get('Threads')}, VmHWM {st.get('VmHWM')}, RssAnon {st.get('RssAnon')}, "
          f"RssFile {st.get('RssFile')}")
    print(f"busy {a.busy_seconds:.0f} s at {a.rate:g} deltas/s ({sent} sent, {applied} move_window applied):")
    print(f"  RSS {describe_rss(busy)}; CPU {busy_cpu:.3f} s per minute")
    print(f"  RSS after the busy phase {after / 1024:.2f} MB; bridge still running: {alive}")
    if breakdown:
        print("idle RSS by mapping (kB): Rss, Private_Dirty, Private_Clean, Shared_Clean")
        for name, v in breakdown:
            if v["Rss"] >= 16:
                print(f"  {name:40s} {v['Rss']:6d} {v['Private_Dirty']:6d} {v['Private_Clean']:6d} "
                      f"{v['Shared_Clean']:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
