"""Qt-side watchers of the world outside the call: network, battery, the nightly restart window."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtNetwork import QNetworkInformation

from kiosk.health import Battery, next_restart_check, next_window_start, restart_due

log = logging.getLogger(__name__)

POWER_CHECK_MS = 60_000  # a battery drains over minutes: once a minute is plenty and costs nothing


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


class NightlyRestart(QObject):
    """Asks for a restart once a night inside the configured window, only when the kiosk is idle."""

    due = pyqtSignal()
    RETRY_MS = 60_000  # busy in a call: look again in a minute

    def __init__(self, spec: str, is_idle: Callable[[], bool], clock: Callable[[], datetime] = datetime.now,
                 parent=None):
        super().__init__(parent)
        self._spec = spec
        self._is_idle = is_idle
        self._clock = clock
        self._started = clock()
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._check)
        self._schedule()

    def _schedule(self, after_check: bool = False) -> None:
        now = self._clock()
        # Right after a check that found nothing due, wait for the next night rather than look again at once.
        when = next_window_start(now, self._spec) if after_check else next_restart_check(now, self._spec)
        self._timer.start(max(1000, round((when - now).total_seconds() * 1000)))

    def _check(self) -> None:
        now = self._clock()
        if restart_due(now, self._started, self._spec):
            if self._is_idle():
                log.info("nightly restart (window %s)", self._spec)
                self.due.emit()
                return
            self._timer.start(self.RETRY_MS)
            return
        self._schedule(after_check=True)

    def stop(self) -> None:
        """No more checks."""
        self._timer.stop()
