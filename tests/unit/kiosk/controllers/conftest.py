"""The controller tests see the screens' words in German, the source language."""

from __future__ import annotations

import pytest

from kiosk import texts


@pytest.fixture(autouse=True)
def _german():
    """The screens' words in the source language, whatever an earlier test chose."""
    texts.use("de")
