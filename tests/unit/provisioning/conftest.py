"""Fixtures of the provisioning tests; the shared device lists and helpers: helpers.py."""

import pytest

from .helpers import VALID


@pytest.fixture
def valid_text() -> str:
    return VALID
