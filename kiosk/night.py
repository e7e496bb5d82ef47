"""When the screen is dark: pure decisions for the night controller (no Qt, no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.health import in_any_window


def should_darken(now: datetime, windows: tuple[str, ...], at_home: bool, awake_until: datetime | None) -> bool:
    """Dark when it is night, the home screen shows with nothing going on, and no touch woke it a moment ago."""
    return at_home and in_any_window(now, windows) and (awake_until is None or now >= awake_until)


def awake_until(now: datetime, minutes: int) -> datetime:
    """After a touch (or a ring) woke the screen: when it may go dark again."""
    return now + timedelta(minutes=minutes)
