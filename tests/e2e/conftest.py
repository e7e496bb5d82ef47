"""Fixtures of the end-to-end tests: the real kiosk window against the loopback Jitsi stand-in. Helpers:
tests/e2e/helpers.py."""

from __future__ import annotations

import pytest

from kiosk.config import config_from_text
from jitsi_standin import StandinServer
from tests.e2e.helpers import close_kiosk, config_text, make_kiosk


@pytest.fixture(scope="session")
def server():
    """One stand-in for the whole run; tests clear what they look at."""
    with StandinServer() as standin:
        yield standin


@pytest.fixture(autouse=True)
def only_overrides_jitsi_applies(request):
    """A test that uses the stand-in fails when the kiosk sent an override a real Jitsi drops (not whitelisted)."""
    standin = request.getfixturevalue("server") if "server" in request.fixturenames else None
    yield
    if standin is not None:
        assert standin.take_dropped_overrides() == [], "overrides a real Jitsi would drop (jitsi_standin/whitelist.py)"


@pytest.fixture
def kiosk(qtbot, server, tmp_path):
    """A kiosk window whose call page is loaded and ready for a tap."""
    server.clear()
    kiosk = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml")
    qtbot.waitUntil(lambda: kiosk.calls.view.is_ready, timeout=20000)
    yield kiosk
    close_kiosk(kiosk)
