"""Night: the configured kiosk goes dark at home during night.dark_hours, with a fake backlight folder; a touch wakes
it to home without starting a call; a ringing family wakes it, quiet hours still silence the ringing."""

from __future__ import annotations

from datetime import datetime

import pytest
from PyQt6.QtCore import Qt

from kiosk.config import config_from_text
from kiosk.screen import Screen
from tests.e2e.helpers import close_kiosk, make_kiosk
from tests.unit.kiosk.helpers import standin_config_text as config_text
from tests.unit.kiosk.test_backlight import fake_backlight

NIGHT = datetime(2026, 12, 6, 23, 0)


@pytest.fixture
def night_kiosk(qtbot, server, tmp_path):
    backlight = tmp_path / "sys-class-backlight"
    device = fake_backlight(backlight)
    text = config_text(server, tmp_path) + f"night: {{dark_hours: ['21:30-07:00'], backlight_dir: '{backlight}'}}\n"
    kiosk = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml", battery=lambda: None)
    clock = {"now": NIGHT}
    kiosk.night.clock = lambda: clock["now"]
    yield kiosk, device / "brightness", clock
    close_kiosk(kiosk)


def test_at_night_the_idle_home_screen_goes_dark_and_a_touch_wakes_it_to_home_only(night_kiosk, qtbot):
    kiosk, brightness, clock = night_kiosk
    kiosk.night.check()
    assert kiosk.window.screen is Screen.NIGHT
    qtbot.waitUntil(lambda: brightness.read_text() == "0\n")
    started = []
    kiosk.calls.call_started.connect(lambda: started.append(True))
    qtbot.mouseClick(kiosk.window.night, Qt.MouseButton.LeftButton, pos=kiosk.window.night.rect().center())
    assert kiosk.window.screen is Screen.HOME and kiosk.calls.idle and not started
    qtbot.waitUntil(lambda: brightness.read_text() == "7500\n")
    kiosk.night.check()
    assert kiosk.window.screen is Screen.HOME  # awake for night.awake_minutes after the touch
    clock["now"] = datetime(2026, 12, 6, 23, 3)
    kiosk.night.check()
    assert kiosk.window.screen is Screen.NIGHT
    clock["now"] = datetime(2026, 12, 7, 7, 0)
    kiosk.night.check()
    assert kiosk.window.screen is Screen.HOME  # morning
    qtbot.waitUntil(lambda: brightness.read_text() == "7500\n")


def test_a_ringing_family_wakes_the_dark_screen(night_kiosk, qtbot):
    kiosk, brightness, clock = night_kiosk
    kiosk.night.check()
    qtbot.waitUntil(lambda: brightness.read_text() == "0\n")
    kiosk.calls.presence_changed(1, False)
    assert kiosk.window.screen is Screen.RINGING
    qtbot.waitUntil(lambda: brightness.read_text() == "7500\n")


def test_quiet_hours_still_silence_the_ringing_and_the_screen_stays_dark(night_kiosk, qtbot):
    kiosk, brightness, clock = night_kiosk
    kiosk.night.check()
    kiosk.calls.presence_changed(1, True)
    assert kiosk.window.screen is Screen.NIGHT and not kiosk.family.ringing_sound_on


def test_no_dark_hours_never_darkens(qtbot, server, tmp_path):
    kiosk = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml",
                       battery=lambda: None)
    try:
        kiosk.night.clock = lambda: NIGHT
        kiosk.night.check()
        assert kiosk.window.screen is Screen.HOME
    finally:
        close_kiosk(kiosk)
