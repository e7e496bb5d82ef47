"""Shared for the controller tests: one loopback stand-in and configs pointing at it."""

from __future__ import annotations

import pytest

from jitsi_standin import StandinServer
from kiosk import texts


@pytest.fixture(scope="session")
def server():
    """One stand-in for the controller tests; tests clear what they look at."""
    with StandinServer() as standin:
        yield standin


@pytest.fixture(autouse=True)
def _german():
    """The screens' words in the source language, whatever an earlier test chose."""
    texts.use("de")
