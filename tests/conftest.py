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

import pytest  # noqa: E402


class _RobotClock:
    """A clock that jumps a little over a second at every look: to the debounce, no two robot taps are close."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.1
        return self.now


@pytest.fixture(autouse=True)
def _robot_taps_are_deliberate(request, monkeypatch):
    """Test robots tap far faster than a resident: buttons count each robot tap, as if a second had passed.

    The debounce itself (taps within a second count once, also across screens) is tested with a fake clock in
    tests/unit/kiosk/ui/test_touch.py and with the real clock in tests/e2e/test_tremor.py (marker `real_debounce`).
    """
    if request.node.get_closest_marker("real_debounce") is None:
        from kiosk.ui.touch import TremorButton

        monkeypatch.setattr(TremorButton, "clock", staticmethod(_RobotClock()))
        TremorButton.forget()


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path_factory, monkeypatch):
    """The kiosk's state folder (PIN lockout, screenshots) is the test's own, never the machine user's."""
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path_factory.mktemp("state")))
