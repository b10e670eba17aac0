"""AC-3: the orchestrator spawns a bridge beside every multiplayer room's
instance, and none for a single-player room. Real processes: wibwob-rooms
starts fakewibwob as each room's app and the real wibwob-bridge, which joins
a mockparty room; the single-player app gets no bridge."""

import os
import signal
import subprocess

from harness import bin_dir, ipc_request, room_windows, wait_until

MULTI = """---
room_id: shared
display_name: Shared Space
instance_id: {inst}
ttyd_port: 7682
multiplayer: true
partykit_room: ac3-room
partykit_server: {server}
max_players: 2
---

# Shared Space
"""

SOLO = """---
room_id: solo
instance_id: {inst}
ttyd_port: 7683
---

# Solo
"""


def bridges_running() -> list[tuple[int, int, str]]:
    """(pid, ppid, args) of every running wibwob-bridge, read from /proc; callers keep their own children."""
    rows = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            args = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue  # the process ended meanwhile
        if "wibwob-bridge" not in args.split(" ")[0]:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        rows.append((int(entry), ppid, args))
    return rows


def test_ac3_orchestrator_spawns_a_bridge_only_for_multiplayer_rooms(party, workdir):
    rooms = workdir / "rooms"
    rooms.mkdir()
    base = 4000 + os.getpid() % 1000  # instance ids unique to this run
    (rooms / "shared.md").write_text(MULTI.format(inst=base, server=party.http_url))
    (rooms / "solo.md").write_text(SOLO.format(inst=base + 1))
    sockets = workdir / "sockets"
    sockets.mkdir()
    app_cmd = f"{bin_dir() / 'fakewibwob'} --socket {{socket}} --ui-tick-ms 0 --remove-socket-on-exit"
    log = open(workdir / "wibwob-rooms.log", "wb")
    orch = subprocess.Popen([str(bin_dir() / "wibwob-rooms"), "start", str(rooms), "--socket-dir", str(sockets),
                             "--app-cmd", app_cmd, "--stop-grace-ms", "2000"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        # The multiplayer room's bridge joins the room...
        wait_until(lambda: party.connections("ac3-room"), 15, "the multiplayer room's bridge in the room")
        mine = wait_until(lambda: [r for r in bridges_running() if r[1] == orch.pid], 5, "a bridge child")
        assert len(mine) == 1, mine
        assert f"wibwob_{base}.sock" in mine[0][2]
        # ...and syncs its app: a window opened there reaches the room.
        shared_socket = str(sockets / f"wibwob_{base}.sock")
        secret = open(f"/proc/{mine[0][0]}/environ", "rb").read().split(b"\0")
        env = dict(kv.split(b"=", 1) for kv in secret if b"=" in kv)
        assert env[b"WIBWOB_PARTYKIT_ROOM"] == b"ac3-room"
        assert env[b"WIBWOB_INSTANCE"] == str(base).encode()
        ipc_request(shared_socket, "cmd:create_window type=cube x=1 y=1 w=20 h=8",
                    secret=env[b"WIBWOB_AUTH_SECRET"].decode())
        wait_until(lambda: any(w.get("type") == "cube" for w in room_windows(party, "ac3-room").values()), 5,
                   "the window in the room")
        # The single-player room's app runs (its socket answers) but has no bridge.
        solo_socket = sockets / f"wibwob_{base + 1}.sock"
        wait_until(solo_socket.exists, 10, "the single-player app's socket")
        assert len([r for r in bridges_running() if r[1] == orch.pid]) == 1
    finally:
        orch.send_signal(signal.SIGTERM)
        try:
            rc = orch.wait(timeout=15)
        except subprocess.TimeoutExpired:
            orch.kill()
            rc = orch.wait()
        log.close()
    assert rc == 0, (workdir / "wibwob-rooms.log").read_text(errors="replace")
    assert not [r for r in bridges_running() if r[1] == orch.pid]
