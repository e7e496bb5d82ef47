"""What a test does when this machine cannot run it: skip with the reason, or, under CI=true, fail.

CI must prove what it claims, so there a test that cannot run (a tool, a permission, a display is missing) is a
failure, never a quiet skip. On a developer's machine a skip that says what is missing and how to get it is fine.
Every test that depends on its host goes through `need` or `need_tool`, never through pytest.skip directly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

SETUP = "./scripts/setup installs it"
CI_NOTE = "CI=true: a test that cannot run is a failure"


def in_ci() -> bool:
    """True when the CI environment variable says so (CI=true, as CI systems set it; also 1 or yes)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def cannot_run(reason: str) -> NoReturn:
    """Stop this test: a failure under CI=true, a skip with `reason` elsewhere."""
    __tracebackhide__ = True  # reports point at the test's line, not at this helper
    if in_ci():
        pytest.fail(f"{reason} ({CI_NOTE})", pytrace=False)
    pytest.skip(reason)


def need(condition: object, reason: str) -> None:
    """Go on when `condition` holds; else stop the test (see cannot_run). `reason` says what is missing and how to
    get it."""
    __tracebackhide__ = True
    if not condition:
        cannot_run(reason)


def need_tool(name: str, *, apt: str | None = None, pip: str | None = None, also_in: Path | None = None) -> str:
    """The path of the command `name`, looked up in `also_in` (e.g. the venv's bin) and then on PATH; when it is
    missing the test stops, saying which Debian package (`apt`) or Python package (`pip`) brings it."""
    __tracebackhide__ = True
    search = os.environ.get("PATH", os.defpath)
    if also_in is not None:
        search = f"{also_in}{os.pathsep}{search}"
    path = shutil.which(name, path=search)
    if path is None:
        if apt:
            how = f"install the Debian package {apt}; {SETUP}"
        elif pip:
            how = f"pip install {pip} into .venv; {SETUP}"
        else:
            how = SETUP
        cannot_run(f"{name} is not installed ({how})")
    return path
