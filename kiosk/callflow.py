"""The call state machine: events in, effects out; no Qt, no I/O, no clock of its own."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class State(enum.Enum):
    """Where the resident is."""

    IDLE = "idle"  # home screen
    CONNECTING = "connecting"  # "Verbinde …"
    IN_CALL = "in_call"  # video and the Auflegen button
    ENDING = "ending"  # hang-up sent, waiting for Jitsi's readyToClose
    TROUBLE = "trouble"  # a calm message, then home by itself


class Screen(enum.Enum):
    """What the window shows; the UI owns the pixels and the words."""

    HOME = "home"
    CONNECTING = "connecting"
    IN_CALL = "in_call"
    ENDING = "ending"
    TROUBLE = "trouble"


class Trouble(enum.Enum):
    """Why a call did not work, as a message key the UI translates."""

    CONNECT_FAILED = "connect_failed"
    CONNECTION_LOST = "connection_lost"
    RENDERER_CRASHED = "renderer_crashed"


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class CallTapped:
    """The resident tapped "Familie anrufen"."""


@dataclass(frozen=True)
class HangupTapped:
    """The resident tapped "Auflegen" (or "Abbrechen" while connecting)."""


@dataclass(frozen=True)
class HomeTapped:
    """The resident tapped "Zurück" on a message screen."""


@dataclass(frozen=True)
class PageEvent:
    """An IFrame API event from the call page, tagged with the call it belongs to."""

    call_id: int
    name: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TimerFired:
    """A timer the flow asked for ran out."""

    name: str


@dataclass(frozen=True)
class RendererCrashed:
    """Chromium's renderer process died; `now` is a monotonic time in seconds."""

    now: float


@dataclass(frozen=True)
class WebReady:
    """The call page is loaded and its bridge is connected; `now` as for RendererCrashed."""

    now: float


Event = CallTapped | HangupTapped | HomeTapped | PageEvent | TimerFired | RendererCrashed | WebReady


# --------------------------------------------------------------------------- effects


@dataclass(frozen=True)
class Show:
    """Switch the window to a screen."""

    screen: Screen
    trouble: Trouble | None = None


@dataclass(frozen=True)
class JoinCall:
    """Create the Jitsi API for this call in the call page (queued until the page is ready)."""

    call_id: int


@dataclass(frozen=True)
class HangupCall:
    """Send executeCommand('hangup', false) to the call."""

    call_id: int


@dataclass(frozen=True)
class DisposeCall:
    """Remove the Jitsi iframe of this call; camera and microphone go off."""

    call_id: int


@dataclass(frozen=True)
class StartTimer:
    """Start (or restart) a named single-shot timer."""

    name: str
    seconds: float


@dataclass(frozen=True)
class StopTimer:
    """Cancel a named timer if it runs."""

    name: str


@dataclass(frozen=True)
class RebuildWeb:
    """Throw away the crashed page and load the call page afresh."""


@dataclass(frozen=True)
class Log:
    """A line for the staff log (journal)."""

    level: str
    message: str


Effect = Show | JoinCall | HangupCall | DisposeCall | StartTimer | StopTimer | RebuildWeb | Log

# Timer names the Qt layer runs for the flow.
CONNECT_TIMER = "connect"
HANGUP_TIMER = "hangup"
MESSAGE_TIMER = "message"
ALONE_TIMER = "alone"
REBUILD_TIMER = "rebuild"


@dataclass(frozen=True)
class Timing:
    """How long the flow waits for things, in seconds."""

    connect: float = 45.0  # tap -> videoConferenceJoined
    hangup: float = 5.0  # hangup -> readyToClose, then dispose anyway
    message: float = 8.0  # a trouble message stays this long, then home
    alone: float = 20.0  # the family left: wait this long in case they come back, then hang up
    rebuild_spacing: float = 60.0  # rebuild the page after a crash at most once a minute


def _is_fatal(payload: dict) -> bool:
    # API.js nests the error under "error"; the handbook shows it flat: accept both.
    error = payload.get("error", payload)
    return isinstance(error, dict) and bool(error.get("isFatal"))


class CallFlow:
    """Decides what happens next for every event in every state."""

    def __init__(self, timing: Timing | None = None):
        self.timing = timing or Timing()
        self.state = State.IDLE
        self.call_id = 0
        self.others = 0  # participants in the call besides the kiosk
        self.web_ready = False
        self.last_rebuild: float | None = None
        self.rebuild_pending = False

    def handle(self, event: Event) -> list[Effect]:
        """Apply one event; return the effects to carry out, in order."""
        if isinstance(event, RendererCrashed):
            return self._crashed(event.now)
        if isinstance(event, WebReady):
            self.web_ready = True
            self.rebuild_pending = False
            return []
        if isinstance(event, TimerFired) and event.name == REBUILD_TIMER:
            if not self.rebuild_pending:
                return []
            if self.last_rebuild is not None:
                self.last_rebuild += self.timing.rebuild_spacing  # the moment the timer was set for
            return self._rebuild_now(None)
        if isinstance(event, PageEvent) and event.call_id != self.call_id:
            return self._stale(event)
        handler = getattr(self, f"_on_{self.state.value}")
        return handler(event)

    # ------------------------------------------------------------------ per state

    def _on_idle(self, event: Event) -> list[Effect]:
        if isinstance(event, CallTapped):
            self.call_id += 1
            self.others = 0
            self.state = State.CONNECTING
            effects: list[Effect] = [Show(Screen.CONNECTING)]
            if self.rebuild_pending:
                # A tap is a person asking, not a crash loop: rebuild now instead of waiting.
                effects += [StopTimer(REBUILD_TIMER), *self._rebuild_now(None)]
            return effects + [JoinCall(self.call_id), StartTimer(CONNECT_TIMER, self.timing.connect),
                              Log("info", f"call {self.call_id}: joining")]
        return self._late(event)

    def _on_connecting(self, event: Event) -> list[Effect]:
        if isinstance(event, PageEvent):
            if event.name == "videoConferenceJoined":
                self.state = State.IN_CALL
                return [StopTimer(CONNECT_TIMER), Show(Screen.IN_CALL), Log("info", f"call {self.call_id}: joined")]
            if event.name == "participantJoined":
                self.others += 1
                return []
            if event.name == "participantLeft":
                self.others = max(0, self.others - 1)
                return []
            if event.name in ("loadFailed", "videoConferenceLeft", "readyToClose") or (
                    event.name == "errorOccurred" and _is_fatal(event.payload)):
                return self._trouble(Trouble.CONNECT_FAILED, f"{event.name} {event.payload}", [StopTimer(CONNECT_TIMER)])
            return self._note(event)
        if isinstance(event, TimerFired) and event.name == CONNECT_TIMER:
            return self._trouble(Trouble.CONNECT_FAILED, "no videoConferenceJoined in time", [])
        if isinstance(event, HangupTapped):
            self.state = State.IDLE
            return [StopTimer(CONNECT_TIMER), DisposeCall(self.call_id), Show(Screen.HOME),
                    Log("info", f"call {self.call_id}: cancelled while connecting")]
        return []

    def _on_in_call(self, event: Event) -> list[Effect]:
        if isinstance(event, HangupTapped):
            return self._end("the resident hung up")
        if isinstance(event, PageEvent):
            if event.name == "readyToClose":
                self.state = State.IDLE
                return [StopTimer(ALONE_TIMER), DisposeCall(self.call_id), Show(Screen.HOME),
                        Log("info", f"call {self.call_id}: ended by Jitsi")]
            if event.name == "videoConferenceLeft":
                # Jitsi left the conference by itself; readyToClose normally follows, the timer covers it.
                self.state = State.ENDING
                return [StopTimer(ALONE_TIMER), Show(Screen.ENDING), StartTimer(HANGUP_TIMER, self.timing.hangup),
                        Log("info", f"call {self.call_id}: conference left")]
            if event.name == "errorOccurred" and _is_fatal(event.payload):
                return self._trouble(Trouble.CONNECTION_LOST, f"fatal error {event.payload}", [StopTimer(ALONE_TIMER)])
            if event.name == "participantJoined":
                self.others += 1
                return [StopTimer(ALONE_TIMER)]
            if event.name == "participantLeft":
                self.others = max(0, self.others - 1)
                if self.others == 0:
                    # The family hung up; nobody should sit alone in an empty room.
                    return [StartTimer(ALONE_TIMER, self.timing.alone), Log("info", f"call {self.call_id}: family left")]
                return []
            return self._note(event)
        if isinstance(event, TimerFired) and event.name == ALONE_TIMER:
            return self._end("the family left and did not come back")
        return []

    def _on_ending(self, event: Event) -> list[Effect]:
        if (isinstance(event, PageEvent) and event.name == "readyToClose") or (
                isinstance(event, TimerFired) and event.name == HANGUP_TIMER):
            self.state = State.IDLE
            why = "readyToClose" if isinstance(event, PageEvent) else "no readyToClose in time"
            return [StopTimer(HANGUP_TIMER), DisposeCall(self.call_id), Show(Screen.HOME),
                    Log("info", f"call {self.call_id}: closed ({why})")]
        return []

    def _on_trouble(self, event: Event) -> list[Effect]:
        if isinstance(event, HomeTapped) or (isinstance(event, TimerFired) and event.name == MESSAGE_TIMER):
            self.state = State.IDLE
            return [StopTimer(MESSAGE_TIMER), Show(Screen.HOME)]
        return self._late(event)

    # ------------------------------------------------------------------ shared steps

    def _end(self, why: str) -> list[Effect]:
        self.state = State.ENDING
        return [StopTimer(ALONE_TIMER), HangupCall(self.call_id), Show(Screen.ENDING),
                StartTimer(HANGUP_TIMER, self.timing.hangup), Log("info", f"call {self.call_id}: hanging up ({why})")]

    def _trouble(self, trouble: Trouble, detail: str, first: list[Effect]) -> list[Effect]:
        self.state = State.TROUBLE
        return first + [DisposeCall(self.call_id), Show(Screen.TROUBLE, trouble),
                        StartTimer(MESSAGE_TIMER, self.timing.message),
                        Log("warning", f"call {self.call_id}: {trouble.value}: {detail}")]

    def _late(self, event: Event) -> list[Effect]:
        # A join that arrives when no call is wanted must not leave a camera running unseen.
        if isinstance(event, PageEvent) and event.name == "videoConferenceJoined":
            return [DisposeCall(event.call_id), Log("warning", f"call {event.call_id}: late join disposed")]
        return []

    def _stale(self, event: PageEvent) -> list[Effect]:
        if event.name == "videoConferenceJoined":
            return [DisposeCall(event.call_id), Log("warning", f"call {event.call_id}: stale join disposed")]
        return []

    def _note(self, event: PageEvent) -> list[Effect]:
        if event.name in ("cameraError", "micError", "errorOccurred", "peerConnectionFailure"):
            return [Log("warning", f"call {self.call_id}: {event.name} {event.payload}")]
        return []

    def _crashed(self, now: float) -> list[Effect]:
        self.web_ready = False
        effects: list[Effect] = [Log("error", f"renderer crashed in state {self.state.value}")]
        if self.state in (State.CONNECTING, State.IN_CALL, State.ENDING):
            effects += [StopTimer(CONNECT_TIMER), StopTimer(HANGUP_TIMER), StopTimer(ALONE_TIMER)]
        if self.state is State.ENDING:
            self.state = State.IDLE  # the call is gone with the renderer: that is what ending wanted
            effects.append(Show(Screen.HOME))
        else:
            self.state = State.TROUBLE
            effects += [Show(Screen.TROUBLE, Trouble.RENDERER_CRASHED), StartTimer(MESSAGE_TIMER, self.timing.message)]
        return effects + self._rebuild_now(now)

    def _rebuild_now(self, now: float | None) -> list[Effect]:
        if now is not None and self.last_rebuild is not None:
            wait = self.last_rebuild + self.timing.rebuild_spacing - now
            if wait > 0:
                self.rebuild_pending = True
                return [StartTimer(REBUILD_TIMER, wait), Log("warning", f"crashing repeatedly: rebuilding in {wait:.0f} s")]
        self.rebuild_pending = False
        if now is not None:
            self.last_rebuild = now
        return [RebuildWeb()]
