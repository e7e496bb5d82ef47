"""The staff controller: the hidden corner, the PIN pad, the service screen with its server check, the camera test."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from PyQt6.QtCore import QObject, QPointF, QTimer, pyqtSignal

from kiosk import __version__, texts
from kiosk.releaseswitch import running_release
from kiosk.config import KioskConfig
from kiosk.screen import STAFF_SCREENS, Screen
from kiosk.servertoken import days_left, read_token, token_expiry
from kiosk.core.files import state_dir
from kiosk.staff import PIN_LOCK_FILE, CornerTaps, PinLock
from kiosk.ui.window import KioskWindow
from kiosk.controllers.watchers import Background
from kiosk.core.servercheck import FAIL, WARN, ServerReport
from kiosk.core.servercheck_child import check_server_in_child

log = logging.getLogger(__name__)

STAFF_IDLE_MS = 90_000  # a PIN pad or service screen left alone returns home by itself
CORNER_PERCENT = 14  # the hidden corner: this share of the screen height, in the top-left
SERVER_CHECK_MS = 8000  # per request of the server check
SERVER_CHECK_SHOWN = 90  # characters of a failure's reason on the service screen (the journal has all)


def token_text(jwt_file: str | None, now: datetime) -> str:
    """The service screen's line on the server's login token: until when it holds and the days left."""
    if jwt_file is None:
        return "–"
    expiry = token_expiry(read_token(jwt_file))
    if expiry is None:
        return texts.SERVICE_TOKEN_UNREADABLE
    if expiry <= now:
        return f"{texts.SERVICE_TOKEN_EXPIRED} ({expiry.astimezone():%d.%m.%Y})"
    return texts.SERVICE_TOKEN_DAYS.format(date=f"{expiry.astimezone():%d.%m.%Y}", days=days_left(expiry, now))


def server_check_text(report: ServerReport | None) -> str:
    """The service screen's line for a server check, with every finding in the journal."""
    if report is None:
        return texts.SERVICE_NO.format(reason="the check itself failed (see the journal)")
    for finding in report.findings:
        (log.warning if finding.status in (FAIL, WARN) else log.info)("server check: %s", finding.line())
    failed = [f for f in report.findings if f.status == FAIL]
    if failed:
        reason = "; ".join(f"{f.check}: {f.message}" for f in failed)
        return texts.SERVICE_NO.format(reason=reason if len(reason) <= SERVER_CHECK_SHOWN
                                       else reason[:SERVER_CHECK_SHOWN - 1] + "…")
    warned = [f.check for f in report.findings if f.status == WARN]
    counts = f"{report.count('ok')} ok" + (f", {len(warned)} warn: {', '.join(warned)}" if warned else "")
    return f"{texts.SERVICE_YES} ({counts})"


class StaffController(QObject):
    """Five taps in the corner, a PIN, and the service screen; only while the resident is not in a call."""

    reload_requested = pyqtSignal()
    quit_requested = pyqtSignal(int)

    def __init__(self, config: KioskConfig, config_path: Path, window: KioskWindow,
                 may_open: Callable[[], bool], incidents: Callable[[], str], parent=None,
                 pin_state: Path | None = None):
        super().__init__(parent)
        self.config = config
        self.config_path = config_path
        self.window = window
        self._may_open = may_open
        self._incidents = incidents
        self.corner = CornerTaps()
        # The lockout survives a restart: its state lives in the kiosk's state folder (wall-clock times).
        self.pin_lock = PinLock(config.admin_pin_hash, pin_state or state_dir() / PIN_LOCK_FILE,
                                str(config_path))
        self._idle = QTimer(self, singleShot=True, interval=STAFF_IDLE_MS)
        self._idle.timeout.connect(self.leave)
        self._worker: Background | None = None  # the server check's thread, made when staff first need it
        self._check_id = 0  # only the newest check may write to the screen
        window.pressed.connect(self._pressed)
        window.screen_changed.connect(self._screen_changed)
        window.pin_pad.submitted.connect(self._pin_submitted)
        window.pin_pad.cancelled.connect(self.leave)
        window.service.back_tapped.connect(self.leave)
        window.service.reload_tapped.connect(self._reload)
        window.service.quit_tapped.connect(self._quit)
        window.service.practice_tapped.connect(self.open_practice)

    def _pressed(self, point: QPointF) -> None:
        screen = self.window.screen
        if screen is Screen.HOME:
            in_corner = self.window.corner_rect(CORNER_PERCENT).contains(point.toPoint())
            if self.corner.tap(time.monotonic(), in_corner):
                self.open_pin_pad()
        elif screen in STAFF_SCREENS:
            self._idle.start()  # staff are still at it

    def open_pin_pad(self) -> None:
        """The PIN pad, when a PIN is configured and no call runs (no PIN: no way out on the device)."""
        if not self.pin_lock.enabled or not self._may_open():
            return
        locked = self.pin_lock.seconds_locked(time.time())
        self.window.pin_pad.reset(texts.PIN_LOCKED.format(minutes=max(1, round(locked / 60))) if locked else "")
        self.window.show_screen(Screen.PIN)
        self._idle.start()
        log.info("staff PIN pad opened")

    def _pin_submitted(self, pin: str) -> None:
        now = time.time()
        if self.pin_lock.check(pin, now):
            log.info("staff PIN accepted: service screen")
            self.open_service()
            return
        locked = self.pin_lock.seconds_locked(now)
        log.warning("staff PIN refused%s", " (pad locked)" if locked else "")
        message = texts.PIN_LOCKED.format(minutes=max(1, round(locked / 60))) if locked else texts.PIN_WRONG
        self.window.pin_pad.reset(message)

    def open_service(self) -> None:
        """The service screen: version, config, server, room, incidents, and whether the server answers."""
        service, config = self.window.service, self.config
        release = running_release()  # a device that follows the city's releases shows the release it runs
        service.set_value(texts.SERVICE_VERSION, __version__ if release is None else f"{release} (kiosk {__version__})")
        service.set_value(texts.SERVICE_CONFIG, str(self.config_path))
        service.set_value(texts.SERVICE_SERVER, config.server)
        service.set_value(texts.SERVICE_ROOM, config.room)
        service.set_value(texts.SERVICE_REACHABLE, texts.SERVICE_CHECKING)
        service.set_value(texts.SERVICE_TOKEN, token_text(config.jwt_file, datetime.now(timezone.utc)))
        service.set_value(texts.SERVICE_INCIDENTS, self._incidents())
        self.window.show_screen(Screen.SERVICE)
        self._idle.start()
        self._check_server()

    def _check_server(self) -> None:
        """palim-provision server-check's checks (kiosk.core.servercheck), in a worker thread: TLS with the
        device's trust store or its pins, external_api.js, config.js, interface_config.js, presence."""
        if self._worker is None:
            self._worker = Background("server-check", self)
        self._check_id += 1
        check_id, config = self._check_id, self.config

        def work() -> ServerReport:
            return check_server_in_child(config.server, config.tls_pins, token=read_token(config.jwt_file),
                                         presence_url=config.presence.url, timeout=SERVER_CHECK_MS / 1000)

        self._worker.submit(work, lambda report: self._server_checked(check_id, report))

    def _abort_server_check(self) -> None:
        """A check still running is dropped unseen (its answer would reach a screen that may be gone)."""
        self._check_id += 1

    def _server_checked(self, check_id: int, report: ServerReport | None) -> None:
        if check_id != self._check_id:
            return
        self.window.service.set_value(texts.SERVICE_REACHABLE, server_check_text(report))

    def open_practice(self) -> None:
        """The camera test: the own picture, a microphone bar and a test tone; no server needed."""
        # Imported on demand: its page is built only when staff open it.
        from kiosk.web.practiceview import PracticeView

        self.window.open_practice(PracticeView(self.config)).done_tapped.connect(self.leave)
        self._idle.start()
        log.info("camera test opened")

    def _screen_changed(self, old: Screen | None, new: Screen) -> None:
        if old is Screen.PRACTICE and new is not Screen.PRACTICE:
            self._close_practice()

    def _close_practice(self) -> None:
        view = self.window.close_practice()
        if view is not None:
            view.shutdown()
            log.info("camera test closed")

    def leave(self) -> None:
        """Back home from any staff screen."""
        self._idle.stop()
        if self.window.screen in STAFF_SCREENS:
            self.window.show_screen(Screen.HOME)

    def _reload(self) -> None:
        log.info("reloading the config by staff request")
        self.reload_requested.emit()

    def _quit(self) -> None:
        log.info("kiosk ended by staff")
        self.quit_requested.emit(0)

    def shutdown(self) -> None:
        """No staff screen stays open."""
        self._abort_server_check()
        if self._worker is not None:
            self._worker.stop()
        self._idle.stop()
        self._close_practice()
