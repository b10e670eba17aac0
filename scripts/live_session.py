#!/usr/bin/env python3
"""The main job: a live local multiplayer session on the real binaries.

Starts a mock room server (mockparty), three fake WibWob-DOS apps
(fakewibwob, with the real app's 20 ms UI tick) and a wibwob-bridge beside
each, then plays a scripted session: people open, drag and close windows with
and without IPC events, the room drops everyone, a bridge restarts while its
app keeps running, an app crashes and comes back, and a burst of random
actions. After each step it waits (with a deadline) until all three desktops
show the same windows, reports how long that took, and draws the three
desktops side by side as small text maps (scripts/desktop_map.py; --no-maps
turns them off). Ends with a summary.

Usage: scripts/live_session.py [--bin DIR] [--keep] [--seed N] [--no-maps]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "acceptance"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from desktop_map import render, side_by_side  # noqa: E402
from harness import Bridge, FakeWibWob, MockParty, layouts_equal, room_windows, wait_until  # noqa: E402

T0 = time.monotonic()


def say(msg: str):
    print(f"[{time.monotonic() - T0:6.2f}s] {msg}", flush=True)


def show_maps(apps: dict):
    """The desktops next to each other, as the apps report them now."""
    desktops = {name: a.windows() for name, a in apps.items()}
    maps = [(f"{name} ({len(ws)} window{'' if len(ws) == 1 else 's'})", render(ws)) for name, ws in desktops.items()]
    for line in side_by_side(maps):
        print(f"    {line}".rstrip(), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="directory with the built binaries (default: build/bin)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory with all logs")
    ap.add_argument("--seed", type=int, default=7, help="seed for the random burst")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds each step may take to converge")
    ap.add_argument("--no-maps", action="store_true", help="do not draw the desktops after each step")
    args = ap.parse_args()
    if args.bin:
        import os
        os.environ["WIBWOB_BIN_DIR"] = str(Path(args.bin).resolve())
    for b in ("fakewibwob", "mockparty", "wibwob-bridge"):
        if not (harness.bin_dir() / b).exists():
            print(f"missing {harness.bin_dir() / b}: build first (scripts/run.sh does)", file=sys.stderr)
            return 2

    work = Path(tempfile.mkdtemp(prefix="wibwob-live-"))
    say(f"work directory (logs): {work}")
    procs = []
    results: list[tuple[str, float]] = []
    ok = True
    try:
        party = MockParty(work)
        procs.append(party)
        url = party.http_url
        say(f"room server (mockparty) ready at {party.ws_url}")

        names = ["alice", "bob", "carol"]
        apps = {n: FakeWibWob(work, n, ui_tick_ms=20) for n in names}
        procs.extend(a for a in apps.values())
        say("3 apps (fakewibwob, 20 ms UI tick like the real app) ready")
        # The bridges create file windows from the room only under an allowed
        # folder (wibwob-bridge --allow-path): the room's shared folder here.
        shared = work / "shared-files"
        shared.mkdir()
        (shared / "notes.txt").write_text("notes\n")
        allow = ["--allow-path", str(shared)]
        bridges = {n: Bridge(work, n, apps[n], url, "live-demo", extra_args=allow) for n in names}
        procs.extend(bridges.values())
        say("3 bridges started (room 'live-demo')")
        if not args.no_maps:
            say("after each step, the three desktops: the app's 200x59 screen at 50x15, each window an outline with "
                "its type; windows opened later are drawn on top (the stacking order is each app's own, not synced)")
        all_apps = list(apps.values())

        def converge(label: str):
            nonlocal ok
            t = time.monotonic()
            def in_sync():
                # Every desktop the same, and each the room's windows exactly (no duplicates).
                if not layouts_equal(all_apps):
                    return False
                return sum(all_apps[0].synced_layout().values()) == len(room_windows(party, "live-demo"))

            try:
                wait_until(in_sync, args.timeout, f"'{label}' to reach every app")
                took = time.monotonic() - t
                n = sum(apps["alice"].synced_layout().values())
                say(f"  in sync on all 3 desktops after {took * 1000:.0f} ms ({n} synced windows each)")
                results.append((label, took))
            except TimeoutError as e:
                ok = False
                say(f"  NOT in sync: {e}")
                for n, a in apps.items():
                    say(f"    {n}: {sorted(a.synced_layout().elements())}")
                results.append((label, float("nan")))

        def step(label: str, action):
            say(f"step: {label}")
            action()
            converge(label)
            if not args.no_maps:
                show_maps(apps)

        step("alice opens a verse window with the mouse (no IPC event: seen by polling)",
             lambda: apps["alice"].control("open", type="verse", x=5, y=3, w=40, h=12, event=False))
        step("bob's assistant opens a cube through IPC (fires an event)",
             lambda: harness.ipc_request(apps["bob"].socket, "cmd:create_window type=cube x=50 y=5 w=30 h=10"))
        step("carol opens a text view of a file in the room's shared folder",
             lambda: apps["carol"].control("open", type="text_view", path=str(shared / "notes.txt"),
                                           x=10, y=20, w=50, h=15))

        def drag():
            verse = next(w for w in apps["carol"].windows() if w["type"] == "verse")
            apps["carol"].control("move", id=verse["id"], x=70, y=30)
        step("carol drags alice's verse window (a window she got from the room)", drag)

        def close_cube():
            cube = next(w for w in apps["alice"].windows() if w["type"] == "cube")
            harness.ipc_request(apps["alice"].socket, f"cmd:close_window id={cube['id']}")
        step("alice closes bob's cube through IPC", close_cube)

        step("a room_chat window opens on bob's desktop (internal: never synced)",
             lambda: apps["bob"].control("open", type="room_chat", x=0, y=0, w=60, h=20))

        def drop_everyone():
            party.control("drop", room="live-demo", code=1012)
            apps["alice"].control("open", type="cube", x=20, y=40, w=24, h=8, event=False)
        step("the room server drops every connection; alice opens a window while the bridges reconnect",
             drop_everyone)

        def restart_bridge():
            bridges["bob"].stop()
            bridges["bob"] = Bridge(work, "bob-2", apps["bob"], url, "live-demo", extra_args=allow)
            procs.append(bridges["bob"])
            apps["bob"].control("open", type="life", x=90, y=2, w=30, h=12, event=False)
        step("bob's bridge restarts while his app keeps running, and he opens a window meanwhile", restart_bridge)

        def app_restart():
            apps["carol"].control("restart", down_ms=300)
        step("carol's app restarts (new process, ids from w1): the room's windows come back", app_restart)

        rng = random.Random(args.seed)

        def burst():
            for _ in range(30):
                a = apps[rng.choice(names)]
                ws = [w for w in a.windows() if w["type"] != "room_chat"]
                r = rng.random()
                if r < 0.3 or not ws:
                    a.control("open", type=rng.choice(["verse", "orbit", "life", "torus"]),
                              x=rng.randrange(150), y=rng.randrange(50), w=20 + rng.randrange(40),
                              h=8 + rng.randrange(15), event=rng.random() < 0.5)
                elif r < 0.75:
                    a.control("move", id=rng.choice(ws)["id"], x=rng.randrange(150), y=rng.randrange(50))
                elif r < 0.9:
                    a.control("resize", id=rng.choice(ws)["id"], w=20 + rng.randrange(40), h=8 + rng.randrange(15))
                else:
                    a.control("close", id=rng.choice(ws)["id"])
        step("a burst of 30 random opens, drags, resizes and closes on all three desktops", burst)

        # Quiet room: no state_delta once changes stop (checked from the bridges' counters).
        say("checking that the room goes quiet once people stop")
        before = [b.log_text().count("local change") for b in bridges.values()]
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            time.sleep(0.05)  # an observation window, not a wait for an event
        after = [b.log_text().count("local change") for b in bridges.values()]
        quiet = before == after
        say("  quiet: no local changes sent in 1 s" if quiet else f"  NOT quiet: {before} -> {after}")
        ok = ok and quiet
    except Exception as e:  # noqa: BLE001 - report any harness failure plainly
        ok = False
        say(f"session failed: {e}")
    finally:
        for p in reversed(procs):
            try:
                p.stop()
            except Exception:  # noqa: BLE001
                pass

    print()
    print("summary of the live session")
    print(f"  {'step':<92} {'converged in':>12}")
    for label, took in results:
        shown = "FAILED" if took != took else f"{took * 1000:.0f} ms"
        print(f"  {label[:92]:<92} {shown:>12}")
    print(f"  result: {'every step converged' if ok else 'FAILED'}; logs in {work}")
    if ok and not args.keep:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
        print("  (logs removed; pass --keep to keep them)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
