"""Helpers of the end-to-end tests: a kiosk window made and closed, taps, the stand-in's reports. Imported by
name; the fixtures stay in conftest.py."""

from __future__ import annotations

from pathlib import Path

import psutil
from PyQt6.QtCore import QCoreApplication, QEvent, QPoint, Qt

from kiosk.staff import hash_pin
from kiosk.controllers.kiosk import Kiosk
from kiosk.core.style import Metrics
from jitsi_standin import StandinServer
from tests.unit.kiosk.helpers import fresh_room, standin_config_text  # fresh_room: the e2e tests take it from here

__all__ = ["ROOM", "STAFF_PIN", "PIN_HASH", "SIZE", "config_text", "make_kiosk", "close_kiosk", "wait_report", "tap",
           "tap_at", "renderer_processes", "fresh_room"]

ROOM = "palim-7q2m4k9x3c8v5b1n6z0r4t7w2y"
STAFF_PIN = "2468"
PIN_HASH = hash_pin(STAFF_PIN, force=True)  # the demo's short PIN, on purpose
SIZE = (1280, 800)


def config_text(server: StandinServer, state: Path, room: str | None = None, **extra: str) -> str:
    """A kiosk config for the stand-in, with its certificate pinned, the demo's PIN and its files under `state`."""
    return standin_config_text(server, state, room=room, pin_hash=PIN_HASH, **extra)


def make_kiosk(qtbot, config, path: Path, size=SIZE, **options) -> Kiosk:
    """A kiosk whose window is shown at a fixed size."""
    kiosk = Kiosk(Metrics(*size), config, path, **options)
    kiosk.window.resize(*size)
    kiosk.window.show()
    qtbot.waitExposed(kiosk.window)
    return kiosk


def close_kiosk(kiosk: Kiosk) -> None:
    """Shut down the way the app does; pages go before their profile."""
    kiosk.shutdown()
    kiosk.window.close()
    kiosk.window.deleteLater()
    kiosk.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def wait_report(qtbot, server: StandinServer, kind: str, predicate=None, timeout=15000, room=None) -> dict:
    """Wait for a room report without blocking Qt's event loop (QtWebEngine's browser side runs on it)."""
    found: list[dict] = []

    def check() -> bool:
        for report in server.reports:
            if room is not None and report.get("room") != room:
                continue
            if report.get("type") == kind and (predicate is None or predicate(report)):
                found.append(report)
                return True
        return False

    try:
        qtbot.waitUntil(check, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"no {kind!r} report; reports: {server.reports}") from None
    return found[0]


def tap(qtbot, widget) -> None:
    """A tap: press and release inside the widget."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def tap_at(qtbot, kiosk, point: QPoint) -> None:
    """A tap at a position of the kiosk's window, delivered to whatever widget is there."""
    window = kiosk.window
    target = window.childAt(point) or window
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=target.mapFrom(window, point))


def renderer_processes() -> list[psutil.Process]:
    """QtWebEngineProcess children of this test process."""
    return [p for p in psutil.Process().children(recursive=True) if "QtWebEngineProcess" in p.name()
            or any("QtWebEngineProcess" in part for part in p.cmdline()[:1])]
