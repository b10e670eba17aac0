"""A script written against the real WibWob-DOS app's IPC runs unchanged
against fakewibwob (issue 8): it authenticates with Python's default
json.dumps (a space after each colon), resets the desktop with close_all,
tiles, and restores a workspace with import_state. Plus the desktop-wide
commands' transport-level behaviour: no events, the modal wait of
open_workspace that a person (the control plane) dismisses, the terminal
size flag. Every wait has a deadline."""

import hashlib
import hmac
import json
import socket
import subprocess
import threading
from urllib.parse import quote

from harness import bin_dir, wait_until

SECRET = "script-secret"


# --- the script, as written for the real app (nothing fake-specific) ----------------

def app_command(path, line, secret=None, timeout=5.0):
    """One command per connection, like the app wants it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        f = s.makefile("rwb", buffering=0)
        if secret:
            challenge = json.loads(f.readline())
            mac = hmac.new(secret.encode(), challenge["nonce"].encode(), hashlib.sha256).hexdigest()
            f.write((json.dumps({"type": "auth", "hmac": mac}) + "\n").encode())  # default separators
            verdict = json.loads(f.readline())
            if verdict.get("type") != "auth_ok":
                raise RuntimeError(f"auth refused: {verdict}")
        f.write((line + "\n").encode())
        return f.readline().decode()


def bounds(w):
    return (w["x"], w["y"], w["w"], w["h"])


def the_script(path, workspace_file):
    """Reset, open three windows, tile, save, reset, restore: returns the replies and states."""
    out = {"reset": app_command(path, "cmd:close_all", SECRET)}
    for _ in range(3):
        json.loads(app_command(path, "cmd:create_window type=test_pattern", SECRET))
    out["tile"] = app_command(path, "cmd:tile", SECRET)
    out["tiled"] = json.loads(app_command(path, "cmd:get_state", SECRET))["windows"]
    encoded = quote(str(workspace_file), safe="")  # the app percent-decodes every value
    out["export"] = app_command(path, f"cmd:export_state path={encoded}", SECRET)
    out["reset2"] = app_command(path, "cmd:close_all", SECRET)
    out["empty"] = json.loads(app_command(path, "cmd:get_state", SECRET))["windows"]
    out["import"] = app_command(path, f"cmd:import_state path={encoded}", SECRET)
    out["restored"] = json.loads(app_command(path, "cmd:get_state", SECRET))["windows"]
    return out


# --- the tests --------------------------------------------------------------------

def test_a_script_for_the_real_app_runs_unchanged(make_app, workdir):
    app = make_app("script", secret=SECRET)
    app.control("open", type="verse")  # something for close_all to reset
    ws = workdir / "ws.json"
    out = the_script(app.socket, ws)

    assert out["reset"] == "ok\n"
    assert out["tile"] == "ok\n"
    # spec: z 2, 1, 0 went to y 0, 19, 38 on the 200x58 desktop of a 200x60 terminal.
    assert [bounds(w) for w in sorted(out["tiled"], key=lambda w: -w["z"])] == [
        (0, 0, 200, 19), (0, 19, 200, 19), (0, 38, 200, 20)]
    assert out["export"] == "ok\n"
    assert out["reset2"] == "ok\n" and out["empty"] == []
    assert out["import"] == "ok\n"
    assert [(w["type"], bounds(w), w["z"]) for w in out["restored"]] == \
        [(w["type"], bounds(w), w["z"]) for w in out["tiled"]]
    ids = [w["id"] for w in out["restored"]]
    assert len(set(ids)) == 3

    saved = json.loads(ws.read_text())
    assert saved["version"] == 1 and saved["screen"] == {"width": 200, "height": 58}
    assert [w["bounds"] for w in saved["windows"]] == [
        {"x": 0, "y": 0, "w": 200, "h": 19}, {"x": 0, "y": 19, "w": 200, "h": 19}, {"x": 0, "y": 38, "w": 200, "h": 20}]
    assert [e["command"] for e in app.journal()][:2] == ["close_all", "create_window"]


def test_desktop_wide_commands_fire_no_events(make_app):
    app = make_app("quiet")
    for _ in range(2):
        app_command(app.socket, "cmd:create_window type=life")
    sub = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sub.settimeout(5)
    sub.connect(app.socket)
    sub.sendall(b"cmd:subscribe_events\n")
    f = sub.makefile("rb")
    assert json.loads(f.readline()) == {"type": "subscribed"}
    for cmd in ("tile", "cascade", "get_canvas_size", "get_window_types", "get_capabilities", "close_all"):
        assert not app_command(app.socket, f"cmd:{cmd}").startswith("err"), cmd
    assert app.control("status")["freed_ids"] == 2  # close_all left both ids for reuse
    # A creation fires; it must be the first event the subscriber sees.
    app_command(app.socket, "cmd:create_window type=verse")
    first = json.loads(f.readline())
    assert (first["seq"], first["event"]) == (3, "state_changed")
    sub.close()


def test_open_workspace_of_a_missing_file_waits_until_a_person_closes_the_box(make_app, workdir):
    app = make_app("modal")
    app.control("open", type="orbit")
    result = {}

    def ask():
        result["reply"] = app_command(app.socket, "cmd:open_workspace path=" + quote(str(workdir / "nope.json"), safe=""), timeout=10)

    t = threading.Thread(target=ask)
    t.start()
    wait_until(lambda: app.control("status")["dialogs"] == 1, 5, "the error box")
    assert "reply" not in result
    assert app_command(app.socket, "cmd:get_canvas_size").startswith('{"width":200')  # others still served
    assert app.control("dismiss_dialog")["reply"] == "err open workspace failed\n"
    t.join(timeout=5)
    assert result["reply"] == "err open workspace failed\n"
    assert [w["type"] for w in app.windows()] == ["orbit"]  # nothing lost


def test_terminal_size_and_registry(make_app):
    app = make_app("wide", extra=["--terminal", "132x43", "--no-id-reuse"])
    assert json.loads(app_command(app.socket, "cmd:get_canvas_size")) == \
        {"width": 132, "height": 42, "cols": 132, "rows": 42}
    app_command(app.socket, "cmd:create_window type=verse")
    assert app_command(app.socket, "cmd:exec_command name=cascade") == "ok\n"
    assert bounds(app.windows()[0]) == (0, 0, 132, 41)
    caps = json.loads(app_command(app.socket, "cmd:get_capabilities"))
    assert "import_state" in [c["name"] for c in caps["commands"]]
    assert app_command(app.socket, "cmd:exec_command name=bogus") == "err unknown command\n"


def test_a_bad_terminal_size_is_a_usage_error(workdir):
    for bad in ("10x2", "200", "x60", "200x60x1", "99999x60", "2OOx60"):
        p = subprocess.run([str(bin_dir() / "fakewibwob"), "--socket", str(workdir / "t.sock"), "--terminal", bad],
                           capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        assert p.returncode == 2, bad
        assert b"--terminal" in p.stderr, bad
