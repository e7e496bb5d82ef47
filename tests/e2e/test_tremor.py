"""Tremor in the real window, with the real one-second debounce: a tap that repeats on the next screen counts once."""

import pytest

from .conftest import tap

pytestmark = pytest.mark.real_debounce


def test_a_repeated_tap_landing_on_the_next_screen_counts_once_then_taps_count_again(qtbot, kiosk):
    tap(qtbot, kiosk.home.call_button)
    assert kiosk.screen_name in ("connecting", "in_call")
    # The shaking finger comes down again at once, on whatever the next screen put there: nothing happens.
    repeat = kiosk.message.button if kiosk.screen_name == "connecting" else kiosk.call.hangup_button
    tap(qtbot, repeat)
    assert kiosk.screen_name in ("connecting", "in_call")
    qtbot.waitUntil(lambda: kiosk.screen_name == "in_call", timeout=20000)
    qtbot.wait(1100)
    tap(qtbot, kiosk.call.hangup_button)  # a second later a tap is a decision again
    qtbot.waitUntil(lambda: kiosk.screen_name == "home", timeout=10000)
