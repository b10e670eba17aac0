"""Process fixtures over the real binaries: fakewibwob, mockparty, wibwob-bridge.

Used by the pytest acceptance suite (conftest.py) and by scripts/live_session.py;
other tools' tests can use it too (the fakes double as fixtures).

Every wait has a deadline: wait_until() polls an observable condition and
raises TimeoutError with a description when the deadline passes. Nothing here
sleeps in the hope that something happened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import selectors
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Optional


class HarnessError(RuntimeError):
    pass


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.01):
    """Returns the first truthy value of predicate(), polled until the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def bin_dir() -> Path:
    d = os.environ.get("WIBWOB_BIN_DIR")
    if d:
        return Path(d)
    return Path(__file__).resolve().parent.parent / "build" / "bin"


class Proc:
    """A child process that prints `READY <endpoint>` on stdout when it serves."""

    def __init__(self, argv: list[str], log_path: Path, env: Optional[dict] = None, ready: bool = True,
                 ready_timeout: float = 10.0):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, env=env,
                                  stdin=subprocess.DEVNULL)
        self.endpoint: Optional[str] = None
        if ready:
            self.endpoint = self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> str:
        sel = selectors.DefaultSelector()
        sel.register(self.p.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise HarnessError(f"{self.argv[0]} printed no READY line within {timeout}s; log: {self.log_path}")
            if not sel.select(left):
                continue
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                self.p.wait(timeout=5)
                raise HarnessError(f"{self.argv[0]} exited with {self.p.returncode} before READY; log: {self.log_path}")
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace").strip()
                if text.startswith("READY "):
                    return text[len("READY "):]

    def alive(self) -> bool:
        return self.p.poll() is None

    def signal(self, sig: int):
        if self.alive():
            self.p.send_signal(sig)

    def stop(self, timeout: float = 5.0) -> Optional[int]:
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)
        self.log.close()
        return self.p.returncode


def _read_line(s: socket.socket, buf: bytearray) -> str:
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    if b"\n" in buf:
        i = buf.index(b"\n")
        line = bytes(buf[:i])
        del buf[:i + 1]
    else:
        line = bytes(buf)
        buf.clear()
    return line.decode(errors="replace")


def ipc_request(path: str, line: str, timeout: float = 2.0, secret: Optional[str] = None) -> str:
    """One IPC command, as a client of the app does it: connect, (authenticate,) write, read the reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        buf = bytearray()
        if secret is not None:
            challenge = json.loads(_read_line(s, buf))
            if challenge.get("type") != "challenge":
                raise HarnessError(f"expected an auth challenge, got {challenge}")
            mac = hmac.new(secret.encode(), challenge["nonce"].encode(), hashlib.sha256).hexdigest()
            s.sendall((json.dumps({"type": "auth", "hmac": mac}, separators=(",", ":")) + "\n").encode())
            verdict = json.loads(_read_line(s, buf))
            if verdict.get("type") != "auth_ok":
                raise HarnessError(f"authentication refused: {verdict}")
        s.sendall(line.encode() if line.endswith("\n") else (line + "\n").encode())
        return _read_line(s, buf)


class JsonLineClient:
    """A persistent JSON-lines connection (the fakes' control planes)."""

    def __init__(self, path: str, timeout: float = 5.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def call(self, request: dict) -> dict:
        self.s.sendall((json.dumps(request) + "\n").encode())
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise HarnessError(f"control connection closed during {request.get('op')}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        self.s.close()


INTERNAL_TYPES = {"room_chat", "wibwob", "scramble"}


class FakeWibWob:
    """A running fakewibwob with its control plane."""

    def __init__(self, workdir: Path, name: str, ui_tick_ms: int = 0, secret: Optional[str] = None,
                 extra: Optional[list[str]] = None):
        self.name = name
        self.socket = str(workdir / f"{name}.sock")
        self.control_path = str(workdir / f"{name}.ctl")
        argv = [str(bin_dir() / "fakewibwob"), "--socket", self.socket, "--control", self.control_path,
                "--ui-tick-ms", str(ui_tick_ms), "--remove-socket-on-exit"]
        if secret:
            argv += ["--secret", secret]
        argv += extra or []
        self.proc = Proc(argv, workdir / f"{name}.fakewibwob.log")
        self._ctl = JsonLineClient(self.control_path)

    def control(self, op: str, **kw) -> dict:
        reply = self._ctl.call({"op": op, **kw})
        if not reply.get("ok"):
            raise HarnessError(f"{self.name}: control {op} failed: {reply.get('error')}")
        return reply

    def windows(self) -> list[dict]:
        return self.control("state")["windows"]

    def synced_layout(self) -> Counter:
        """The synced fields of every non-internal window, as a multiset (ids differ per instance)."""
        out = Counter()
        for w in self.windows():
            if w["type"] in INTERNAL_TYPES:
                continue
            out[(w["type"], w["x"], w["y"], w["w"], w["h"], w.get("path"))] += 1
        return out

    def journal(self, since: int = 0) -> list[dict]:
        return self.control("journal", since=since)["entries"]

    def commands(self, name: str) -> list[dict]:
        return [e for e in self.journal() if e["command"] == name]

    def stop(self):
        try:
            self._ctl.close()
        finally:
            self.proc.stop()


class Bridge:
    """A running wibwob-bridge beside one fake app."""

    def __init__(self, workdir: Path, name: str, app: FakeWibWob, server_url: str, room: str,
                 poll_ms: int = 250, extra_env: Optional[dict] = None, extra_args: Optional[list[str]] = None):
        env = dict(os.environ)
        env.update({"WIBWOB_PARTYKIT_URL": server_url, "WIBWOB_PARTYKIT_ROOM": room})
        env.update(extra_env or {})
        argv = [str(bin_dir() / "wibwob-bridge"), "--socket", app.socket, "--poll-ms", str(poll_ms),
                "--status-ms", "1000", "--log-level", "debug"] + (extra_args or [])
        self.log_path = workdir / f"{name}.bridge.log"
        self.proc = Proc(argv, self.log_path, env=env, ready=False)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> Optional[int]:
        return self.proc.stop()


def layouts_equal(apps: list[FakeWibWob]) -> bool:
    first = apps[0].synced_layout()
    return all(a.synced_layout() == first for a in apps[1:])


class MockParty:
    """A running mockparty with its control socket and message log."""

    def __init__(self, workdir: Path, name: str = "party", port: int = 0, state_dir: Optional[Path] = None,
                 extra: Optional[list[str]] = None):
        self.workdir = workdir
        self.name = name
        self.control_path = str(workdir / f"{name}.ctl")
        self.log_path = workdir / f"{name}.messages.jsonl"
        argv = [str(bin_dir() / "mockparty"), "--port", str(port), "--control", self.control_path,
                "--log", str(self.log_path)]
        if state_dir:
            argv += ["--state-dir", str(state_dir)]
        argv += extra or []
        self.proc = Proc(argv, workdir / f"{name}.log")
        self.ws_url = self.proc.endpoint                      # ws://127.0.0.1:PORT
        self.http_url = self.ws_url.replace("ws://", "http://").replace("wss://", "https://")
        self.port = int(self.ws_url.rsplit(":", 1)[1])
        self._ctl = JsonLineClient(self.control_path)

    def control(self, op: str, **kw) -> dict:
        reply = self._ctl.call({"op": op, **kw})
        if not reply.get("ok"):
            raise HarnessError(f"mockparty control {op} failed: {reply.get('error')}")
        return reply

    def room_state(self, room: str) -> dict:
        return self.control("state", room=room)

    def connections(self, room: str) -> list[dict]:
        return self.room_state(room)["connections"]

    def messages(self) -> list[dict]:
        """Every logged message so far (JSON lines: time, room, conn, dir, type, version)."""
        out = []
        if not self.log_path.exists():
            return out
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line being written right now
        return out

    def stop(self):
        try:
            self._ctl.close()
        finally:
            self.proc.stop()


def room_windows(party: MockParty, room: str) -> dict:
    state = party.room_state(room)["state"]
    return (state or {}).get("windows", {})
