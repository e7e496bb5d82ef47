"""Every event in every state of the call flow."""

import pytest

from kiosk.callflow import (
    ALONE_TIMER, CONNECT_TIMER, HANGUP_TIMER, MESSAGE_TIMER, REBUILD_TIMER,
    CallFlow, CallTapped, DisposeCall, HangupCall, HangupTapped, HomeTapped, JoinCall, Log, PageEvent, RebuildWeb,
    RendererCrashed, Screen, Show, StartTimer, State, StopTimer, TimerFired, Timing, Trouble, WebReady,
)


def flow_in(state: State) -> CallFlow:
    """A flow driven into a state the way the real events would."""
    flow = CallFlow()
    flow.handle(WebReady(now=0))
    if state is State.IDLE:
        return flow
    flow.handle(CallTapped())
    if state is State.CONNECTING:
        return flow
    if state is State.TROUBLE:
        flow.handle(TimerFired(CONNECT_TIMER))
        return flow
    flow.handle(PageEvent(1, "videoConferenceJoined", {"roomName": "r"}))
    if state is State.IN_CALL:
        return flow
    flow.handle(HangupTapped())
    assert flow.state is State.ENDING
    return flow


def effects_of(effects, kind):
    return [e for e in effects if isinstance(e, kind)]


def without_logs(effects):
    return [e for e in effects if not isinstance(e, Log)]


JOINED = PageEvent(1, "videoConferenceJoined", {"roomName": "r"})
LEFT = PageEvent(1, "videoConferenceLeft", {"roomName": "r"})
CLOSE = PageEvent(1, "readyToClose")
FATAL = PageEvent(1, "errorOccurred", {"error": {"name": "conference.connectionError", "isFatal": True}})
FATAL_FLAT = PageEvent(1, "errorOccurred", {"name": "connection.droppedError", "isFatal": True})
HARMLESS = PageEvent(1, "errorOccurred", {"error": {"name": "x", "isFatal": False}})
LOAD_FAILED = PageEvent(1, "loadFailed", {"reason": "external_api.js"})
CAMERA = PageEvent(1, "cameraError", {"type": "gum.not_found", "message": "no camera"})
P_JOIN = PageEvent(1, "participantJoined", {"id": "f1", "displayName": "Anna"})
P_LEFT = PageEvent(1, "participantLeft", {"id": "f1"})
UNKNOWN = PageEvent(1, "somethingNew", {})

ALL_EVENTS = {
    "call": CallTapped(), "hangup": HangupTapped(), "home": HomeTapped(), "joined": JOINED, "left": LEFT,
    "close": CLOSE, "fatal": FATAL, "fatal_flat": FATAL_FLAT, "harmless": HARMLESS, "load_failed": LOAD_FAILED,
    "camera": CAMERA, "p_join": P_JOIN, "p_left": P_LEFT, "unknown": UNKNOWN,
    "t_connect": TimerFired(CONNECT_TIMER), "t_hangup": TimerFired(HANGUP_TIMER), "t_message": TimerFired(MESSAGE_TIMER),
    "t_alone": TimerFired(ALONE_TIMER), "t_rebuild": TimerFired(REBUILD_TIMER), "t_nonsense": TimerFired("nonsense"),
    "crash": RendererCrashed(now=1000.0), "web_ready": WebReady(now=1000.0),
}

# (state, event) -> state afterwards, for every pair; anything not listed keeps the state.
I, C, N, E, T = State.IDLE, State.CONNECTING, State.IN_CALL, State.ENDING, State.TROUBLE
EXPECTED_STATE = {
    (I, "call"): C, (I, "crash"): T,
    (C, "hangup"): I, (C, "joined"): N, (C, "left"): T, (C, "close"): T, (C, "fatal"): T, (C, "fatal_flat"): T,
    (C, "load_failed"): T, (C, "t_connect"): T, (C, "crash"): T,
    (N, "hangup"): E, (N, "left"): E, (N, "close"): I, (N, "fatal"): T, (N, "fatal_flat"): T, (N, "t_alone"): E,
    (N, "crash"): T,
    (E, "close"): I, (E, "t_hangup"): I, (E, "crash"): I,
    (T, "home"): I, (T, "t_message"): I, (T, "crash"): T,
}


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
@pytest.mark.parametrize("label", list(ALL_EVENTS))
def test_every_event_in_every_state(state, label):
    event = ALL_EVENTS[label]
    flow = flow_in(state)
    effects = flow.handle(event)
    assert flow.state is EXPECTED_STATE.get((state, label), state)
    shows = effects_of(effects, Show)
    if flow.state is not state:
        # Every change of state shows exactly one screen, the one that belongs to the new state.
        assert len(shows) == 1
        assert shows[0].screen.value == (flow.state.value if flow.state is not State.IDLE else "home")
    # Leaving a call by any path removes the iframe, so camera and microphone go off.
    if state in (State.CONNECTING, State.ENDING, State.IN_CALL) and flow.state in (State.IDLE, State.TROUBLE):
        if not isinstance(event, RendererCrashed):
            assert DisposeCall(1) in effects


def test_happy_path_effects_in_order():
    flow = CallFlow(Timing(connect=30))
    assert without_logs(flow.handle(CallTapped())) == [
        Show(Screen.CONNECTING), JoinCall(1), StartTimer(CONNECT_TIMER, 30)]
    assert without_logs(flow.handle(JOINED)) == [StopTimer(CONNECT_TIMER), Show(Screen.IN_CALL)]
    assert without_logs(flow.handle(HangupTapped())) == [
        StopTimer(ALONE_TIMER), HangupCall(1), Show(Screen.ENDING), StartTimer(HANGUP_TIMER, 5.0)]
    assert without_logs(flow.handle(CLOSE)) == [StopTimer(HANGUP_TIMER), DisposeCall(1), Show(Screen.HOME)]
    assert flow.state is State.IDLE


def test_family_ends_call_with_ready_to_close_returns_home():
    flow = flow_in(State.IN_CALL)
    effects = flow.handle(CLOSE)
    assert Show(Screen.HOME) in effects and DisposeCall(1) in effects


def test_conference_left_then_ready_to_close_returns_home_once():
    flow = flow_in(State.IN_CALL)
    flow.handle(LEFT)
    assert flow.state is State.ENDING
    assert Show(Screen.HOME) in flow.handle(CLOSE)
    assert flow.handle(CLOSE) == []  # the second readyToClose is late and changes nothing
    assert flow.handle(LEFT) == []


def test_ready_to_close_that_never_comes_is_covered_by_the_timer():
    flow = flow_in(State.ENDING)
    effects = flow.handle(TimerFired(HANGUP_TIMER))
    assert flow.state is State.IDLE and DisposeCall(1) in effects


def test_double_tap_on_call_button_joins_once():
    flow = CallFlow()
    first = flow.handle(CallTapped())
    second = flow.handle(CallTapped())
    assert effects_of(first, JoinCall) == [JoinCall(1)] and second == []


def test_double_tap_on_hangup_hangs_up_once():
    flow = flow_in(State.IN_CALL)
    assert len(effects_of(flow.handle(HangupTapped()), HangupCall)) == 1
    assert flow.handle(HangupTapped()) == []


def test_late_join_of_an_old_call_is_disposed_not_shown():
    flow = flow_in(State.IDLE)
    flow.handle(CallTapped())
    flow.handle(HangupTapped())  # cancelled while connecting
    effects = flow.handle(PageEvent(1, "videoConferenceJoined", {}))
    assert flow.state is State.IDLE
    assert DisposeCall(1) in effects and not effects_of(effects, Show)


def test_events_of_a_previous_call_do_not_touch_the_current_one():
    flow = flow_in(State.IN_CALL)
    flow.handle(CLOSE)
    flow.handle(CallTapped())  # call 2
    assert flow.call_id == 2
    assert flow.handle(PageEvent(1, "readyToClose")) == []
    assert flow.handle(PageEvent(1, "errorOccurred", {"error": {"isFatal": True}})) == []
    assert flow.state is State.CONNECTING
    assert effects_of(flow.handle(PageEvent(1, "videoConferenceJoined")), DisposeCall) == [DisposeCall(1)]
    assert flow.state is State.CONNECTING


def test_connect_timeout_shows_trouble_then_home():
    flow = flow_in(State.CONNECTING)
    effects = flow.handle(TimerFired(CONNECT_TIMER))
    assert Show(Screen.TROUBLE, Trouble.CONNECT_FAILED) in effects
    assert StartTimer(MESSAGE_TIMER, 8.0) in effects
    assert without_logs(flow.handle(TimerFired(MESSAGE_TIMER))) == [StopTimer(MESSAGE_TIMER), Show(Screen.HOME)]


def test_stale_connect_timer_after_join_is_ignored():
    flow = flow_in(State.IN_CALL)
    assert flow.handle(TimerFired(CONNECT_TIMER)) == []
    assert flow.state is State.IN_CALL


def test_fatal_error_in_call_is_connection_lost():
    flow = flow_in(State.IN_CALL)
    assert Show(Screen.TROUBLE, Trouble.CONNECTION_LOST) in flow.handle(FATAL_FLAT)


def test_harmless_errors_and_device_errors_are_logged_only():
    for event in (HARMLESS, CAMERA):
        flow = flow_in(State.IN_CALL)
        effects = flow.handle(event)
        assert flow.state is State.IN_CALL
        assert [type(e) for e in effects] == [Log]


def test_family_leaving_hangs_up_after_a_grace_period_unless_they_return():
    flow = flow_in(State.IN_CALL)
    flow.handle(P_JOIN)
    assert StartTimer(ALONE_TIMER, 20.0) in flow.handle(P_LEFT)
    assert StopTimer(ALONE_TIMER) in flow.handle(P_JOIN)  # came back
    flow.handle(P_LEFT)
    effects = flow.handle(TimerFired(ALONE_TIMER))
    assert HangupCall(1) in effects and flow.state is State.ENDING


def test_two_family_members_one_leaves_keeps_the_call():
    flow = flow_in(State.IN_CALL)
    flow.handle(P_JOIN)
    flow.handle(PageEvent(1, "participantJoined", {"id": "f2"}))
    assert flow.handle(P_LEFT) == []


def test_crash_in_call_shows_calm_message_and_rebuilds():
    flow = flow_in(State.IN_CALL)
    effects = flow.handle(RendererCrashed(now=100.0))
    assert Show(Screen.TROUBLE, Trouble.RENDERER_CRASHED) in effects
    assert RebuildWeb() in effects and StopTimer(ALONE_TIMER) in effects
    assert not flow.web_ready


def test_repeated_crashes_rebuild_at_most_once_a_minute():
    flow = CallFlow()
    assert RebuildWeb() in flow.handle(RendererCrashed(now=100.0))
    flow.handle(TimerFired(MESSAGE_TIMER))
    effects = flow.handle(RendererCrashed(now=110.0))
    assert RebuildWeb() not in effects
    assert StartTimer(REBUILD_TIMER, 50.0) in effects
    assert flow.handle(RendererCrashed(now=120.0)).count(RebuildWeb()) == 0
    assert flow.handle(TimerFired(REBUILD_TIMER)) == [RebuildWeb()]
    # The timer's rebuild counts as the last one: a crash right after it waits again.
    assert RebuildWeb() not in flow.handle(RendererCrashed(now=165.0))
    assert RebuildWeb() in flow.handle(RendererCrashed(now=221.0))


def test_a_tap_while_a_rebuild_waits_rebuilds_at_once():
    flow = CallFlow()
    flow.handle(RendererCrashed(now=100.0))
    flow.handle(RendererCrashed(now=101.0))
    flow.handle(HomeTapped())
    effects = flow.handle(CallTapped())
    assert effects.index(RebuildWeb()) < effects.index(JoinCall(1))
    assert StopTimer(REBUILD_TIMER) in effects
    assert flow.handle(TimerFired(REBUILD_TIMER)) == []


def test_web_ready_clears_a_pending_rebuild():
    flow = CallFlow()
    flow.handle(RendererCrashed(now=100.0))
    flow.handle(RendererCrashed(now=101.0))
    flow.handle(WebReady(now=102.0))
    assert flow.web_ready and flow.handle(TimerFired(REBUILD_TIMER)) == []
