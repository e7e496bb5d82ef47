"""The health controller: network, battery, nightly restart and reboot, incidents, metrics file and usage log."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from PyQt6.QtCore import QObject, QProcess, QTimer, pyqtSignal

from kiosk import texts
from kiosk.config import KioskConfig
from kiosk.controllers.watchers import NetworkWatch, NightlyRestart, PowerWatch, read_battery, reboot_required_since
from kiosk.core.files import append_line, atomic_write, read_tail
from kiosk.health import REBOOT_MARKER, Battery, Health, PowerAction, last_call_end, power_action, usage_line
from kiosk.servertoken import expiry_warning, read_token, token_expiry
from kiosk.ui.screens import HomeScreen

log = logging.getLogger(__name__)

TOKEN_CHECK_MS = 24 * 3600 * 1000  # the login token's expiry is looked at once a day (and at start)


def power_off() -> None:
    """Ask systemd to power the device off (logind lets the active local session do it)."""
    if not QProcess.startDetached("systemctl", ["poweroff"]):
        log.error("could not start 'systemctl poweroff'")


def leave_reboot_marker(environ=os.environ) -> bool:
    """Tell the kiosk unit that this exit is a reboot for updates: an empty file in the unit's RuntimeDirectory, which
    its ExecStopPost (root) reboots on, and which systemd removes after every stop. False, logged, when the kiosk does
    not run under the unit (no RUNTIME_DIRECTORY) or the file cannot be written: then the exit is a plain restart."""
    folder = environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    if not folder:
        log.warning("reboot for updates: not started by the kiosk unit (no RUNTIME_DIRECTORY), restarting only")
        return False
    return atomic_write(Path(folder) / REBOOT_MARKER, b"", 0o644)


class HealthController(QObject):
    """Keeps the device's health figures and acts on them; the resident only ever sees a calm line at home."""

    online_changed = pyqtSignal(bool)  # the OS says the network is gone or back
    restart_due = pyqtSignal()  # the nightly restart window has come and no call runs
    reboot_due = pyqtSignal()  # the same, and an update needs a reboot (/run/reboot-required)

    def __init__(self, config: KioskConfig, home: HomeScreen, is_idle: Callable[[], bool],
                 battery: Callable[[], Battery | None] = read_battery, parent=None):
        super().__init__(parent)
        self.config = config
        self.home = home
        self.is_idle = is_idle  # no call, nothing ringing, no staff screen: only then a nightly restart or reboot
        self.figures = Health(device=config.device_id, home=config.home, started_at=datetime.now(timezone.utc),
                              last_call_end=self._last_call_logged())
        self.run_shutdown: Callable[[], None] = power_off
        self._power_action = PowerAction.NONE
        self._shutting_down = False
        self.network = NetworkWatch(self)
        self.network.online_changed.connect(self._online_changed)
        self._online = self.network.online
        self.power = PowerWatch(battery, self)
        self.power.reading.connect(self._battery_reading)
        self.nightly: NightlyRestart | None = None
        if config.health.nightly_restart:
            self.nightly = NightlyRestart(config.health.nightly_restart, is_idle,
                                          reboot_required=reboot_required_since, parent=self)
            self.nightly.due.connect(self.restart_due)
            self.nightly.reboot_due.connect(self.reboot_due)
        self._token_timer = QTimer(self, interval=TOKEN_CHECK_MS)
        self._token_timer.timeout.connect(self.check_token)
        if config.jwt_file:
            self.figures.token_configured = True
            self.check_token()
            self._token_timer.start()
        QTimer.singleShot(0, self.power.check)
        self.write_metrics()

    def _last_call_logged(self) -> datetime | None:
        """The last call before this start, from the usage log's end (or its rotated part): the hub's "no call for
        14 days" must not start again at every nightly restart."""
        if not self.config.health.usage_log:
            return None
        path = Path(self.config.health.usage_log)
        for part in (path, path.with_name(path.name + ".1")):
            end = last_call_end(read_tail(part))
            if end is not None:
                return end
        return None

    @property
    def online(self) -> bool:
        """What the OS last said about the network (unknown counts as online)."""
        return self._online

    # ------------------------------------------------------------------ what happens to calls

    def incident(self, kind: str, detail: str) -> None:
        """Something staff should hear about: the service screen's list and the metrics."""
        self.figures.incident(datetime.now().astimezone(), kind, detail)
        self.write_metrics()

    def call_started(self) -> None:
        """A call with the family began."""
        self.figures.call_started(datetime.now().astimezone())
        self.write_metrics()

    def call_ended(self, others_max: int) -> None:
        """The call is over: count it, and add a nameless line to the usage log."""
        record = self.figures.call_ended(datetime.now().astimezone(), others_max)
        if record is not None and self.config.health.usage_log:
            append_line(Path(self.config.health.usage_log), usage_line(record))
        self.write_metrics()

    def incidents_text(self) -> str:
        """The last incidents for the service screen, newest first."""
        if not self.figures.incidents:
            return texts.SERVICE_NO_INCIDENTS
        return "\n".join(f"{i.at:%d.%m. %H:%M}  {i.kind}: {i.detail[:60]}" for i in self.figures.incidents)

    def check_token(self, now: datetime | None = None) -> None:
        """Read the login token's expiry (metrics, service screen); within 30 days of it, one incident (a day)."""
        now = now or datetime.now(timezone.utc)
        token = read_token(self.config.jwt_file)
        self.figures.token_expiry = token_expiry(token)
        if token is None or self.figures.token_expiry is None:
            detail = f"the server token file {self.config.jwt_file} cannot be read or holds no expiry"
        else:
            detail = expiry_warning(self.figures.token_expiry, now)
        if detail is not None:
            log.warning("%s", detail)
            self.figures.incident(now.astimezone(), "token_expiring", detail)
        self.write_metrics()

    # ------------------------------------------------------------------ the device

    def _online_changed(self, online: bool) -> None:
        self._online = online
        self.online_changed.emit(online)
        self._update_home_status()

    def _battery_reading(self, battery: Battery | None) -> None:
        self.figures.battery_percent = battery.percent if battery else None
        self.figures.battery_plugged = battery.plugged if battery else None
        action = power_action(battery, self.config.power, self.figures.seconds_in_call(datetime.now().astimezone()))
        if action is not self._power_action:
            if action is not PowerAction.NONE:
                log.warning("battery at %.0f %%, not plugged in: %s", battery.percent, action.value)
                self.figures.incident(datetime.now().astimezone(), f"battery_{action.value}", f"{battery.percent:.0f} %")
            self._power_action = action
            self._update_home_status()
        if action is PowerAction.SHUTDOWN and not self._shutting_down:
            self._shutting_down = True
            log.error("battery at %.0f %%: shutting the device down cleanly", battery.percent)
            self.run_shutdown()
        self.write_metrics()

    def _update_home_status(self) -> None:
        parts = []
        if self._power_action is not PowerAction.NONE:
            parts.append(texts.HOME_BATTERY)
        if not self._online:
            parts.append(texts.HOME_OFFLINE)
        self.home.set_status("  ·  ".join(parts))

    def write_metrics(self) -> None:
        """The node_exporter textfile, written atomically (a full disk is logged, never raised)."""
        if self.config.health.metrics_file:
            atomic_write(Path(self.config.health.metrics_file), self.figures.metrics().encode(), 0o644)

    def shutdown(self) -> None:
        """No more readings or checks; the metrics say the kiosk has stopped (the hub alerts unless it comes back)."""
        self.power.stop()
        self._token_timer.stop()
        if self.nightly is not None:
            self.nightly.stop()
        self.figures.running = False
        self.write_metrics()
