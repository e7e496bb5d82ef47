"""Fixtures of the kiosk's Qt tests (controllers, web): one loopback stand-in. Helpers: tests/unit/kiosk/helpers.py."""

from __future__ import annotations

import pytest

from jitsi_standin import StandinServer


@pytest.fixture(scope="session")
def server():
    """One stand-in for these tests; tests clear what they look at."""
    with StandinServer() as standin:
        yield standin
