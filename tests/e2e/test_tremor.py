"""Tremor in the real window, with the real one-second debounce: a tap that repeats on the next screen counts once."""

import pytest

from kiosk.screen import Screen

from .helpers import tap

pytestmark = pytest.mark.real_debounce


def test_a_repeated_tap_landing_on_the_next_screen_counts_once_then_taps_count_again(qtbot, kiosk):
    tap(qtbot, kiosk.window.home.call_button)
    assert kiosk.window.screen in (Screen.CONNECTING, Screen.IN_CALL)
    # The shaking finger comes down again at once, on whatever the next screen put there: nothing happens.
    repeat = kiosk.window.message.button if kiosk.window.screen is Screen.CONNECTING else kiosk.window.call.hangup_button
    tap(qtbot, repeat)
    assert kiosk.window.screen in (Screen.CONNECTING, Screen.IN_CALL)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    qtbot.wait(1100)
    tap(qtbot, kiosk.window.call.hangup_button)  # a second later a tap is a decision again
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.HOME, timeout=10000)
