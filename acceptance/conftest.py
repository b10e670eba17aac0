"""Fixtures: the real binaries as processes in a per-test temp directory."""

import pytest

from harness import Bridge, FakeWibWob, MockParty


@pytest.fixture
def workdir(tmp_path):
    return tmp_path


@pytest.fixture
def party(workdir):
    p = MockParty(workdir)
    yield p
    p.stop()


@pytest.fixture
def make_app(workdir):
    apps = []

    def make(name="app", **kw):
        a = FakeWibWob(workdir, name, **kw)
        apps.append(a)
        return a

    yield make
    for a in apps:
        a.stop()


@pytest.fixture
def make_bridge(workdir):
    bridges = []

    def make(app, server_url, room="acceptance", name=None, **kw):
        b = Bridge(workdir, name or app.name, app, server_url, room, **kw)
        bridges.append(b)
        return b

    yield make
    for b in bridges:
        b.stop()
