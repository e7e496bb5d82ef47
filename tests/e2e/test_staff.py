"""The hidden staff exit: gesture, PIN pad, lockout (also across a restart), service screen."""

import json

import pytest
from PyQt6.QtCore import QPoint

from kiosk.screen import Screen
from kiosk.config import config_from_text
from tests.e2e.helpers import STAFF_PIN, close_kiosk, config_text, make_kiosk, tap, tap_at


@pytest.fixture(autouse=True)
def _own_state_folder(tmp_path, monkeypatch):
    """The PIN lock's state lives in the kiosk's state folder: each test gets its own, as each device has one."""
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))


def corner_taps(qtbot, window, count=5):
    for _ in range(count):
        tap_at(qtbot, window, QPoint(10, 10))


def enter(qtbot, window, pin: str):
    for digit in pin:
        tap(qtbot, window.window.pin_pad.keys[digit])
    tap(qtbot, window.window.pin_pad.keys["OK"])


def test_five_corner_taps_open_the_pin_pad_and_the_right_pin_opens_service(qtbot, kiosk, server):
    corner_taps(qtbot, kiosk, 4)
    assert kiosk.window.screen is Screen.HOME
    tap_at(qtbot, kiosk, QPoint(10, 10))
    assert kiosk.window.screen is Screen.PIN
    enter(qtbot, kiosk, STAFF_PIN)
    assert kiosk.window.screen is Screen.SERVICE
    values = {key: label.text() for key, label in kiosk.window.service.values.items()}
    assert values["Server"] == server.url and values["Raum"] == kiosk.config.room
    qtbot.waitUntil(lambda: kiosk.window.service.values["Server erreichbar"].text().startswith("ja"), timeout=10000)
    with qtbot.waitSignal(kiosk.quit_requested) as signal:
        tap(qtbot, [b for b in kiosk.window.service.findChildren(type(kiosk.window.home.call_button))
                    if b.text() == "Kiosk beenden"][0])
    assert signal.args == [0]


def test_taps_elsewhere_break_the_gesture(qtbot, kiosk):
    corner_taps(qtbot, kiosk, 3)
    tap_at(qtbot, kiosk, QPoint(640, 20))
    corner_taps(qtbot, kiosk, 2)
    assert kiosk.window.screen is Screen.HOME


def test_five_wrong_pins_lock_the_pad(qtbot, kiosk):
    corner_taps(qtbot, kiosk)
    for _ in range(4):
        enter(qtbot, kiosk, "0000")
        assert kiosk.window.pin_pad.message.text() == "Falsche PIN."
    enter(qtbot, kiosk, "0000")
    assert kiosk.window.pin_pad.message.text().startswith("Zu viele Versuche")
    enter(qtbot, kiosk, STAFF_PIN)
    assert kiosk.window.screen is Screen.PIN  # locked: even the right PIN is refused


def test_cancel_returns_home(qtbot, kiosk):
    corner_taps(qtbot, kiosk)
    tap(qtbot, [b for b in kiosk.window.pin_pad.findChildren(type(kiosk.window.home.call_button)) if b.text() == "Abbrechen"][0])
    assert kiosk.window.screen is Screen.HOME


def test_no_pin_configured_means_no_exit(qtbot, server, tmp_path):
    text = "\n".join(line for line in config_text(server, tmp_path).splitlines() if not line.startswith("admin_pin_hash"))
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    try:
        corner_taps(qtbot, window, 10)
        assert window.window.screen is Screen.HOME
    finally:
        close_kiosk(window)


def test_home_shown_is_announced_after_the_owner_could_connect(qtbot, server, tmp_path):
    # app.py connects home_shown (READY=1 for systemd) after building the window: it must still hear it.
    window = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml")
    try:
        with qtbot.waitSignal(window.home_shown, timeout=5000):
            pass
    finally:
        close_kiosk(window)


def test_the_lockout_survives_a_restart_of_the_kiosk(qtbot, server, tmp_path):
    config = config_from_text(config_text(server, tmp_path))
    first = make_kiosk(qtbot, config, tmp_path / "kiosk.yaml")
    try:
        corner_taps(qtbot, first)
        for _ in range(5):
            enter(qtbot, first, "0000")
        assert first.window.pin_pad.message.text().startswith("Zu viele Versuche")
    finally:
        close_kiosk(first)
    saved = json.loads((tmp_path / "state" / "pin-lock.json").read_text())
    assert saved["lockouts"] == 1 and "admin_pin_hash" not in saved
    second = make_kiosk(qtbot, config, tmp_path / "kiosk.yaml")  # systemd started it again, or the power came back
    try:
        corner_taps(qtbot, second)
        assert second.window.screen is Screen.PIN
        assert second.window.pin_pad.message.text().startswith("Zu viele Versuche")  # locked at once
        enter(qtbot, second, STAFF_PIN)
        assert second.window.screen is Screen.PIN  # even the right PIN is refused until the lock runs out
    finally:
        close_kiosk(second)
