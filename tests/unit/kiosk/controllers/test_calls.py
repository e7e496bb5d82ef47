"""CallController: the flow's effects carried out on the real window and call view, against the stand-in."""

from __future__ import annotations

import time

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent, QPoint, Qt

from kiosk import callflow
from kiosk.callflow import CallFlow, State, Timing, Trouble
from kiosk.config import config_from_text
from kiosk.controllers.calls import CallController
from kiosk.core.style import Metrics
from kiosk.screen import Screen
from kiosk.ui.window import KioskWindow
from kiosk.web.callview import CallView
from tests.unit.kiosk.helpers import standin_config_text as config_text


class Rig:
    """A call controller with its real window and call view, and every signal it emits recorded."""

    def __init__(self, qtbot, server, tmp_path, timing: Timing, rest_after: float = 600.0):
        config = config_from_text(config_text(server, tmp_path))
        self.view = CallView(config)
        self.window = KioskWindow(Metrics(1280, 800), config, self.view)
        self.window.resize(1280, 800)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.calls = CallController(CallFlow(timing), self.view, self.window, rest_after=rest_after)
        self.seen: list[tuple] = []
        for name in ("state_changed", "incident", "call_started", "call_ended", "ring", "family_wanted",
                     "exit_requested"):
            getattr(self.calls, name).connect(lambda *args, name=name: self.seen.append((name, *args)))
        self.window.show_screen(Screen.HOME)

    def named(self, name: str) -> list[tuple]:
        return [entry[1:] for entry in self.seen if entry[0] == name]

    def close(self) -> None:
        self.calls.shutdown()
        self.window.shutdown()
        self.window.close()
        self.window.deleteLater()
        self.calls.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


@pytest.fixture
def rig(qtbot, server, tmp_path):
    server.clear()
    rig = Rig(qtbot, server, tmp_path, Timing(connect=15.0))
    yield rig
    rig.close()


def test_a_tap_shows_connecting_starts_the_connect_timer_and_asks_to_tell_the_family(rig):
    rig.calls.call_tapped()
    assert rig.window.screen is Screen.CONNECTING
    assert rig.calls.timer_running(callflow.CONNECT_TIMER)
    assert rig.named("family_wanted") == [()]
    assert rig.named("state_changed") == [(State.CONNECTING,)]


def test_a_joined_call_stops_the_connect_timer_and_starts_the_call_then_ends_it(qtbot, rig, server):
    qtbot.waitUntil(lambda: rig.view.is_ready, timeout=20000)
    rig.calls.call_tapped()
    qtbot.waitUntil(lambda: rig.window.screen is Screen.IN_CALL, timeout=20000)
    assert not rig.calls.timer_running(callflow.CONNECT_TIMER)
    assert rig.named("call_started") == [()]
    rig.calls.hangup_tapped()
    assert rig.window.screen is Screen.ENDING and rig.calls.timer_running(callflow.HANGUP_TIMER)
    qtbot.waitUntil(lambda: rig.window.screen is Screen.HOME, timeout=15000)
    assert rig.named("call_ended") == [(0,)]  # the stand-in's room had nobody else in it
    assert not rig.calls.timer_running(callflow.HANGUP_TIMER)
    assert rig.named("state_changed")[-1] == (State.IDLE,)


def test_state_changed_follows_every_event_even_one_without_effects(rig):
    rig.calls.feed(callflow.WebReady(time.monotonic()))  # changes nothing the flow shows
    rig.calls.home_tapped()  # at home: nothing to do
    assert rig.named("state_changed") == [(State.IDLE,), (State.IDLE,)]


def test_the_message_button_cancels_while_connecting(qtbot, rig):
    rig.calls.call_tapped()
    qtbot.mouseClick(rig.window.message.button, Qt.MouseButton.LeftButton)
    assert rig.window.screen is Screen.HOME and rig.calls.idle
    assert not rig.calls.timer_running(callflow.CONNECT_TIMER)


def test_the_message_button_goes_back_on_a_trouble_screen(qtbot, rig):
    rig.calls.network_changed(False)
    rig.calls.call_tapped()
    assert rig.window.screen is Screen.TROUBLE and rig.calls.timer_running(callflow.MESSAGE_TIMER)
    qtbot.mouseClick(rig.window.message.button, Qt.MouseButton.LeftButton)  # "cancel" would leave it standing
    assert rig.window.screen is Screen.HOME
    assert not rig.calls.timer_running(callflow.MESSAGE_TIMER)


def test_network_loss_becomes_an_incident(rig):
    rig.calls.network_changed(False)
    assert rig.named("incident") == [(Trouble.OFFLINE.value, "the network is gone")]


def test_a_started_timer_fires_back_into_the_flow(qtbot, server, tmp_path):
    rig = Rig(qtbot, server, tmp_path, Timing(message=0.1))
    try:
        rig.calls.network_changed(False)
        rig.calls.call_tapped()
        assert rig.window.screen is Screen.TROUBLE
        qtbot.waitUntil(lambda: rig.window.screen is Screen.HOME, timeout=5000)  # the message timer's doing
        assert not rig.calls.timer_running(callflow.MESSAGE_TIMER)
    finally:
        rig.close()


def test_presence_rings_and_a_leaving_family_stops_the_ring(rig):
    rig.calls.presence_changed(2, False)
    assert rig.window.screen is Screen.RINGING and rig.named("ring") == [(True,)]
    rig.calls.presence_changed(0, False)
    assert rig.window.screen is Screen.HOME and rig.named("ring") == [(True,), (False,)]


def test_answering_the_ring_from_the_ringing_screen_connects(qtbot, rig):
    rig.calls.presence_changed(1, False)
    qtbot.mouseClick(rig.window.ringing.answer_button, Qt.MouseButton.LeftButton)
    assert rig.window.screen is Screen.CONNECTING and rig.named("ring")[-1] == (False,)


def test_renderer_crashes_beyond_the_limit_ask_to_exit(qtbot, server, tmp_path):
    rig = Rig(qtbot, server, tmp_path, Timing(max_crashes=2))
    try:
        rig.calls.feed(callflow.RendererCrashed(time.monotonic()))
        assert rig.window.screen is Screen.TROUBLE and rig.named("exit_requested") == []
        assert rig.named("incident") == [(Trouble.RENDERER_CRASHED.value, "in state idle")]
        rig.calls.feed(callflow.RendererCrashed(time.monotonic()))
        assert rig.named("exit_requested") == [(callflow.EXIT_CRASHING,)]
    finally:
        rig.close()


def test_shutdown_stops_the_timers_and_lets_go_of_the_call_page(rig):
    rig.calls.call_tapped()
    assert rig.calls.timer_running(callflow.CONNECT_TIMER)
    rig.calls.shutdown()
    assert not rig.calls.timer_running(callflow.CONNECT_TIMER)
    assert rig.view.page is None


@pytest.fixture
def resting_rig(qtbot, server, tmp_path):
    """A rig whose call page rests after 0.3 s at home, handed over once it rests."""
    server.clear()
    rig = Rig(qtbot, server, tmp_path, Timing(connect=15.0), rest_after=0.3)
    qtbot.waitUntil(lambda: rig.view.is_resting, timeout=20000)  # home, nothing happening: renderer freed
    yield rig
    rig.close()


def test_the_call_page_wakes_when_the_family_rings_and_rests_again_at_home(qtbot, resting_rig):
    rig = resting_rig
    rig.calls.presence_changed(1, False)
    assert rig.window.screen is Screen.RINGING and not rig.view.is_resting  # loading ahead of the answer
    qtbot.waitUntil(lambda: rig.view.is_ready, timeout=20000)
    qtbot.wait(600)
    assert not rig.view.is_resting  # no rest while it rings
    rig.calls.presence_changed(0, False)
    assert rig.window.screen is Screen.HOME
    qtbot.waitUntil(lambda: rig.view.is_resting, timeout=5000)  # home again: rests after the delay


def test_a_tap_on_a_resting_page_joins(qtbot, resting_rig):
    resting_rig.calls.call_tapped()
    qtbot.waitUntil(lambda: resting_rig.calls.flow.state is State.IN_CALL, timeout=20000)
    assert resting_rig.window.screen is Screen.IN_CALL


def test_a_finger_on_the_call_button_wakes_the_page_and_sliding_off_lets_it_rest_again(qtbot, resting_rig):
    rig = resting_rig
    button = rig.window.home.call_button
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    assert not rig.view.is_resting  # loading while the finger is still down
    assert rig.calls.flow.state is State.IDLE  # but no call before the finger lifts on the button
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton, pos=button.rect().bottomRight() + QPoint(50, 50))
    assert rig.calls.flow.state is State.IDLE and rig.named("family_wanted") == []
    qtbot.waitUntil(lambda: rig.view.is_resting, timeout=20000)
