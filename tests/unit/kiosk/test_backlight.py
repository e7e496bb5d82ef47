"""The night's backlight: a fake /sys/class/backlight folder, and the compositor where there is none."""

from datetime import datetime

from kiosk.backlight import Backlight
from kiosk.health import in_any_window
from kiosk.night import awake_until, should_darken


def fake_backlight(root, name="intel_backlight", brightness=7500, maximum=19393):
    device = root / name
    device.mkdir(parents=True)
    (device / "brightness").write_text(f"{brightness}\n")
    (device / "max_brightness").write_text(f"{maximum}\n")
    (device / "type").write_text("raw\n")
    return device


def test_off_writes_zero_and_on_restores_the_brightness_before(tmp_path):
    device = fake_backlight(tmp_path)
    light = Backlight(tmp_path, run=lambda c: False, which=lambda t: None, environ={})
    assert light.off() == "backlight"
    assert (device / "brightness").read_text() == "0\n"
    assert light.off() == "backlight"  # twice dark: the brightness before stays remembered
    light.on()
    assert (device / "brightness").read_text() == "7500\n"


def test_on_after_a_restart_while_dark_goes_to_the_maximum(tmp_path):
    device = fake_backlight(tmp_path, brightness=0)
    Backlight(tmp_path, run=lambda c: False, which=lambda t: None, environ={}).on()
    assert (device / "brightness").read_text() == "19393\n"


def test_without_a_backlight_the_compositor_turns_the_display_off_and_on(tmp_path):
    ran = []
    run = lambda command: ran.append(command) or True  # noqa: E731
    light = Backlight(tmp_path / "missing", run=run, which=lambda tool: f"/usr/bin/{tool}",
                      environ={"WAYLAND_DISPLAY": "wayland-0"})
    assert light.off() == "compositor" and ran == [["wlopm", "--off", "*"]]
    light.on()
    assert ran[-1] == ["wlopm", "--on", "*"]
    x11 = Backlight(tmp_path, run=run, which=lambda tool: f"/usr/bin/{tool}", environ={"DISPLAY": ":0"})
    assert x11.off() == "compositor" and ran[-1] == ["xset", "dpms", "force", "off"]


def test_a_backlight_the_kiosk_may_not_write_falls_back_to_the_compositor(tmp_path):
    device = fake_backlight(tmp_path)
    (device / "brightness").chmod(0o444)
    ran = []
    light = Backlight(tmp_path, run=lambda c: ran.append(c) or True, which=lambda t: f"/usr/bin/{t}",
                      environ={"DISPLAY": ":0"})
    import os
    if os.geteuid() == 0:  # root writes read-only files: make the write fail the way sysfs does for 'kiosk'
        (device / "brightness").unlink()
        (device / "brightness").mkdir()
    assert light.off() == "compositor"
    assert light.off() in ("compositor",) and ran


def test_nothing_to_darken_says_none(tmp_path):
    assert Backlight(tmp_path, run=lambda c: False, which=lambda t: None, environ={}).off() == "none"


def test_dark_hours_decisions():
    windows = ("21:30-07:00",)
    night, day = datetime(2026, 12, 6, 23, 0), datetime(2026, 12, 6, 12, 0)
    assert in_any_window(night, windows) and not in_any_window(day, windows)
    assert should_darken(night, windows, True, None)
    assert not should_darken(night, windows, False, None)  # a call, ringing or staff: never dark
    assert not should_darken(day, windows, True, None)
    woken = awake_until(night, 2)
    assert not should_darken(night, windows, True, woken) and should_darken(woken, windows, True, woken)
    assert not should_darken(night, (), True, None)
