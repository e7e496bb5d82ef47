"""The kiosk adds its Chromium switches to what operators and tests pass, never replacing them."""

from kiosk.chromium import KIOSK_SWITCHES, add_chromium_switches


def test_switches_are_added_to_existing_ones():
    env = {"QTWEBENGINE_CHROMIUM_FLAGS": "--use-fake-device-for-media-stream --disable-pinch"}
    add_chromium_switches(env)
    flags = env["QTWEBENGINE_CHROMIUM_FLAGS"].split()
    assert flags[0] == "--use-fake-device-for-media-stream"
    assert flags.count("--disable-pinch") == 1
    assert set(KIOSK_SWITCHES) <= set(flags)


def test_an_operator_value_wins_over_the_kiosk_default():
    env = {"QTWEBENGINE_CHROMIUM_FLAGS": "--autoplay-policy=user-gesture-required"}
    add_chromium_switches(env)
    assert "--autoplay-policy=no-user-gesture-required" not in env["QTWEBENGINE_CHROMIUM_FLAGS"]


def test_no_variable_yet():
    env = {}
    add_chromium_switches(env)
    assert env["QTWEBENGINE_CHROMIUM_FLAGS"].split() == list(KIOSK_SWITCHES)
