"""TLS lives in the bridge's TLS module (docs/bridge.md, "TLS module"): a
ws:// bridge never maps OpenSSL, a wss:// bridge loads the module and syncs
through a TLS room, and a bridge that cannot find the module says so and
exits 2 instead of failing later."""

import shutil
import subprocess

import pytest

from harness import MockParty, bin_dir, layouts_equal, room_windows, wait_until

ROOM = "acceptance"
OPENSSL = shutil.which("openssl")


def mapped_files(pid: int) -> set[str]:
    out = set()
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            if len(parts) == 6:
                out.add(parts[5].strip())
    return out


def maps_openssl(pid: int) -> bool:
    return any("libssl" in m or "libcrypto" in m for m in mapped_files(pid))


@pytest.fixture
def tls_party(workdir):
    if not OPENSSL:
        pytest.fail("the openssl CLI is needed (Debian package openssl; scripts/setup.sh installs it)")
    cert, key = workdir / "room.pem", workdir / "room.key"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    p = MockParty(workdir, name="tls-party", extra=["--tls-cert", str(cert), "--tls-key", str(key)])
    p.cert = cert
    yield p
    p.stop()


def test_a_ws_bridge_never_maps_openssl(party, make_app, make_bridge):
    a = make_app("a")
    bridge = make_bridge(a, party.ws_url)
    wait_until(lambda: len(party.connections(ROOM)) == 1, 10, "the bridge in the room")
    a.control("open", type="verse", x=1, y=1, w=40, h=12)
    wait_until(lambda: len(room_windows(party, ROOM)) == 1, 5, "the verse in the room")
    pid = bridge.proc.p.pid
    assert not maps_openssl(pid), sorted(m for m in mapped_files(pid) if "lib" in m)
    assert not any("wibwob-bridge-tls" in m for m in mapped_files(pid))


def test_a_wss_bridge_loads_the_module_and_syncs(tls_party, make_app, make_bridge):
    assert tls_party.ws_url.startswith("wss://")
    a, b = make_app("a"), make_app("b")
    ba = make_bridge(a, tls_party.ws_url, extra_args=["--ca-file", str(tls_party.cert)])
    make_bridge(b, tls_party.ws_url, extra_args=["--ca-file", str(tls_party.cert)])
    wait_until(lambda: len(tls_party.connections(ROOM)) == 2, 10, "both bridges in the TLS room")
    a.control("open", type="cube", x=3, y=2, w=30, h=10)
    wait_until(lambda: layouts_equal([a, b]) and sum(b.synced_layout().values()) == 1, 5, "the cube on both")
    maps = mapped_files(ba.proc.p.pid)
    assert any(m.endswith("/wibwob-bridge-tls.so") for m in maps)
    assert maps_openssl(ba.proc.p.pid)


def test_a_wss_bridge_refuses_an_untrusted_room_and_says_why(tls_party, make_app, make_bridge):
    a = make_app("a")
    bridge = make_bridge(a, tls_party.ws_url)  # no --ca-file: the self-signed room is not trusted
    wait_until(lambda: "certificate verify failed" in bridge.log_text(), 10, "the TLS refusal in the log")
    assert "--ca-file" in bridge.log_text()
    assert tls_party.connections(ROOM) == []


def test_a_bridge_without_its_tls_module_says_what_is_missing(workdir, tls_party, make_app):
    # The executable alone, away from ../lib/wibwob-sync/: wss:// cannot work.
    lonely = workdir / "bin" / "wibwob-bridge"
    lonely.parent.mkdir()
    shutil.copy2(bin_dir() / "wibwob-bridge", lonely)
    a = make_app("a")
    r = subprocess.run([str(lonely), "--socket", a.socket, "--url", tls_party.ws_url, "--room", ROOM],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, r.stderr
    assert "TLS module" in r.stderr and "wibwob-bridge-tls.so" in r.stderr, r.stderr
    # ws:// needs no module.
    v = subprocess.run([str(lonely), "--version"], capture_output=True, text=True, timeout=10)
    assert v.returncode == 0 and "wss:// rooms: unavailable" in v.stdout, v.stdout


def test_version_says_whether_wss_works():
    v = subprocess.run([str(bin_dir() / "wibwob-bridge"), "--version"], capture_output=True, text=True, timeout=10)
    assert v.returncode == 0
    assert "wss:// rooms: TLS module loaded (OpenSSL" in v.stdout, v.stdout
