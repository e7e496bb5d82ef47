"""Every event in every state of the call flow."""

import pytest

from kiosk.screen import Screen
from kiosk.callflow import (
    ALONE_TIMER, CONNECT_TIMER, EXIT_CRASHING, HANGUP_TIMER, MESSAGE_TIMER, REBUILD_TIMER, RETRY_TIMER,
    CallEnded, CallFlow, CallStarted, CallTapped, DisposeCall, Exit, HangupCall, HangupTapped, HomeTapped, Incident,
    JoinCall, Log, NetworkChanged, PageEvent, RebuildWeb, RendererCrashed, Show, StartTimer, State, StopTimer,
    TimerFired, Timing, Trouble, WebReady, backoff, ANSWER_TIMER, NotifyFamily, PresenceChanged, Ring,
    EMPTY_TIMER, GOODBYE_TIMER, NOBODY_TIMER, WaitingForFamily,
)


def flow_in(state: State) -> CallFlow:
    """A flow driven into a state the way the real events would."""
    flow = CallFlow(dice=lambda: 0.5)
    flow.handle(WebReady(now=0))
    if state is State.IDLE:
        return flow
    if state is State.RINGING:
        flow.handle(PresenceChanged(1))
        assert flow.state is State.RINGING
        return flow
    if state is State.TROUBLE:
        flow.handle(NetworkChanged(online=False))
        flow.handle(CallTapped())
        flow.handle(NetworkChanged(online=True))
        assert flow.state is State.TROUBLE
        return flow
    flow.handle(CallTapped())
    if state is State.CONNECTING:
        return flow
    if state is State.WAITING:
        flow.handle(TimerFired(CONNECT_TIMER))
        assert flow.state is State.WAITING
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
P2P_FAILED = PageEvent(1, "peerConnectionFailure", {"isP2P": True})
BRIDGE_FAILED = PageEvent(1, "peerConnectionFailure", {"isP2P": False})

ALL_EVENTS = {
    "call": CallTapped(), "hangup": HangupTapped(), "home": HomeTapped(), "joined": JOINED, "left": LEFT,
    "close": CLOSE, "fatal": FATAL, "fatal_flat": FATAL_FLAT, "harmless": HARMLESS, "load_failed": LOAD_FAILED,
    "camera": CAMERA, "p_join": P_JOIN, "p_left": P_LEFT, "unknown": UNKNOWN,
    "p2p_failed": P2P_FAILED, "bridge_failed": BRIDGE_FAILED,
    "t_connect": TimerFired(CONNECT_TIMER), "t_hangup": TimerFired(HANGUP_TIMER), "t_message": TimerFired(MESSAGE_TIMER),
    "t_alone": TimerFired(ALONE_TIMER), "t_rebuild": TimerFired(REBUILD_TIMER), "t_nonsense": TimerFired("nonsense"),
    "t_retry": TimerFired(RETRY_TIMER), "crash": RendererCrashed(now=1000.0), "web_ready": WebReady(now=1000.0),
    "offline": NetworkChanged(online=False), "online": NetworkChanged(online=True),
    "present": PresenceChanged(1), "empty": PresenceChanged(0), "presence_unknown": PresenceChanged(None),
    "present_quiet": PresenceChanged(2, quiet=True), "t_answer": TimerFired(ANSWER_TIMER),
}

# (state, event) -> state afterwards, for every pair; anything not listed keeps the state.
I, C, N, E, W, T = State.IDLE, State.CONNECTING, State.IN_CALL, State.ENDING, State.WAITING, State.TROUBLE
R = State.RINGING
EXPECTED_STATE = {
    (I, "call"): C, (I, "crash"): T, (I, "present"): R,
    (R, "call"): C, (R, "t_answer"): C, (R, "home"): I, (R, "empty"): I, (R, "presence_unknown"): I,
    (R, "present_quiet"): I, (R, "offline"): I, (R, "crash"): T,
    (C, "hangup"): I, (C, "joined"): N, (C, "left"): W, (C, "close"): W, (C, "fatal"): W, (C, "fatal_flat"): W,
    (C, "load_failed"): W, (C, "t_connect"): W, (C, "crash"): T,
    (N, "hangup"): E, (N, "left"): E, (N, "close"): I, (N, "fatal"): W, (N, "fatal_flat"): W, (N, "t_alone"): E,
    (N, "crash"): T, (N, "offline"): W, (N, "bridge_failed"): W,
    (E, "close"): I, (E, "t_hangup"): I, (E, "crash"): T,
    (W, "t_retry"): C, (W, "hangup"): I, (W, "home"): I, (W, "crash"): T,
    (T, "home"): I, (T, "t_message"): I, (T, "crash"): T,
}
NOT_IN_CALL_STATES = (State.IDLE, State.TROUBLE, State.WAITING)


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
    if state in (State.CONNECTING, State.ENDING, State.IN_CALL) and flow.state in NOT_IN_CALL_STATES:
        if not isinstance(event, RendererCrashed):  # the crash took the iframe with it
            assert DisposeCall(1) in effects


def test_happy_path_effects_in_order():
    flow = CallFlow(Timing(connect=30))
    assert without_logs(flow.handle(CallTapped())) == [
        NotifyFamily(), Show(Screen.CONNECTING), JoinCall(1), StartTimer(CONNECT_TIMER, 30)]
    assert without_logs(flow.handle(JOINED)) == [StopTimer(CONNECT_TIMER), Show(Screen.IN_CALL), CallStarted(),
                                                 StartTimer(EMPTY_TIMER, 3.0)]
    assert without_logs(flow.handle(HangupTapped())) == [
        StopTimer(ALONE_TIMER), StopTimer(EMPTY_TIMER), StopTimer(NOBODY_TIMER), HangupCall(1), Show(Screen.ENDING),
        StartTimer(HANGUP_TIMER, 5.0)]
    assert without_logs(flow.handle(CLOSE)) == [StopTimer(HANGUP_TIMER), DisposeCall(1), CallEnded(0),
                                                Show(Screen.HOME)]
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


def test_connect_timeout_waits_and_tries_again():
    flow = flow_in(State.CONNECTING)
    effects = flow.handle(TimerFired(CONNECT_TIMER))
    assert Show(Screen.WAITING, Trouble.CONNECT_FAILED) in effects
    assert StartTimer(RETRY_TIMER, 2.0) in effects
    assert effects_of(flow.handle(TimerFired(RETRY_TIMER)), JoinCall) == [JoinCall(2)]


def test_stale_connect_timer_after_join_is_ignored():
    flow = flow_in(State.IN_CALL)
    assert flow.handle(TimerFired(CONNECT_TIMER)) == []
    assert flow.state is State.IN_CALL


def test_fatal_error_in_call_is_connection_lost():
    flow = flow_in(State.IN_CALL)
    assert Show(Screen.WAITING, Trouble.CONNECTION_LOST) in flow.handle(FATAL_FLAT)


def test_harmless_errors_and_device_errors_are_logged_only():
    for event in (HARMLESS, CAMERA):
        flow = flow_in(State.IN_CALL)
        effects = flow.handle(event)
        assert flow.state is State.IN_CALL
        assert {type(e) for e in effects} <= {Log, Incident} and Log in {type(e) for e in effects}


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


def test_repeated_crashes_rebuild_at_most_once_a_minute():
    flow = CallFlow(Timing(max_crashes=10))
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
    assert not flow.rebuild_pending and flow.handle(TimerFired(REBUILD_TIMER)) == []


# --------------------------------------------------------------------------- self-healing


def test_backoff_doubles_from_two_seconds_to_a_minute_with_jitter():
    timing = Timing()
    assert [backoff(n, timing, lambda: 0.5) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert backoff(1, timing, lambda: 0.0) == 1.6 and backoff(7, timing, lambda: 1.0) == 72.0


def test_failed_joins_retry_on_back_off_then_give_up_and_go_home():
    flow = CallFlow(Timing(connect_attempts=3), dice=lambda: 0.5)
    flow.handle(CallTapped())
    waits = []
    for _ in range(3):
        effects = flow.handle(LOAD_FAILED if flow.call_id == 1 else PageEvent(flow.call_id, "loadFailed", {}))
        assert flow.state is State.WAITING and Show(Screen.WAITING, Trouble.CONNECT_FAILED) in effects
        waits += [e.seconds for e in effects_of(effects, StartTimer) if e.name == RETRY_TIMER]
        flow.handle(TimerFired(RETRY_TIMER))
        assert flow.state is State.CONNECTING
    effects = flow.handle(TimerFired(CONNECT_TIMER))
    assert waits == [2, 4, 8]
    assert flow.state is State.TROUBLE and Show(Screen.TROUBLE, Trouble.GAVE_UP) in effects
    assert Incident("gave_up", "no videoConferenceJoined in time") in effects
    assert effects_of(effects, CallEnded) == []  # never got into the call
    flow.handle(TimerFired(MESSAGE_TIMER))
    assert flow.state is State.IDLE


def test_a_success_after_retries_starts_the_call_and_resets_the_count():
    flow = flow_in(State.WAITING)
    flow.handle(TimerFired(RETRY_TIMER))
    effects = flow.handle(PageEvent(2, "videoConferenceJoined", {}))
    assert CallStarted() in effects and flow.attempt == 0


def test_home_button_while_waiting_stops_trying():
    flow = flow_in(State.WAITING)
    effects = flow.handle(HomeTapped())
    assert StopTimer(RETRY_TIMER) in effects and Show(Screen.HOME) in effects
    assert flow.handle(TimerFired(RETRY_TIMER)) == []


@pytest.mark.parametrize("event", [FATAL, PageEvent(1, "suspendDetected"), BRIDGE_FAILED,
                                   PageEvent(1, "peerConnectionFailure", {}),
                                   PageEvent(1, "peerConnectionFailure", {"isP2P": "true"})])
def test_a_lost_call_is_rejoined_in_the_same_episode(event):
    flow = flow_in(State.IN_CALL)
    flow.handle(P_JOIN)
    effects = flow.handle(event)
    assert flow.state is State.WAITING and Show(Screen.WAITING, Trouble.CONNECTION_LOST) in effects
    assert DisposeCall(1) in effects and effects_of(effects, CallEnded) == []
    assert Incident("connection_lost", str(event.name) + " " + str(event.payload)) in effects
    flow.handle(TimerFired(RETRY_TIMER))
    effects = flow.handle(PageEvent(2, "videoConferenceJoined", {}))
    assert flow.state is State.IN_CALL and effects_of(effects, CallStarted) == []  # still the same call
    flow.handle(HangupTapped())
    assert effects_of(flow.handle(PageEvent(2, "readyToClose")), CallEnded) == [CallEnded(1)]


def test_a_failed_direct_connection_is_logged_and_nothing_more():
    """Jitsi moves a call whose P2P connection failed to the bridge by itself: the resident stays in the call."""
    flow = flow_in(State.IN_CALL)
    flow.handle(P_JOIN)
    effects = flow.handle(P2P_FAILED)
    assert flow.state is State.IN_CALL and without_logs(effects) == []
    (log,) = effects
    assert log.level == "info" and "P2P" in log.message and "bridge" in log.message
    assert flow.others == 1  # the family is still counted: nothing of the call was reset
    # The bridge failing afterwards is a lost call.
    effects = flow.handle(BRIDGE_FAILED)
    assert flow.state is State.WAITING and Incident("connection_lost", "peerConnectionFailure {'isP2P': False}") in effects


def test_conference_left_without_ready_to_close_is_a_lost_connection():
    flow = flow_in(State.IN_CALL)
    flow.handle(LEFT)
    effects = flow.handle(TimerFired(HANGUP_TIMER))
    assert flow.state is State.WAITING and Show(Screen.WAITING, Trouble.CONNECTION_LOST) in effects


def test_rejoins_are_bounded():
    flow = CallFlow(Timing(rejoin_attempts=2), dice=lambda: 0.5)
    flow.handle(CallTapped())
    flow.handle(JOINED)
    flow.handle(FATAL)
    for _ in range(2):
        flow.handle(TimerFired(RETRY_TIMER))
        flow.handle(TimerFired(CONNECT_TIMER))
    assert flow.state is State.TROUBLE
    assert flow.handle(TimerFired(MESSAGE_TIMER))[-1] == Show(Screen.HOME)


def test_offline_device_explains_instead_of_calling():
    flow = CallFlow()
    effects = flow.handle(NetworkChanged(online=False))
    assert Incident("offline", "the network is gone") in effects
    effects = flow.handle(CallTapped())
    assert Show(Screen.TROUBLE, Trouble.OFFLINE) in effects and not effects_of(effects, JoinCall)
    flow.handle(TimerFired(MESSAGE_TIMER))
    flow.handle(NetworkChanged(online=True))
    assert effects_of(flow.handle(CallTapped()), JoinCall)


def test_network_loss_in_a_call_rejoins_and_its_return_does_not_wait():
    flow = flow_in(State.IN_CALL)
    flow.handle(NetworkChanged(online=False))
    assert flow.state is State.WAITING
    effects = flow.handle(NetworkChanged(online=True))
    assert StopTimer(RETRY_TIMER) in effects and JoinCall(2) in effects and flow.state is State.CONNECTING


def test_repeated_network_reports_change_nothing():
    flow = CallFlow()
    assert flow.handle(NetworkChanged(online=True)) == []


def test_three_crashes_within_ten_minutes_exit_for_systemd():
    flow = CallFlow()
    assert not effects_of(flow.handle(RendererCrashed(now=0.0)), Exit)
    assert not effects_of(flow.handle(RendererCrashed(now=100.0)), Exit)
    assert effects_of(flow.handle(RendererCrashed(now=200.0)), Exit) == [Exit(EXIT_CRASHING,
                                                                          "3 renderer crashes within 10 minutes")]


def test_crashes_far_apart_never_exit():
    flow = CallFlow()
    for minute in range(0, 120, 6):
        effects = flow.handle(RendererCrashed(now=minute * 60.0))
        assert not effects_of(effects, Exit)
        flow.handle(WebReady(now=minute * 60.0 + 1))
        flow.handle(HomeTapped())


def test_crash_in_a_call_ends_the_call_record():
    flow = flow_in(State.IN_CALL)
    assert CallEnded(0) in flow.handle(RendererCrashed(now=5.0))


# --------------------------------------------------------------------------- the family rings


def test_ringing_starts_and_stops_with_the_family_in_the_room():
    flow = CallFlow()
    effects = flow.handle(PresenceChanged(1))
    assert Show(Screen.RINGING) in effects and Ring(True) in effects
    assert flow.handle(PresenceChanged(1)) == []  # still there: nothing new
    effects = flow.handle(PresenceChanged(0))
    assert Ring(False) in effects and Show(Screen.HOME) in effects and flow.state is State.IDLE


def test_answering_joins_without_notifying_the_family_again():
    flow = CallFlow()
    flow.handle(PresenceChanged(2))
    effects = flow.handle(CallTapped())
    assert effects[0] == Ring(False) and JoinCall(1) in effects and NotifyFamily() not in effects


def test_auto_answer_after_the_countdown():
    flow = CallFlow(Timing(auto_answer=10.0))
    assert StartTimer(ANSWER_TIMER, 10.0) in flow.handle(PresenceChanged(1))
    effects = flow.handle(TimerFired(ANSWER_TIMER))
    assert JoinCall(1) in effects and flow.state is State.CONNECTING


def test_not_now_silences_this_visit_only():
    flow = CallFlow(Timing(auto_answer=10.0))
    flow.handle(PresenceChanged(1))
    effects = flow.handle(HomeTapped())
    assert StopTimer(ANSWER_TIMER) in effects and Ring(False) in effects
    assert flow.handle(TimerFired(ANSWER_TIMER)) == []  # the countdown is over for good
    assert flow.handle(PresenceChanged(1)) == []  # same visit: no ringing
    flow.handle(PresenceChanged(0))
    assert Ring(True) in flow.handle(PresenceChanged(1))  # a new visit rings


def test_quiet_hours_never_ring_and_never_answer():
    flow = CallFlow(Timing(auto_answer=10.0))
    assert flow.handle(PresenceChanged(1, quiet=True)) == []
    flow.handle(PresenceChanged(1))
    assert Ring(False) in flow.handle(PresenceChanged(1, quiet=True))


@pytest.mark.parametrize("others", [None, 0])
def test_unknown_or_empty_never_rings(others):
    assert CallFlow().handle(PresenceChanged(others)) == []


def test_no_ringing_during_a_call_or_offline():
    flow = flow_in(State.IN_CALL)
    assert flow.handle(PresenceChanged(1)) == []
    flow = CallFlow()
    flow.handle(NetworkChanged(online=False))
    assert flow.handle(PresenceChanged(1)) == []


def test_a_crash_while_ringing_stops_the_sound():
    flow = CallFlow()
    flow.handle(PresenceChanged(1))
    assert Ring(False) in flow.handle(RendererCrashed(now=1.0))


# --------------------------------------------------------------------------- nobody there yet (issue 29)

JOIN_ANNA = PageEvent(1, "participantJoined", {"id": "a1"})
LEAVE_ANNA = PageEvent(1, "participantLeft", {"id": "a1"})


def test_an_empty_room_shows_the_waiting_overlay_after_a_moment_and_it_goes_when_someone_joins():
    flow = flow_in(State.IN_CALL)
    effects = flow.handle(TimerFired(EMPTY_TIMER))
    assert WaitingForFamily(True) in effects and StartTimer(NOBODY_TIMER, 597.0) in effects
    effects = flow.handle(JOIN_ANNA)
    assert WaitingForFamily(False) in effects and StopTimer(NOBODY_TIMER) in effects
    assert flow.state is State.IN_CALL
    assert flow.handle(TimerFired(NOBODY_TIMER)) == []  # a late timer after the family came changes nothing


def test_family_already_in_the_room_never_sees_the_overlay():
    flow = flow_in(State.IN_CALL)
    flow.handle(JOIN_ANNA)  # reported right after the join, within the grace
    assert flow.handle(TimerFired(EMPTY_TIMER)) == []
    assert not flow.waiting_for_family


def test_waiting_alone_long_enough_goes_home_with_the_kind_sentence_and_counts_as_alone():
    flow = CallFlow(Timing(nobody=60, message=8), dice=lambda: 0.5)
    flow.handle(CallTapped())
    flow.handle(JOINED)
    flow.handle(TimerFired(EMPTY_TIMER))
    effects = flow.handle(TimerFired(NOBODY_TIMER))
    assert HangupCall(1) in effects and WaitingForFamily(False) in effects
    assert Show(Screen.TROUBLE, Trouble.NOBODY_CAME) in effects and Show(Screen.ENDING) not in effects
    effects = flow.handle(CLOSE)
    assert CallEnded(0) in effects and Show(Screen.HOME) not in effects  # the sentence stays to be read
    assert flow.state is State.TROUBLE
    assert Show(Screen.HOME) in flow.handle(TimerFired(MESSAGE_TIMER))
    assert flow.state is State.IDLE
    assert effects_of(flow.handle(PresenceChanged(1)), Ring) == [Ring(True)]  # no goodbye: they never came


def test_back_on_the_kind_sentence_before_the_call_closed_goes_home_once():
    flow = CallFlow(Timing(nobody=60), dice=lambda: 0.5)
    flow.handle(CallTapped())
    flow.handle(JOINED)
    flow.handle(TimerFired(EMPTY_TIMER))
    flow.handle(TimerFired(NOBODY_TIMER))
    assert Show(Screen.HOME) in flow.handle(HomeTapped())
    effects = flow.handle(CLOSE)
    assert Show(Screen.HOME) in effects and flow.state is State.IDLE


def test_a_lost_call_takes_the_overlay_away():
    flow = flow_in(State.IN_CALL)
    flow.handle(TimerFired(EMPTY_TIMER))
    effects = flow.handle(PageEvent(1, "suspendDetected"))
    assert WaitingForFamily(False) in effects and StopTimer(NOBODY_TIMER) in effects


# --------------------------------------------------------------------------- ringing respects a goodbye (issue 29)


def _after_call_with_family(others: int = 1) -> CallFlow:
    flow = CallFlow(Timing(goodbye=600), dice=lambda: 0.5)
    flow.handle(CallTapped())
    flow.handle(JOINED)
    for index in range(others):
        flow.handle(PageEvent(1, "participantJoined", {"id": f"p{index}"}))
    flow.handle(HangupTapped())
    effects = flow.handle(CLOSE)
    assert CallEnded(others) in effects and StartTimer(GOODBYE_TIMER, 600) in effects
    return flow


def test_after_a_goodbye_the_family_still_in_the_room_does_not_ring():
    flow = _after_call_with_family()
    assert flow.handle(PresenceChanged(1)) == [] and flow.state is State.IDLE


def test_after_a_goodbye_they_ring_again_when_they_left_and_came_back():
    flow = _after_call_with_family()
    flow.handle(PresenceChanged(1))
    flow.handle(PresenceChanged(0))
    assert Ring(True) in flow.handle(PresenceChanged(1))


def test_after_a_goodbye_someone_new_rings():
    flow = _after_call_with_family()
    assert Ring(True) in flow.handle(PresenceChanged(2))


def test_after_a_goodbye_they_ring_again_after_ten_minutes():
    flow = _after_call_with_family(2)
    assert flow.handle(PresenceChanged(2)) == []
    flow.handle(TimerFired(GOODBYE_TIMER))
    assert Ring(True) in flow.handle(PresenceChanged(2))
