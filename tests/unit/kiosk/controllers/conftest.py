"""The controller tests see the screens' words in German, the source language; family controllers made by a test
are shut down after it."""

from __future__ import annotations

import pytest

from kiosk import texts
from kiosk.controllers.family import FamilyController


@pytest.fixture(autouse=True)
def _german():
    """The screens' words in the source language, whatever an earlier test chose."""
    texts.use("de")


@pytest.fixture
def made():
    """The family controllers a test makes: shut down and deleted after it."""
    controllers: list[FamilyController] = []
    yield controllers
    for controller in controllers:
        controller.shutdown()
        controller.deleteLater()
