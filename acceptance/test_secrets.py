"""The IPC auth secret (docs/security.md): --secret-file is refused unless
only its owner can read it; the secret never reaches the bridge's log or its
command line (what `ps` shows). Over the real binaries."""

import os
import subprocess

from harness import bin_dir, room_windows, wait_until

SECRET = "s3cret-that-must-not-leak-7f3a"


def test_secret_file_must_be_owner_only(party, make_app, workdir):
    app = make_app("sec0", secret=SECRET)
    path = workdir / "secret"
    path.write_text(SECRET + "\n")
    os.chmod(path, 0o644)
    r = subprocess.run([str(bin_dir() / "wibwob-bridge"), "--socket", app.socket, "--url", party.http_url,
                        "--room", "secrets", "--secret-file", str(path)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert "chmod 600" in r.stderr
    assert SECRET not in r.stderr + r.stdout


def test_secret_from_a_file_authenticates_and_never_leaks(party, make_app, make_bridge, workdir):
    app = make_app("sec1", secret=SECRET)
    path = workdir / "secret"
    path.write_text(SECRET + "\n")
    os.chmod(path, 0o600)
    bridge = make_bridge(app, party.http_url, room="secrets", extra_args=["--secret-file", str(path)])
    wait_until(lambda: len(party.connections("secrets")) >= 1, 10, "the bridge in the room")
    app.control("open", type="cube", x=1, y=1, w=20, h=8)
    wait_until(lambda: room_windows(party, "secrets"), 5, "the window in the room: auth worked")
    with open(f"/proc/{bridge.proc.p.pid}/cmdline", "rb") as f:
        assert SECRET.encode() not in f.read()
    assert "authentication refused" not in bridge.log_text()
    assert SECRET not in bridge.log_text()


def test_secret_from_the_environment_never_reaches_the_log(party, make_app, make_bridge):
    app = make_app("sec2", secret=SECRET)
    bridge = make_bridge(app, party.http_url, room="secrets2", extra_env={"WIBWOB_AUTH_SECRET": SECRET})
    wait_until(lambda: len(party.connections("secrets2")) >= 1, 10, "the bridge in the room")
    app.control("open", type="cube", x=1, y=1, w=20, h=8)
    wait_until(lambda: room_windows(party, "secrets2"), 5, "the window in the room: auth worked")
    assert "auth on" in bridge.log_text()  # debug logging is on in the harness
    assert SECRET not in bridge.log_text()
