"""The bridge's status socket (docs/bridge.md, "Status") over the real
binaries: one JSON object per connection with stable keys, parsed here as a
script would; `wibwob-bridge --status PATH` shows it for a person."""

import json
import os
import socket
import subprocess

from harness import bin_dir, wait_until

KEYS = {"connected", "synced", "room_version", "windows_synced", "pending_deltas", "offline_deltas",
        "not_created", "held_over_bound", "ipc_errors", "room_errors", "last_error", "uptime_s", "origin",
        "room_url", "stats"}


def status(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2)
        s.connect(path)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def test_status_socket_answers_one_object_with_stable_keys(party, make_app, make_bridge):
    app = make_app("st")
    make_bridge(app, party.http_url, room="status")
    path = app.socket.replace(".sock", ".bridge.sock")
    wait_until(lambda: os.path.exists(path) and status(path)["synced"], 10, "a synced status")
    st = status(path)
    assert KEYS <= set(st), KEYS - set(st)
    assert st["connected"] is True and st["room_version"] == 0 and st["windows_synced"] == 0
    assert st["room_url"].endswith("/party/status")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"

    app.control("open", type="cube", x=1, y=1, w=20, h=8)
    wait_until(lambda: status(path)["windows_synced"] == 1, 5, "the window counted as synced")
    # A dropped connection: the bridge reconnects and reports the drop.
    party.control("drop", room="status")
    wait_until(lambda: status(path)["stats"]["connects"] >= 2 and status(path)["synced"], 10, "a reconnect")
    assert status(path)["last_error"] is not None  # the drop was logged as a warning

    out = subprocess.run([str(bin_dir() / "wibwob-bridge"), "--status", path], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0, out.stderr
    assert "synced: true" in out.stdout and "windows synced:  1" in out.stdout


def test_status_of_a_missing_bridge_is_a_clear_error(workdir):
    out = subprocess.run([str(bin_dir() / "wibwob-bridge"), "--status", str(workdir / "none.bridge.sock")],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert "no bridge answers" in out.stderr


def test_the_status_socket_goes_away_with_the_bridge(party, make_app, make_bridge):
    app = make_app("st2")
    bridge = make_bridge(app, party.http_url, room="status2")
    path = app.socket.replace(".sock", ".bridge.sock")
    wait_until(lambda: os.path.exists(path), 10, "the status socket")
    assert bridge.stop() == 0
    assert not os.path.exists(path)


def serve_once(path, payload: bytes):
    """A Unix socket that answers one connection with `payload`, then closes."""
    import threading
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        with conn:
            if payload:
                conn.sendall(payload)
        srv.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_status_from_something_that_is_not_a_bridge_is_a_clear_error(workdir):
    for i, payload in enumerate([b"garbage\n", b"[1,2,3]\n", b"{\"synced\":", b""]):
        path = str(workdir / f"fake{i}.bridge.sock")
        t = serve_once(path, payload)
        out = subprocess.run([str(bin_dir() / "wibwob-bridge"), "--status", path], capture_output=True, text=True,
                             timeout=10)
        t.join(5)
        assert out.returncode == 1, payload
        assert "did not answer with a status object" in out.stderr, (payload, out.stderr)
