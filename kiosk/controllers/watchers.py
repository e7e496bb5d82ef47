"""Qt-side watchers of the world outside the call: network, battery, nightly restart, presence, background work."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtNetwork import QNetworkInformation

from kiosk.core.boundedhttp import FetchError
from kiosk.family import parse_presence, presence_names
from kiosk.health import Battery, in_time_window, next_restart_check, next_window_start, reboot_due, restart_due
from kiosk.web.pins import fetch_json

log = logging.getLogger(__name__)

POWER_CHECK_MS = 60_000  # a battery drains over minutes: once a minute is plenty and costs nothing
# Debian's sign that an installed update needs a reboot (a kernel's postinst, through unattended-upgrades' hook).
REBOOT_REQUIRED = "/run/reboot-required"


class NetworkWatch(QObject):
    """Tells when the OS says the device lost or regained its network; no polling (NetworkManager or netlink)."""

    online_changed = pyqtSignal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._info = None
        if QNetworkInformation.loadDefaultBackend() and QNetworkInformation.instance() is not None:
            self._info = QNetworkInformation.instance()
            self._info.reachabilityChanged.connect(self._changed)
            log.info("network watch: %s backend", self._info.backendName())
        else:
            log.warning("network watch: no backend; offline detection is off")

    @property
    def online(self) -> bool:
        """False only when the OS is sure there is no network; unknown counts as online."""
        if self._info is None:
            return True
        return self._info.reachability() != QNetworkInformation.Reachability.Disconnected

    def _changed(self, reachability) -> None:
        log.info("network reachability: %s", reachability.name)
        self.online_changed.emit(reachability != QNetworkInformation.Reachability.Disconnected)


def read_battery() -> Battery | None:
    """The battery as psutil sees it; None for a desktop or when it cannot be read."""
    import psutil

    try:
        reading = psutil.sensors_battery()
    except (OSError, RuntimeError, AttributeError) as exc:
        log.warning("battery cannot be read: %s", exc)
        return None
    if reading is None:
        return None
    return Battery(percent=float(reading.percent), plugged=bool(reading.power_plugged))


class PowerWatch(QObject):
    """Reads the battery once a minute and reports it."""

    reading = pyqtSignal(object)  # Battery | None

    def __init__(self, read: Callable[[], Battery | None] = read_battery, parent=None):
        super().__init__(parent)
        self.read = read
        self._timer = QTimer(self, interval=POWER_CHECK_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        """Read now and report."""
        self.reading.emit(self.read())

    def stop(self) -> None:
        """No more readings."""
        self._timer.stop()


def reboot_required_since(path: str = REBOOT_REQUIRED) -> datetime | None:
    """When an update asked for a reboot (the flag file's time, local like datetime.now()), None while none asks."""
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime)
    except OSError:
        return None


class NightlyRestart(QObject):
    """Once a night inside the configured window, only when the kiosk is idle: a restart, or, when an update needs
    one, a reboot (kiosk.health.reboot_due decides; the kiosk unit does the reboot)."""

    due = pyqtSignal()
    reboot_due = pyqtSignal()
    RETRY_MS = 60_000  # inside the window: look again in a minute (a call may end, an update may finish)

    def __init__(self, spec: str, is_idle: Callable[[], bool], clock: Callable[[], datetime] = datetime.now,
                 reboot_required: Callable[[], datetime | None] | None = None, parent=None):
        super().__init__(parent)
        self._spec = spec
        self._is_idle = is_idle
        self._clock = clock
        # None: nothing ever asks for a reboot (tests); the kiosk passes reboot_required_since.
        self._reboot_required = reboot_required or (lambda: None)
        self._started = clock()
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._check)
        self._schedule()

    def _schedule(self, after_check: bool = False) -> None:
        now = self._clock()
        # Right after a check outside the window, wait for the next night rather than look again at once.
        when = next_window_start(now, self._spec) if after_check else next_restart_check(now, self._spec)
        self._timer.start(max(1000, round((when - now).total_seconds() * 1000)))

    def _check(self) -> None:
        now = self._clock()
        if not in_time_window(now, self._spec):
            self._schedule(after_check=True)
            return
        idle = self._is_idle()
        if reboot_due(now, self._started, self._spec, self._reboot_required(), idle):
            log.info("reboot for updates: %s is there (window %s)", REBOOT_REQUIRED, self._spec)
            self.reboot_due.emit()
            return
        if idle and restart_due(now, self._started, self._spec):
            log.info("nightly restart (window %s)", self._spec)
            self.due.emit()
            return
        self._timer.start(self.RETRY_MS)

    def stop(self) -> None:
        """No more checks."""
        self._timer.stop()


class Background(QObject):
    """Runs blocking work in one daemon worker thread and hands results back in the GUI thread.

    Results come back through a queue that a GUI-thread timer drains while work is pending: a worker never touches
    a Qt object, so a window closed mid-request cannot be hit by a late signal. The worker is a daemon thread, not a
    ThreadPoolExecutor (whose threads the interpreter joins at exit): an unanswered request never holds up quitting."""

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        import queue

        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._pending = 0
        self._stopped = False
        self._drain = QTimer(self, interval=100)
        self._drain.timeout.connect(self._deliver)
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], object], done: Callable[[object], None]) -> None:
        """Run `work` in the worker; call `done(result)` in the GUI thread (result None if work raised)."""
        if self._stopped:
            return
        self._pending += 1
        self._drain.start()
        self._jobs.put((work, done))

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self._stopped:
                return  # stopped: jobs still waiting are dropped, never started
            work, done = job
            try:
                result = work()
            except Exception:  # noqa: BLE001 (background work must never take the kiosk down)
                log.exception("background work failed")
                result = None
            self._results.put((done, result))

    def _deliver(self) -> None:
        while not self._results.empty():
            done, result = self._results.get()
            self._pending -= 1
            if not self._stopped:
                done(result)
        if self._pending <= 0:
            self._drain.stop()

    def stop(self) -> None:
        """Start nothing new and deliver nothing more; what runs finishes unseen, and never delays an exit."""
        self._stopped = True
        self._drain.stop()
        self._jobs.put(None)


class PresenceWatch(QObject):
    """Asks the server every few seconds whether someone waits in the room; a worker thread does the HTTP."""

    changed = pyqtSignal(object)  # others in the room: int, or None when unknown
    names = pyqtSignal(object)  # right before `changed`: their display names (safe_name) from /room; None: none

    MAX_BACKOFF_S = 300

    def __init__(self, url: str | Callable[[], str], interval_s: int, server: str, pins: tuple[str, ...],
                 parent=None, *, forbidden_means_empty: Callable[[], bool] | None = None):
        super().__init__(parent)
        self._url = url  # a callable is asked afresh for every request (a token in it may have been renewed)
        # Asked at each 403: whether it means "nobody there" (family.parse_presence says why it may).
        self._forbidden_means_empty = forbidden_means_empty
        self._interval = interval_s
        self._server = server
        self._pins = pins
        self._failures = 0
        self._busy = False
        self._paused = False
        self._worker = Background("presence", self)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._ask)
        self._timer.start(1000)

    def pause(self, paused: bool) -> None:
        """No polling while a call runs (the resident is busy; the server is busy enough)."""
        if paused == self._paused:
            return
        self._paused = paused
        if paused:
            self._timer.stop()
        elif not self._busy:
            self._timer.start(1000)

    def stop(self) -> None:
        """No more questions."""
        self._paused = True
        self._timer.stop()
        self._worker.stop()

    def _ask(self) -> None:
        if self._paused:
            return
        self._busy = True
        self._worker.submit(self._fetch, self._answered)

    def _fetch(self) -> tuple[int | None, tuple[str, ...] | None] | None:
        try:
            url = self._url() if callable(self._url) else self._url
            status, body = fetch_json(url, self._server, self._pins)
            empty = status == 403 and self._forbidden_means_empty is not None and self._forbidden_means_empty()
        except FetchError as exc:  # too slow, too big, not JSON: its message says which (never the URL or token)
            log.warning("presence check failed: %s", exc)
            return None
        except Exception as exc:  # noqa: BLE001 (any failure of the check means "unknown", never a crash)
            log.warning("presence check failed: %s", type(exc).__name__)
            return None
        return parse_presence(status, body, empty), presence_names(status, body)

    def _answered(self, answer) -> None:
        others, names = answer if answer is not None else (None, None)
        self._busy = False
        self.names.emit(names)  # never logged: strangers type them
        self._failures = 0 if others is not None else self._failures + 1
        self.changed.emit(others)
        if not self._paused:
            wait = min(self.MAX_BACKOFF_S, self._interval * 2 ** min(self._failures, 5))
            self._timer.start(wait * 1000)


class Notifier(QObject):
    """Sends the family notice in a worker thread; reports the deliveries back in the GUI thread."""

    delivered = pyqtSignal(list)  # list[notify.Delivery]

    def __init__(self, parent=None):
        super().__init__(parent)
        self._worker = Background("notify", self)

    def send(self, job: Callable[[], list]) -> None:
        """Run a delivery job (notify.deliver bound to its arguments) in the background."""
        self._worker.submit(job, lambda results: self.delivered.emit(results or []))

    def stop(self) -> None:
        """Start no new deliveries."""
        self._worker.stop()
