"""The call state machine; over 400 lines because every state x event decision sits next to its events and effects.

Events in, effects out: no Qt, no I/O, no clock or dice of its own.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.screen import Screen


class State(enum.Enum):
    """Where the resident is."""

    IDLE = "idle"  # home screen
    CONNECTING = "connecting"  # "Verbinde …"
    IN_CALL = "in_call"  # video and the Auflegen button
    ENDING = "ending"  # the conference was left; waiting for Jitsi's readyToClose
    WAITING = "waiting"  # a join failed or the call was lost: trying again after a pause
    TROUBLE = "trouble"  # a calm message, then home by itself
    RINGING = "ringing"  # the family waits in the room: ring until answered, declined or they leave


class Trouble(enum.Enum):
    """Why a call did not work, as a message key the UI translates."""

    CONNECT_FAILED = "connect_failed"  # trying again
    CONNECTION_LOST = "connection_lost"  # the call broke; rejoining
    GAVE_UP = "gave_up"  # tried long enough; back home
    OFFLINE = "offline"  # the device has no network
    RENDERER_CRASHED = "renderer_crashed"
    ACCESS_DENIED = "access_denied"  # the server refused the login token: no retries, staff must renew it
    NOBODY_CAME = "nobody_came"  # the resident waited alone in the room long enough: home, the family knows


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


@dataclass(frozen=True)
class NetworkChanged:
    """The operating system says the device is (not) connected to a network."""

    online: bool


@dataclass(frozen=True)
class PresenceChanged:
    """The server says how many wait in the room (None: unknown); `quiet` when quiet hours hold now."""

    others: int | None
    quiet: bool = False


Event = (CallTapped | HangupTapped | HomeTapped | PageEvent | TimerFired | RendererCrashed | WebReady
         | NetworkChanged | PresenceChanged)


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
class Exit:
    """Leave the process so systemd restarts it cleanly."""

    code: int
    reason: str


@dataclass(frozen=True)
class CallStarted:
    """The resident is in a call with the family (the first join of a tap)."""


@dataclass(frozen=True)
class CallEnded:
    """The call that CallStarted began is over; `others_max` people were in it at most."""

    others_max: int


@dataclass(frozen=True)
class Incident:
    """Something staff should hear about (service screen, metrics); never shown to the resident as such."""

    kind: str
    detail: str


@dataclass(frozen=True)
class Ring:
    """Start or stop the ringing sound."""

    on: bool


@dataclass(frozen=True)
class NotifyFamily:
    """Tell the family contacts that the resident is calling (in the background, deduplicated)."""


@dataclass(frozen=True)
class WaitingForFamily:
    """Show (or take away) the calm overlay over the resident's own picture: nobody is in the room yet."""

    on: bool


@dataclass(frozen=True)
class Log:
    """A line for the staff log (journal)."""

    level: str
    message: str


Effect = (Show | JoinCall | HangupCall | DisposeCall | StartTimer | StopTimer | RebuildWeb | Exit | CallStarted
          | CallEnded | Incident | Ring | NotifyFamily | WaitingForFamily | Log)

# Timer names the Qt layer runs for the flow.
CONNECT_TIMER = "connect"
HANGUP_TIMER = "hangup"
MESSAGE_TIMER = "message"
ALONE_TIMER = "alone"
REBUILD_TIMER = "rebuild"
RETRY_TIMER = "retry"
ANSWER_TIMER = "answer"  # auto-answer countdown
EMPTY_TIMER = "empty"  # joined an empty room: the family may still show up in the first moments (their join events)
NOBODY_TIMER = "nobody"  # waited alone this long: go home with a kind sentence
GOODBYE_TIMER = "goodbye"  # after a call, the people who were in it do not ring again until this runs out
IN_CALL_TIMERS = (ALONE_TIMER, EMPTY_TIMER, NOBODY_TIMER)
CALL_TIMERS = (CONNECT_TIMER, HANGUP_TIMER, RETRY_TIMER, *IN_CALL_TIMERS)

# Process exit code when the renderer keeps crashing: systemd restarts the whole kiosk.
EXIT_CRASHING = 70  # EX_SOFTWARE

# In a call, these mean the media path or the connection broke: rejoin (a peerConnectionFailure only when it is the
# bridge's: see _is_p2p).
LOST_EVENTS = ("suspendDetected", "peerConnectionFailure")


@dataclass(frozen=True)
class Timing:
    """How long the flow waits for things, in seconds, and how often it tries."""

    connect: float = 45.0  # tap -> videoConferenceJoined
    hangup: float = 5.0  # hangup -> readyToClose, then dispose anyway
    message: float = 8.0  # a trouble message stays this long, then home
    alone: float = 20.0  # the family left: wait this long in case they come back, then hang up
    rebuild_spacing: float = 60.0  # rebuild the page after a crash at most once a minute
    retry_first: float = 2.0  # back-off: 2 s, doubling ...
    retry_max: float = 60.0  # ... up to 60 s, each with +-20 % jitter
    connect_attempts: int = 8  # joins after a tap before giving up (about four minutes)
    rejoin_attempts: int = 6  # rejoins after a lost call before giving up
    crash_window: float = 600.0  # renderer crashes counted over ten minutes ...
    max_crashes: int = 3  # ... this many and the kiosk exits for systemd to restart it
    auto_answer: float | None = None  # seconds of countdown before answering by itself; None: never
    empty_grace: float = 3.0  # joined an empty room: Jitsi reports those already in within moments; then the overlay
    nobody: float = 600.0  # alone in the room this long after joining (overlay included): home, kindly
    goodbye: float = 600.0  # after a call its people ring again only when they left and came back, or after this


def backoff(attempt: int, timing: Timing, dice: Callable[[], float]) -> float:
    """Seconds to wait before attempt n (1-based): doubling from retry_first up to retry_max, with jitter."""
    base = min(timing.retry_max, timing.retry_first * 2 ** (attempt - 1))
    return round(base * (0.8 + 0.4 * dice()), 3)


def _is_fatal(payload: dict) -> bool:
    # API.js nests the error under "error"; the handbook shows it flat: accept both.
    error = payload.get("error", payload)
    return isinstance(error, dict) and bool(error.get("isFatal"))


# The errors with which Jitsi says the server refused the kiosk's login (lib-jitsi-meet's JitsiConnectionErrors and
# JitsiConferenceErrors names, as jitsi-meet passes them to the IFrame API's errorOccurred): a token Prosody refuses
# (bad signature, expired, wrong aud/iss/sub), a room only authenticated users may open, a token for another room.
# None of them is fatal to Jitsi, and trying again cannot help: the token must be renewed.
ACCESS_ERRORS = ("connection.passwordRequired", "conference.authenticationRequired",
                 "conference.connectionError.notAllowed")


def _access_error(payload: dict) -> str | None:
    error = payload.get("error", payload)
    name = error.get("name") if isinstance(error, dict) else None
    return name if name in ACCESS_ERRORS else None


def _is_p2p(payload: dict) -> bool:
    # A direct (peer-to-peer) connection that fails is not a lost call: Jitsi moves the call to the bridge by itself.
    # Only isP2P true says so; false or missing is the bridge's connection.
    return payload.get("isP2P") is True


class CallFlow:
    """Decides what happens next for every event in every state."""

    def __init__(self, timing: Timing | None = None, dice: Callable[[], float] = random.random):
        self.timing = timing or Timing()
        self.dice = dice
        self.state = State.IDLE
        self.call_id = 0
        self.others = 0  # participants in the call besides the kiosk
        self.others_max = 0
        self.in_episode = False  # CallStarted was sent for this tap and CallEnded not yet
        self.attempt = 0  # failed joins in a row since the tap or the loss
        self.rejoining = False
        self.hangup_requested = False
        self.online = True
        self.last_rebuild: float | None = None
        self.rebuild_pending = False
        self.crashes: list[float] = []
        self.declined = False  # "Nicht jetzt" for this visit of the family: no ringing until the room empties
        # After a call: this many people in the room are the ones who were in it (a goodbye, not a new visit); 0 when
        # the room emptied since or GOODBYE_TIMER ran out.
        self.farewell = 0
        self.waiting_for_family = False  # the overlay "Wir haben Anna um 14:02 Bescheid gesagt" shows
        self.nobody_came = False  # this call ends because nobody came: a kind sentence instead of "Auf Wiedersehen"
        # What each state does with the events not handled alike in every state.
        self._handlers: dict[State, Callable[[Event], list[Effect]]] = {
            State.IDLE: self._on_idle,
            State.RINGING: self._on_ringing,
            State.CONNECTING: self._on_connecting,
            State.IN_CALL: self._on_in_call,
            State.ENDING: self._on_ending,
            State.WAITING: self._on_waiting,
            State.TROUBLE: self._on_trouble,
        }

    def handle(self, event: Event) -> list[Effect]:
        """Apply one event; return the effects to carry out, in order."""
        if isinstance(event, RendererCrashed):
            return self._crashed(event.now)
        if isinstance(event, WebReady):
            self.rebuild_pending = False
            return []
        if isinstance(event, NetworkChanged):
            return self._network(event.online)
        if isinstance(event, PresenceChanged):
            return self._presence(event)
        if isinstance(event, TimerFired) and event.name == GOODBYE_TIMER:
            self.farewell = 0
            return [Log("info", "after the last call: its people ring again when they come back")]
        if isinstance(event, TimerFired) and event.name == REBUILD_TIMER:
            if not self.rebuild_pending:
                return []
            if self.last_rebuild is not None:
                self.last_rebuild += self.timing.rebuild_spacing  # the moment the timer was set for
            return self._rebuild_now(None)
        if isinstance(event, PageEvent) and event.call_id != self.call_id:
            return self._stale(event)
        return self._handlers[self.state](event)

    # ------------------------------------------------------------------ per state

    def _on_idle(self, event: Event) -> list[Effect]:
        if isinstance(event, CallTapped):
            if not self.online:
                self.state = State.TROUBLE
                return [Show(Screen.TROUBLE, Trouble.OFFLINE), StartTimer(MESSAGE_TIMER, self.timing.message),
                        Log("warning", "call tapped while the device is offline")]
            return [NotifyFamily(), *self._start_episode()]
        return self._late(event)

    def _on_ringing(self, event: Event) -> list[Effect]:
        if isinstance(event, CallTapped) or (isinstance(event, TimerFired) and event.name == ANSWER_TIMER):
            how = "answered" if isinstance(event, CallTapped) else "answered by itself after the countdown"
            return [Ring(False), StopTimer(ANSWER_TIMER), Log("info", f"ringing {how}"), *self._start_episode()]
        if isinstance(event, HomeTapped):
            self.declined = True
            return self._stop_ringing("not now")
        return self._late(event)

    def _on_connecting(self, event: Event) -> list[Effect]:
        if isinstance(event, PageEvent):
            if event.name == "videoConferenceJoined":
                self.state = State.IN_CALL
                self.attempt = 0
                effects: list[Effect] = [StopTimer(CONNECT_TIMER), Show(Screen.IN_CALL),
                                         Log("info", f"call {self.call_id}: joined"
                                                     f"{' again' if self.rejoining else ''}")]
                if not self.in_episode:
                    self.in_episode = True
                    effects.append(CallStarted())
                if self.others == 0:
                    # Those already in the room are reported right after the join: wait a moment before saying
                    # nobody is there, then wait for the family with the overlay up.
                    effects.append(StartTimer(EMPTY_TIMER, self.timing.empty_grace))
                self.rejoining = False
                return effects
            if event.name in ("participantJoined", "participantLeft"):
                return self._count(event)
            if event.name == "errorOccurred" and (refusal := _access_error(event.payload)):
                return [StopTimer(CONNECT_TIMER), *self._refused(refusal, event.payload)]
            if event.name in ("loadFailed", "videoConferenceLeft", "readyToClose") or (
                    event.name == "errorOccurred" and _is_fatal(event.payload)):
                return [StopTimer(CONNECT_TIMER), *self._retry(f"{event.name} {event.payload}")]
            return self._note(event)
        if isinstance(event, TimerFired) and event.name == CONNECT_TIMER:
            return self._retry("no videoConferenceJoined in time")
        if isinstance(event, HangupTapped):
            return [StopTimer(CONNECT_TIMER), DisposeCall(self.call_id), *self._home("cancelled while connecting")]
        return []

    def _on_in_call(self, event: Event) -> list[Effect]:
        if isinstance(event, HangupTapped):
            return self._end("the resident hung up")
        if isinstance(event, PageEvent):
            if event.name == "readyToClose":
                return [*self._leave_call(), DisposeCall(self.call_id), *self._home("ended by Jitsi")]
            if event.name == "videoConferenceLeft":
                # The family ended it (readyToClose follows) or the connection broke (it does not): the timer tells.
                self.state = State.ENDING
                self.hangup_requested = False
                return [*self._leave_call(), Show(Screen.ENDING), StartTimer(HANGUP_TIMER, self.timing.hangup),
                        Log("info", f"call {self.call_id}: conference left")]
            if event.name == "peerConnectionFailure" and _is_p2p(event.payload):
                return [Log("info", f"call {self.call_id}: the direct (P2P) connection failed; "
                                    "Jitsi moves the call to the bridge by itself")]
            if (event.name == "errorOccurred" and _is_fatal(event.payload)) or event.name in LOST_EVENTS:
                return self._lost(f"{event.name} {event.payload}")
            if event.name in ("participantJoined", "participantLeft"):
                return self._count(event)
            return self._note(event)
        if isinstance(event, TimerFired) and event.name == ALONE_TIMER:
            return self._end("the family left and did not come back")
        if isinstance(event, TimerFired) and event.name == EMPTY_TIMER and self.others == 0:
            self.waiting_for_family = True
            return [WaitingForFamily(True),
                    StartTimer(NOBODY_TIMER, max(0.0, self.timing.nobody - self.timing.empty_grace)),
                    Log("info", f"call {self.call_id}: nobody in the room yet; waiting for the family")]
        if isinstance(event, TimerFired) and event.name == NOBODY_TIMER and self.others == 0:
            self.nobody_came = True
            return self._end(f"nobody came within {self.timing.nobody / 60:g} minutes")
        return []

    def _on_ending(self, event: Event) -> list[Effect]:
        if isinstance(event, PageEvent) and event.name == "readyToClose":
            return [StopTimer(HANGUP_TIMER), DisposeCall(self.call_id), *self._closed("closed (readyToClose)")]
        if isinstance(event, TimerFired) and event.name == HANGUP_TIMER:
            if self.hangup_requested:
                return [DisposeCall(self.call_id), *self._closed("closed (no readyToClose in time)")]
            return self._lost("left the conference without readyToClose")
        if self.nobody_came and (isinstance(event, (HomeTapped, HangupTapped))
                                 or (isinstance(event, TimerFired) and event.name == MESSAGE_TIMER)):
            # "Zurück" on the kind sentence (or its time is up) before the call has closed: home now, and home
            # again when it has.
            self.nobody_came = False
            return [StopTimer(MESSAGE_TIMER), Show(Screen.HOME)]
        return []

    def _closed(self, why: str) -> list[Effect]:
        if not self.nobody_came:
            return self._home(why)
        # The kind sentence stays until its own timer (or "Zurück"); the call is over already.
        self.nobody_came = False
        self.state = State.TROUBLE
        return [*self._episode_over(), Log("info", f"call {self.call_id}: {why}")]

    def _on_waiting(self, event: Event) -> list[Effect]:
        if isinstance(event, TimerFired) and event.name == RETRY_TIMER:
            return self._join(Screen.CONNECTING)
        if isinstance(event, (HangupTapped, HomeTapped)):
            return [StopTimer(RETRY_TIMER), *self._home("the resident stopped trying")]
        return self._late(event)

    def _on_trouble(self, event: Event) -> list[Effect]:
        if isinstance(event, HomeTapped) or (isinstance(event, TimerFired) and event.name == MESSAGE_TIMER):
            self.state = State.IDLE
            return [StopTimer(MESSAGE_TIMER), Show(Screen.HOME)]
        return self._late(event)

    # ------------------------------------------------------------------ shared steps

    def _start_episode(self) -> list[Effect]:
        self.others = self.others_max = self.attempt = 0
        self.rejoining = self.nobody_came = self.waiting_for_family = False
        return self._join(Screen.CONNECTING)

    def _stop_ringing(self, why: str) -> list[Effect]:
        self.state = State.IDLE
        return [Ring(False), StopTimer(ANSWER_TIMER), Show(Screen.HOME), Log("info", f"ringing stopped ({why})")]

    def _presence(self, event: PresenceChanged) -> list[Effect]:
        waiting = bool(event.others)
        if not waiting:
            self.declined = False  # the family left: the next visit rings again
            self.farewell = 0  # those who said goodbye left: when they come back, it rings
        elif self.farewell and event.others is not None and event.others <= self.farewell:
            waiting = False  # only the people of the last call, still in the room after the goodbye
        if self.state is State.RINGING and (not event.others or event.quiet):
            return self._stop_ringing("the family left" if not waiting else "quiet hours")
        if self.state is State.IDLE and waiting and not event.quiet and not self.declined and self.online:
            self.state = State.RINGING
            effects: list[Effect] = [Show(Screen.RINGING), Ring(True),
                                     Log("info", f"ringing: {event.others} waiting in the room")]
            if self.timing.auto_answer is not None:
                effects.append(StartTimer(ANSWER_TIMER, self.timing.auto_answer))
            return effects
        return []

    def _join(self, screen: Screen) -> list[Effect]:
        self.call_id += 1
        self.state = State.CONNECTING
        effects: list[Effect] = [Show(screen)]
        if self.rebuild_pending:
            # A tap is a person asking, not a crash loop: rebuild now instead of waiting.
            effects += [StopTimer(REBUILD_TIMER), *self._rebuild_now(None)]
        return effects + [JoinCall(self.call_id), StartTimer(CONNECT_TIMER, self.timing.connect),
                          Log("info", f"call {self.call_id}: joining (attempt {self.attempt + 1})")]

    def _end(self, why: str) -> list[Effect]:
        self.state = State.ENDING
        self.hangup_requested = True
        shown = ([Show(Screen.TROUBLE, Trouble.NOBODY_CAME), StartTimer(MESSAGE_TIMER, self.timing.message)]
                 if self.nobody_came else [Show(Screen.ENDING)])
        return [*self._leave_call(), HangupCall(self.call_id), *shown,
                StartTimer(HANGUP_TIMER, self.timing.hangup), Log("info", f"call {self.call_id}: hanging up ({why})")]

    def _leave_call(self) -> list[Effect]:
        """The in-call timers stop and the waiting overlay goes: the call is ending or breaking."""
        effects: list[Effect] = [StopTimer(name) for name in IN_CALL_TIMERS]
        if self.waiting_for_family:
            self.waiting_for_family = False
            effects.append(WaitingForFamily(False))
        return effects

    def _home(self, why: str) -> list[Effect]:
        self.state = State.IDLE
        return [*self._episode_over(), Show(Screen.HOME), Log("info", f"call {self.call_id}: {why}")]

    def _episode_over(self) -> list[Effect]:
        if not self.in_episode:
            return []
        self.in_episode = False
        if not self.others_max:
            return [CallEnded(0)]
        # A goodbye: those who were in the call may still be in the room; they must not ring right away.
        self.farewell = self.others_max
        return [CallEnded(self.others_max), StartTimer(GOODBYE_TIMER, self.timing.goodbye)]

    def _lost(self, detail: str) -> list[Effect]:
        """The call broke: dispose it and rejoin the same room after a pause."""
        self.rejoining = True
        self.attempt = 0
        self.others = 0
        return [*self._leave_call(), StopTimer(HANGUP_TIMER),
                Incident(Trouble.CONNECTION_LOST.value, detail), *self._retry(detail)]

    def _refused(self, name: str, payload: dict) -> list[Effect]:
        """The server refused the login: a calm sentence, then home; no retries (they would all be refused)."""
        error = payload.get("error", payload)
        message = error.get("message") if isinstance(error, dict) else None
        # The error's name first: the service screen shows the start of each incident.
        detail = f"{name}: the server refused the login token{f' ({message})' if isinstance(message, str) else ''}"
        self.state = State.TROUBLE
        self.rejoining = False
        return [DisposeCall(self.call_id), *self._episode_over(), Show(Screen.TROUBLE, Trouble.ACCESS_DENIED),
                StartTimer(MESSAGE_TIMER, self.timing.message), Incident(Trouble.ACCESS_DENIED.value, detail[:300]),
                Log("error", f"call {self.call_id}: {detail[:300]}; not trying again: the token must be renewed")]

    def _retry(self, detail: str) -> list[Effect]:
        self.attempt += 1
        limit = self.timing.rejoin_attempts if self.rejoining else self.timing.connect_attempts
        trouble = Trouble.CONNECTION_LOST if self.rejoining else Trouble.CONNECT_FAILED
        if self.attempt > limit:
            self.state = State.TROUBLE
            return [DisposeCall(self.call_id), *self._episode_over(), Show(Screen.TROUBLE, Trouble.GAVE_UP),
                    StartTimer(MESSAGE_TIMER, self.timing.message), Incident(Trouble.GAVE_UP.value, detail),
                    Log("warning", f"call {self.call_id}: giving up after {self.attempt - 1} attempts: {detail}")]
        self.state = State.WAITING
        wait = backoff(self.attempt, self.timing, self.dice)
        effects: list[Effect] = [DisposeCall(self.call_id), Show(Screen.WAITING, trouble),
                                 StartTimer(RETRY_TIMER, wait),
                                 Log("warning", f"call {self.call_id}: {trouble.value}: {detail}; "
                                                f"trying again in {wait:.1f} s")]
        if not self.rejoining:
            effects.insert(2, Incident(trouble.value, detail))
        return effects

    def _count(self, event: PageEvent) -> list[Effect]:
        if event.name == "participantJoined":
            self.others += 1
            self.others_max = max(self.others_max, self.others)
            return self._leave_call() if self.state is State.IN_CALL else []  # somebody came: no more waiting
        self.others = max(0, self.others - 1)
        if self.others == 0 and self.state is State.IN_CALL:
            # The family hung up; nobody should sit alone in an empty room.
            return [StartTimer(ALONE_TIMER, self.timing.alone), Log("info", f"call {self.call_id}: family left")]
        return []

    def _network(self, online: bool) -> list[Effect]:
        was, self.online = self.online, online
        if was == online:
            return []
        effects: list[Effect] = [Log("warning" if not online else "info",
                                     f"network {'back' if online else 'gone'}")]
        if not online:
            effects.append(Incident(Trouble.OFFLINE.value, "the network is gone"))
            if self.state is State.IN_CALL:
                effects += self._lost("the network is gone")
            elif self.state is State.RINGING:
                effects += self._stop_ringing("the network is gone")
        elif self.state is State.WAITING:
            effects += [StopTimer(RETRY_TIMER), *self._join(Screen.CONNECTING)]  # no need to wait any longer
        return effects

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
        if event.name in ("cameraError", "micError"):
            return [Incident(event.name, str(event.payload)),
                    Log("warning", f"call {self.call_id}: {event.name} {event.payload}")]
        if event.name == "errorOccurred":
            return [Log("warning", f"call {self.call_id}: {event.name} {event.payload}")]
        return []

    def _crashed(self, now: float) -> list[Effect]:
        self.crashes = [t for t in self.crashes if now - t < self.timing.crash_window] + [now]
        effects: list[Effect] = [Log("error", f"renderer crashed in state {self.state.value}"),
                                 Incident(Trouble.RENDERER_CRASHED.value, f"in state {self.state.value}")]
        if len(self.crashes) >= self.timing.max_crashes:
            return effects + [Exit(EXIT_CRASHING, f"{len(self.crashes)} renderer crashes within "
                                                  f"{self.timing.crash_window / 60:.0f} minutes")]
        effects += [StopTimer(name) for name in CALL_TIMERS]
        if self.state is State.RINGING:
            effects += [Ring(False), StopTimer(ANSWER_TIMER)]
        effects += self._episode_over()
        self.waiting_for_family = self.nobody_came = False
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
