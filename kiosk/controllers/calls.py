"""The call controller: feeds taps, page events and timers to the CallFlow and carries out what it decides."""

from __future__ import annotations

import logging
import time

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from kiosk import callflow
from kiosk.callflow import CallFlow, State
from kiosk.ui.window import KioskWindow
from kiosk.web.callview import CallView

log = logging.getLogger(__name__)
flow_log = logging.getLogger("kiosk.flow")

# Seconds at home before the call page's renderer is freed (about 60 MiB on a small laptop, docs/benchmarks.md);
# a tap soon after hanging up still finds the page ready, a later one reloads it first (a local page).
REST_AFTER_S = 20.0


class CallController(QObject):
    """One tap to a joined call: the flow decides, the call view joins, the window shows."""

    state_changed = pyqtSignal(object)  # the flow's State after each event
    incident = pyqtSignal(str, str)  # kind, detail: for staff (service screen, metrics)
    call_started = pyqtSignal()
    call_ended = pyqtSignal(int)  # the most others that were in the call
    ring = pyqtSignal(bool)
    family_wanted = pyqtSignal()  # the resident is calling: tell the family
    exit_requested = pyqtSignal(int)  # leave the process so systemd restarts it

    def __init__(self, flow: CallFlow, view: CallView, window: KioskWindow, parent=None,
                 rest_after: float = REST_AFTER_S):
        super().__init__(parent)
        self.flow = flow
        self.view = view
        self.window = window
        self._timers: dict[str, QTimer] = {}
        self._rest_timer = QTimer(self, singleShot=True, interval=round(rest_after * 1000))
        self._rest_timer.timeout.connect(self._rest)
        # Bound methods, not lambdas: Qt drops these connections when the controller goes before the widgets.
        window.home.call_tapped.connect(self.call_tapped)
        window.home.call_pressed.connect(self._call_pressed)
        window.call.hangup_tapped.connect(self.hangup_tapped)
        window.message.button_tapped.connect(self._message_button)
        window.ringing.answer_tapped.connect(self.call_tapped)
        window.ringing.not_now_tapped.connect(self.home_tapped)
        view.page_event.connect(self._page_event)
        view.ready.connect(self._page_ready)
        view.crashed.connect(self._renderer_crashed)
        self._rest_timer.start()

    @property
    def idle(self) -> bool:
        """True while no call runs and nothing rings."""
        return self.flow.state is State.IDLE

    def call_tapped(self) -> None:
        """The resident tapped "Familie anrufen" (or "Annehmen" while it rings)."""
        self.feed(callflow.CallTapped())

    def hangup_tapped(self) -> None:
        """The resident tapped "Auflegen"."""
        self.feed(callflow.HangupTapped())

    def home_tapped(self) -> None:
        """The resident tapped "Zurück" or "Nicht jetzt"."""
        self.feed(callflow.HomeTapped())

    def presence_changed(self, others, quiet: bool) -> None:
        """The server says how many wait in the room (None: unknown), and whether quiet hours hold."""
        self.feed(callflow.PresenceChanged(others, quiet))

    def network_changed(self, online: bool) -> None:
        """The OS says the network is gone or back."""
        self.feed(callflow.NetworkChanged(online))

    def _page_event(self, call_id: int, name: str, payload: dict) -> None:
        self.feed(callflow.PageEvent(call_id, name, payload))

    def _page_ready(self) -> None:
        self.feed(callflow.WebReady(time.monotonic()))

    def _renderer_crashed(self, *_) -> None:
        self.feed(callflow.RendererCrashed(time.monotonic()))

    def feed(self, event: callflow.Event) -> None:
        """Hand one event to the flow and carry out its effects."""
        for effect in self.flow.handle(event):
            self._apply(effect)
        self._rest_or_wake()
        self.state_changed.emit(self.flow.state)

    def _rest_or_wake(self) -> None:
        # At home the call page rests after a while; anything else (ringing above all) wants it loaded.
        if self.flow.state is State.IDLE:
            if not (self._rest_timer.isActive() or self.view.is_resting):
                self._rest_timer.start()
        else:
            self._rest_timer.stop()
            self.view.wake()

    def _call_pressed(self) -> None:
        # A finger is on the call button: a resting page starts loading now, not only when the finger lifts.
        if self.flow.state is State.IDLE and self.view.is_resting:
            self.view.wake()
            self._rest_timer.start()  # the finger may slide off without a tap: rest again later

    def _rest(self) -> None:
        if self.flow.state is State.IDLE and not self.view.rest():
            self._rest_timer.start()  # still loading, or a join is queued: try again later

    def _apply(self, effect: callflow.Effect) -> None:
        match effect:
            case callflow.Show(screen=screen, trouble=trouble):
                self.window.show_screen(screen, trouble, countdown_s=self.flow.timing.auto_answer)
            case callflow.JoinCall(call_id=call_id):
                self.view.join(call_id)
            case callflow.HangupCall(call_id=call_id):
                self.view.hangup(call_id)
            case callflow.DisposeCall(call_id=call_id):
                self.view.dispose(call_id)
            case callflow.RebuildWeb():
                self.view.rebuild()
            case callflow.StartTimer(name=name, seconds=seconds):
                self._timer(name).start(round(seconds * 1000))
            case callflow.StopTimer(name=name):
                if name in self._timers:
                    self._timers[name].stop()
            case callflow.Log(level=level, message=message):
                flow_log.log(logging.getLevelName(level.upper()), message)
            case callflow.Incident(kind=kind, detail=detail):
                self.incident.emit(kind, detail)
            case callflow.CallStarted():
                self.call_started.emit()
            case callflow.CallEnded(others_max=others_max):
                self.call_ended.emit(others_max)
            case callflow.Ring(on=on):
                self.ring.emit(on)
            case callflow.NotifyFamily():
                self.family_wanted.emit()
            case callflow.WaitingForFamily(on=on):
                self.window.show_waiting_for_family(on)
            case callflow.Exit(code=code, reason=reason):
                log.error("leaving so that systemd restarts the kiosk: %s", reason)
                self.exit_requested.emit(code)

    def timer_running(self, name: str) -> bool:
        """Whether the flow's timer of this name is counting down."""
        return name in self._timers and self._timers[name].isActive()

    def _timer(self, name: str) -> QTimer:
        if name not in self._timers:
            timer = QTimer(self, singleShot=True)
            timer.setObjectName(name)
            timer.timeout.connect(self._timer_fired)
            self._timers[name] = timer
        return self._timers[name]

    def _timer_fired(self) -> None:
        self.feed(callflow.TimerFired(self.sender().objectName()))

    def _message_button(self) -> None:
        # The message screen's one button: "Abbrechen" while connecting, "Zurück" on a trouble screen.
        connecting = self.flow.state is State.CONNECTING
        self.feed(callflow.HangupTapped() if connecting else callflow.HomeTapped())

    def shutdown(self) -> None:
        """No timer fires any more and no call is left open; pages go before their profile."""
        for timer in self._timers.values():
            timer.stop()
        self._rest_timer.stop()
        if self.flow.state is not State.IDLE:
            self.view.dispose(self.flow.call_id)
        self.view.shutdown()
