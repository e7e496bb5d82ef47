"""Test-wide setup: Chromium's environment must be right before Qt starts."""

import os

# QtWebEngine reads these when the first page is created; pytest-qt creates the QApplication later.
if os.geteuid() == 0:
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")  # Chromium refuses to start as root otherwise
_flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
if "--use-fake-device-for-media-stream" not in _flags:
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (_flags + " --use-fake-device-for-media-stream").strip()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")

from kiosk.chromium import add_chromium_switches  # noqa: E402

add_chromium_switches(os.environ)  # tests run with the switches the real kiosk adds

from kiosk.web import scheme  # noqa: E402  (the palim: scheme must be registered before the QApplication)

scheme.register()

import PyQt6.QtWebEngineWidgets  # noqa: E402,F401  (must be imported before pytest-qt creates the QApplication)
