"""Running a system tool (wpctl, amixer, wlopm, xset) that may be missing, fail or hang: a few seconds at most,
and a failure is a logged line, never an exception."""

from __future__ import annotations

import logging
import subprocess

log = logging.getLogger(__name__)

TIMEOUT_S = 3


def run_tool(command: list[str], what: str) -> str | None:
    """The tool's standard output, or None (logged with `what`, e.g. "volume") when it could not run or failed."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("%s: %s failed: %s", what, command[0], exc)
        return None
    if done.returncode != 0:
        log.warning("%s: %s exited %d: %s", what, " ".join(command), done.returncode, done.stderr.strip()[:200])
        return None
    return done.stdout
