"""The kiosk window: feeds events to the CallFlow and carries out the effects it returns."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from PyQt6.QtCore import (
    QBuffer, QEvent, QIODevice, QObject, QPoint, QProcess, QRect, Qt, QTimer, QUrl, pyqtSignal,
)
from PyQt6.QtGui import QColor, QPainter, QPixmap
from PyQt6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PyQt6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QWidget

from kiosk import __version__, callflow, texts
from kiosk.callflow import CallFlow, Screen, Timing
from kiosk.config import KioskConfig
from kiosk.files import append_line, atomic_write
from kiosk.family import in_quiet_hours, notice, presence_url, should_notify
from kiosk.health import Battery, Health, PowerAction, power_action, usage_line
from kiosk.notify import deliver
from kiosk.staff import CornerTaps, PinLock
from kiosk.ui.screens import (
    CallScreen, HomeScreen, MessageScreen, PinPadScreen, PracticeScreen, RingingScreen, ServiceScreen,
)
from kiosk.ui import style
from kiosk.ui.style import Metrics, stylesheet
from kiosk.ui.watchers import NetworkWatch, NightlyRestart, Notifier, PowerWatch, PresenceWatch, read_battery
from kiosk.web.callview import CallView
from kiosk.web.page import leaf_pinned

log = logging.getLogger(__name__)
flow_log = logging.getLogger("kiosk.flow")

AUTO_ANSWER_S = 10.0  # the visible countdown before the kiosk answers by itself
RING_SOUND = Path(__file__).resolve().parent.parent / "assets" / "sounds" / "ring.wav"
STAFF_IDLE_MS = 90_000  # a PIN pad or service screen left alone returns home by itself
CORNER_PERCENT = 14  # the hidden corner: this share of the screen height, in the top-left


class KioskWindow(QMainWindow):
    """One window, one screen at a time; the CallFlow decides which."""

    home_shown = pyqtSignal()
    sound_ahead = pyqtSignal()  # ringing or a call is about to be heard: time to check the volume floor
    quit_requested = pyqtSignal(int)
    reload_requested = pyqtSignal()

    def __init__(self, metrics: Metrics, config: KioskConfig | None, config_path: Path,
                 support_contact: str | None = None, parent=None,
                 battery: Callable[[], Battery | None] = read_battery, language: str | None = None):
        super().__init__(parent)
        # Before any screen reads a text; without a usable config, the language its file names (or German).
        texts.use(config.language if config is not None else language or "de")
        # The device's font scale comes with its config (ui.scale); the screen's size and DPI with the metrics.
        self.metrics = metrics = replace(metrics, scale=config.ui.scale) if config is not None else metrics
        self.battery = battery
        self.run_shutdown: Callable[[], None] = _power_off
        self.config = config
        self.config_path = config_path
        self.setWindowTitle("Palim Kiosk")
        self.setStyleSheet(stylesheet(metrics, config.brand.colors.model_dump() if config is not None else None))
        self._closing = False
        self._announced_home = False
        self._last_press = -1
        self._timers: dict[str, QTimer] = {}
        self._stack = QStackedWidget()
        self.setCentralWidget(self._stack)
        self.message = MessageScreen(metrics)
        self._stack.addWidget(self.message)
        self._screen_name = ""
        self.flow: CallFlow | None = None
        self.call_view: CallView | None = None
        self.corner = CornerTaps()
        self.pin_lock = PinLock(config.admin_pin_hash if config else None)
        self._staff_idle = QTimer(self, singleShot=True, interval=STAFF_IDLE_MS)
        self._staff_idle.timeout.connect(self._leave_staff)
        self._network = QNetworkAccessManager(self)
        if config is None:
            self._show_setup_needed(support_contact)
        else:
            self._build(config)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # ------------------------------------------------------------------ building

    def _build(self, config: KioskConfig) -> None:
        self.flow = CallFlow(Timing(connect=float(config.jitsi.connect_timeout_s),
                                    max_crashes=config.health.max_renderer_crashes,
                                    auto_answer=AUTO_ANSWER_S if config.presence.auto_answer else None))
        self.health = Health(device=config.device_id, home=config.home)
        self._power_action = PowerAction.NONE
        self._shutting_down = False
        self.call_view = CallView(config)
        self.home = HomeScreen(self.metrics, config.first_name, brand=config.brand)
        self.call = CallScreen(self.metrics, self.call_view)
        self.pin_pad = PinPadScreen(self.metrics)
        self.service = ServiceScreen(self.metrics)
        self.ringing = RingingScreen(self.metrics, pulse=style.palette(config.brand.colors.model_dump())["pulse"])
        self.practice: PracticeScreen | None = None
        for screen in (self.home, self.call, self.pin_pad, self.service, self.ringing):
            self._stack.addWidget(screen)
        self.ringing.answer_tapped.connect(lambda: self.feed(callflow.CallTapped()))
        self.ringing.not_now_tapped.connect(lambda: self.feed(callflow.HomeTapped()))
        self.service.practice_tapped.connect(self.open_practice)
        self._ringer = None
        self._ringing_on = False
        self._last_notice: datetime | None = None
        self.notifier = Notifier(self)
        self.notifier.delivered.connect(self._notice_delivered)
        self.presence = None
        if config.presence.url:
            self.presence = PresenceWatch(presence_url(config.presence.url, config.room), config.presence.interval_s,
                                          config.server, config.tls_pins, self)
            self.presence.changed.connect(self._presence_changed)
        self.home.call_tapped.connect(lambda: self.feed(callflow.CallTapped()))
        self.call.hangup_tapped.connect(lambda: self.feed(callflow.HangupTapped()))
        self.message.button_tapped.connect(self._message_button)
        self.call_view.page_event.connect(lambda cid, name, data: self.feed(callflow.PageEvent(cid, name, data)))
        self.call_view.ready.connect(lambda: self.feed(callflow.WebReady(time.monotonic())))
        self.call_view.crashed.connect(lambda *_: self.feed(callflow.RendererCrashed(time.monotonic())))
        self.pin_pad.submitted.connect(self._pin_submitted)
        self.pin_pad.cancelled.connect(self._leave_staff)
        self.service.back_tapped.connect(self._leave_staff)
        self.service.reload_tapped.connect(self.reload_requested)
        self.service.quit_tapped.connect(self._quit_by_staff)
        self.network = NetworkWatch(self)
        self.network.online_changed.connect(self._online_changed)
        self.power = PowerWatch(self.battery, self)
        self.power.reading.connect(self._battery_reading)
        self.nightly = None
        if config.health.nightly_restart:
            self.nightly = NightlyRestart(config.health.nightly_restart,
                                          lambda: self.flow.state is callflow.State.IDLE, parent=self)
            self.nightly.due.connect(lambda: self.quit_requested.emit(0))
        if not self.network.online:
            self.feed(callflow.NetworkChanged(online=False))
        self.show_screen(Screen.HOME)
        QTimer.singleShot(0, self.power.check)
        self._write_metrics()

    def _show_setup_needed(self, contact: str | None) -> None:
        hint = texts.SETUP_CONTACT.format(contact=contact) if contact else texts.SETUP_NO_CONTACT
        self.message.show_message(texts.SETUP_NEEDED, hint)
        self._set_screen(self.message, "setup")

    # ------------------------------------------------------------------ the flow

    def feed(self, event: callflow.Event) -> None:
        """Hand one event to the flow and carry out its effects."""
        if self.flow is None:
            return
        for effect in self.flow.handle(event):
            self._apply(effect)
        if self.presence is not None:
            # Only ask who waits while nobody is in or on the way into a call.
            self.presence.pause(self.flow.state not in (callflow.State.IDLE, callflow.State.RINGING))

    def _apply(self, effect: callflow.Effect) -> None:
        view = self.call_view
        match effect:
            case callflow.Show(screen=screen, trouble=trouble):
                self.show_screen(screen, trouble)
            case callflow.JoinCall(call_id=call_id):
                view.join(call_id)
            case callflow.HangupCall(call_id=call_id):
                view.hangup(call_id)
            case callflow.DisposeCall(call_id=call_id):
                view.dispose(call_id)
            case callflow.StartTimer(name=name, seconds=seconds):
                self._timer(name).start(round(seconds * 1000))
            case callflow.StopTimer(name=name):
                if name in self._timers:
                    self._timers[name].stop()
            case callflow.RebuildWeb():
                view.rebuild()
            case callflow.Log(level=level, message=message):
                flow_log.log(logging.getLevelName(level.upper()), message)
            case callflow.Incident(kind=kind, detail=detail):
                self.health.incident(datetime.now().astimezone(), kind, detail)
                self._write_metrics()
            case callflow.CallStarted():
                self.health.call_started(datetime.now().astimezone())
                self._write_metrics()
            case callflow.CallEnded(others_max=others_max):
                record = self.health.call_ended(datetime.now().astimezone(), others_max)
                if record is not None and self.config.health.usage_log:
                    append_line(Path(self.config.health.usage_log), usage_line(record))
                self._write_metrics()
            case callflow.Ring(on=on):
                self._ring(on)
            case callflow.NotifyFamily():
                self._notify_family()
            case callflow.Exit(code=code, reason=reason):
                log.error("leaving so that systemd restarts the kiosk: %s", reason)
                self.quit_requested.emit(code)

    def _timer(self, name: str) -> QTimer:
        if name not in self._timers:
            timer = QTimer(self, singleShot=True)
            timer.timeout.connect(lambda: self.feed(callflow.TimerFired(name)))
            self._timers[name] = timer
        return self._timers[name]

    def _message_button(self) -> None:
        state = self.flow.state if self.flow else None
        self.feed(callflow.HangupTapped() if state is callflow.State.CONNECTING else callflow.HomeTapped())

    def show_screen(self, screen: Screen, trouble: callflow.Trouble | None = None) -> None:
        """Show one of the flow's screens (the flow calls this; so does the screenshot script)."""
        if screen is Screen.HOME:
            self.home.refresh()
            self._set_screen(self.home, "home")
            if not self._announced_home:
                self._announced_home = True
                # After the event loop has shown the window (and its owner has connected home_shown for READY=1).
                QTimer.singleShot(0, self._announce_home)
        elif screen is Screen.IN_CALL:
            self._set_screen(self.call, "in_call")
        elif screen is Screen.CONNECTING:
            self.message.show_message(texts.CONNECTING, texts.CONNECTING_HINT, texts.CANCEL_BUTTON)
            self._set_screen(self.message, "connecting")
        elif screen is Screen.ENDING:
            self.message.show_message(texts.ENDING, texts.ENDING_HINT)
            self._set_screen(self.message, "ending")
        elif screen is Screen.RINGING:
            self.ringing.start(self.flow.timing.auto_answer)
            self._set_screen(self.ringing, "ringing")
        elif screen in (Screen.TROUBLE, Screen.WAITING):
            headline, hint = texts.TROUBLE[trouble or callflow.Trouble.CONNECT_FAILED]
            self.message.show_message(headline, hint, texts.BACK_BUTTON)
            self._set_screen(self.message, screen.value)

    # ------------------------------------------------------------------ the family

    def _presence_changed(self, others) -> None:
        quiet = in_quiet_hours(datetime.now(), self.config.presence.quiet_hours)
        self.feed(callflow.PresenceChanged(others, quiet))

    def _ring(self, on: bool) -> None:
        self._ringing_on = on
        if on:
            from PyQt6.QtMultimedia import QSoundEffect

            if self._ringer is None:
                self._ringer = QSoundEffect(self)
                self._ringer.setSource(QUrl.fromLocalFile(str(RING_SOUND)))
                self._ringer.setLoopCount(QSoundEffect.Loop.Infinite.value)
                self._ringer.setVolume(1.0)
            self._ringer.play()
        elif self._ringer is not None:
            self._ringer.stop()

    @property
    def ringing_sound_on(self) -> bool:
        """True while the flow wants the ring sound playing."""
        return self._ringing_on

    def _notify_family(self) -> None:
        family = self.config.family
        now = datetime.now().astimezone()
        if not family.contacts:
            return
        if not should_notify(self._last_notice, now, family.dedupe_minutes):
            log.info("family already told about this call a moment ago: nothing new sent")
            return
        self._last_notice = now
        item = notice(self.config, now)
        log.info("telling %d family contact(s) that %s is calling", len(family.contacts), self.config.resident)
        self.notifier.send(lambda: deliver(family.contacts, family.smtp, item))

    def _notice_delivered(self, results: list) -> None:
        for result in results:
            if not result.ok:
                self.health.incident(datetime.now().astimezone(), "notify_failed",
                                     f"{result.contact} by {result.channel}: {result.detail}")
        self._write_metrics()

    def open_practice(self) -> None:
        """The camera test: the own picture, a microphone bar and a test tone; no server needed."""
        from kiosk.web.practiceview import PracticeView

        view = PracticeView(self.config)
        self.practice = PracticeScreen(self.metrics, view)
        self.practice.done_tapped.connect(self._leave_staff)
        self._stack.addWidget(self.practice)
        self._set_screen(self.practice, "practice")
        self._staff_idle.start()
        log.info("camera test opened")

    def _close_practice(self) -> None:
        practice, self.practice = self.practice, None
        if practice is None:
            return
        self._stack.removeWidget(practice)
        practice.view.shutdown()
        practice.deleteLater()
        log.info("camera test closed")

    # ------------------------------------------------------------------ health

    def _online_changed(self, online: bool) -> None:
        self.feed(callflow.NetworkChanged(online))
        self._update_home_status()

    def _battery_reading(self, battery: Battery | None) -> None:
        self.health.battery_percent = battery.percent if battery else None
        self.health.battery_plugged = battery.plugged if battery else None
        action = power_action(battery, self.config.power, self.health.seconds_in_call(datetime.now().astimezone()))
        if action is not self._power_action:
            if action is not PowerAction.NONE:
                log.warning("battery at %.0f %%, not plugged in: %s", battery.percent, action.value)
                self.health.incident(datetime.now().astimezone(), f"battery_{action.value}", f"{battery.percent:.0f} %")
            self._power_action = action
            self._update_home_status()
        if action is PowerAction.SHUTDOWN and not self._shutting_down:
            self._shutting_down = True
            log.error("battery at %.0f %%: shutting the device down cleanly", battery.percent)
            self.run_shutdown()
        self._write_metrics()

    def _update_home_status(self) -> None:
        parts = []
        if self._power_action is not PowerAction.NONE:
            parts.append(texts.HOME_BATTERY)
        if self.flow is not None and not self.flow.online:
            parts.append(texts.HOME_OFFLINE)
        self.home.set_status("  ·  ".join(parts))

    def _write_metrics(self) -> None:
        path = self.config.health.metrics_file if self.config else None
        if path:
            atomic_write(Path(path), self.health.metrics().encode(), 0o644)

    def incidents_text(self) -> str:
        """The last incidents for the service screen, newest first."""
        if not self.health.incidents:
            return texts.SERVICE_NO_INCIDENTS
        return "\n".join(f"{i.at:%d.%m. %H:%M}  {i.kind}: {i.detail[:60]}" for i in self.health.incidents)

    def _announce_home(self) -> None:
        log.info("home screen shown for %s", self.config.resident)
        self.home_shown.emit()

    def _set_screen(self, widget: QWidget, name: str) -> None:
        if self._screen_name == "ringing" and name != "ringing":
            self.ringing.stop()
        if self._screen_name == "practice" and name != "practice":
            self._close_practice()
        self._stack.setCurrentWidget(widget)
        entering_sound = name in ("ringing", "connecting") and self._screen_name not in ("ringing", "connecting")
        self._screen_name = name
        if entering_sound:
            self.sound_ahead.emit()

    @property
    def screen_name(self) -> str:
        """Which screen is showing: home, connecting, in_call, ending, trouble, setup, pin or service."""
        return self._screen_name

    # ------------------------------------------------------------------ staff access

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() not in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            return False
        if not (obj is self.windowHandle() or (isinstance(obj, QWidget) and obj.window() is self)):
            return False
        # One tap reaches the window and then each widget it propagates through: count it once.
        if event.timestamp() == self._last_press:
            return False
        self._last_press = event.timestamp()
        if self._screen_name in ("home", "setup"):
            point = event.points()[0].globalPosition() if event.type() == QEvent.Type.TouchBegin \
                else event.globalPosition()
            size = self.metrics.px(CORNER_PERCENT)
            if self.corner.tap(time.monotonic(), QRect(0, 0, size, size).contains(self.mapFromGlobal(point.toPoint()))):
                self._open_pin_pad()
        elif self._screen_name in ("pin", "service", "practice"):
            self._staff_idle.start()
        return False

    def _open_pin_pad(self) -> None:
        if not self.pin_lock.enabled or self.flow is None or self.flow.state is not callflow.State.IDLE:
            return  # no PIN configured means no exit
        locked = self.pin_lock.seconds_locked(time.monotonic())
        self.pin_pad.reset(texts.PIN_LOCKED.format(minutes=max(1, round(locked / 60))) if locked else "")
        self._set_screen(self.pin_pad, "pin")
        self._staff_idle.start()
        log.info("staff PIN pad opened")

    def _pin_submitted(self, pin: str) -> None:
        now = time.monotonic()
        if self.pin_lock.check(pin, now):
            log.info("staff PIN accepted: service screen")
            self._open_service()
            return
        locked = self.pin_lock.seconds_locked(now)
        log.warning("staff PIN refused%s", " (pad locked)" if locked else "")
        self.pin_pad.reset(texts.PIN_LOCKED.format(minutes=max(1, round(locked / 60))) if locked else texts.PIN_WRONG)

    def _open_service(self) -> None:
        config = self.config
        self.service.set_value(texts.SERVICE_VERSION, __version__)
        self.service.set_value(texts.SERVICE_CONFIG, str(self.config_path))
        self.service.set_value(texts.SERVICE_SERVER, config.server)
        self.service.set_value(texts.SERVICE_ROOM, config.room)
        self.service.set_value(texts.SERVICE_REACHABLE, texts.SERVICE_CHECKING)
        self.service.set_value(texts.SERVICE_INCIDENTS, self.incidents_text())
        self._set_screen(self.service, "service")
        self._staff_idle.start()
        self._check_server()

    def _check_server(self) -> None:
        request = QNetworkRequest(QUrl(f"{self.config.server}/external_api.js"))
        request.setTransferTimeout(8000)
        reply = self._network.get(request)
        reply.sslErrors.connect(lambda errors: self._pinned_ssl(reply))
        reply.finished.connect(lambda: self._server_checked(reply))

    def _pinned_ssl(self, reply: QNetworkReply) -> None:
        if leaf_pinned(reply.sslConfiguration().peerCertificateChain(), reply.url(), self.config)[0]:
            reply.ignoreSslErrors()

    def _server_checked(self, reply: QNetworkReply) -> None:
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        if reply.error() == QNetworkReply.NetworkError.NoError:
            result = f"{texts.SERVICE_YES} (HTTP {status})"
        else:
            result = texts.SERVICE_NO.format(reason=reply.errorString())
        log.info("server check: %s", result)
        self.service.set_value(texts.SERVICE_REACHABLE, result)
        reply.deleteLater()

    def _leave_staff(self) -> None:
        self._staff_idle.stop()
        if self._screen_name in ("pin", "service", "practice"):
            self.show_screen(Screen.HOME)

    def _quit_by_staff(self) -> None:
        log.info("kiosk ended by staff")
        self.quit_requested.emit(0)

    # ------------------------------------------------------------------ support

    def support_screenshot(self) -> QPixmap:
        """What the window shows, with the video blanked for privacy during a call."""
        pixmap = self.grab()
        if self._screen_name == "in_call" and self.call_view is not None:
            painter = QPainter(pixmap)
            area = QRect(self.call_view.mapTo(self, QPoint(0, 0)), self.call_view.size())
            painter.fillRect(area, QColor(style.DARK))
            painter.setPen(QColor(style.ON_DARK))
            font = painter.font()
            font.setPixelSize(self.metrics.px(4))
            painter.setFont(font)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, texts.VIDEO_HIDDEN)
            painter.end()
        return pixmap

    def save_support_screenshot(self, directory: Path) -> Path | None:
        """Save the support screenshot as PNG in a directory, atomically; None when it cannot be written."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.support_screenshot().save(buffer, "PNG")
        path = Path(directory) / "screenshot.png"
        if atomic_write(path, bytes(buffer.data()), 0o640):
            log.info("support screenshot saved to %s (%s screen)", path, self._screen_name)
            return path
        return None

    # ------------------------------------------------------------------ lifecycle

    def shutdown(self) -> None:
        """Leave cleanly: no call left open, pages deleted before their profile."""
        self._closing = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        for timer in self._timers.values():
            timer.stop()
        if self.flow is not None:
            self.power.stop()
            self.notifier.stop()
            self._ring(False)
            if self.presence is not None:
                self.presence.stop()
            self._close_practice()
            if self.nightly is not None:
                self.nightly.stop()
        if self.call_view is not None:
            if self.flow is not None and self.flow.state is not callflow.State.IDLE:
                self.call_view.dispose(self.flow.call_id)
            self.call_view.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # A compositor's close request (or Alt+F4) must not end the kiosk: only staff can.
        if self._closing:
            event.accept()
        else:
            log.warning("close request ignored")
            event.ignore()


def _power_off() -> None:
    # logind lets the active local session power off; the unit's user is that session.
    if not QProcess.startDetached("systemctl", ["poweroff"]):
        log.error("could not start 'systemctl poweroff'")
