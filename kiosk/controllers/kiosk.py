"""The kiosk put together: one window and its controllers, wired in one place that reads like a diagram."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from kiosk import texts
from kiosk.callflow import CallFlow, Timing
from kiosk.config import KioskConfig, config_file_bytes
from kiosk.controllers.calls import CallController
from kiosk.controllers.configwatch import ConfigWatch
from kiosk.controllers.family import FamilyController
from kiosk.controllers.health import HealthController, leave_reboot_marker
from kiosk.controllers.night import NightController
from kiosk.controllers.speaker import SpeakerController
from kiosk.controllers.staff import StaffController
from kiosk.controllers.watchers import read_battery
from kiosk.core.files import state_dir
from kiosk.core.style import Metrics
from kiosk.health import REBOOT_EXIT_CODE, Battery
from kiosk.screen import STAFF_SCREENS, Screen
from kiosk.speaker import CallVolume
from kiosk.ui.window import KioskWindow
from kiosk.volume import VolumeFloor
from kiosk.web.callview import CallView

log = logging.getLogger(__name__)

AUTO_ANSWER_S = 10.0  # the visible countdown before the kiosk answers by itself


class Kiosk(QObject):
    """A configured kiosk, or the calm "not set up yet" screen when there is no usable config."""

    home_shown = pyqtSignal()  # READY=1
    sound_ahead = pyqtSignal()  # check the volume floor
    quit_requested = pyqtSignal(int)
    reload_requested = pyqtSignal()

    def __init__(self, metrics: Metrics, config: KioskConfig | None, config_path: Path,
                 support_contact: str | None = None, language: str | None = None,
                 battery: Callable[[], Battery | None] = read_battery, loaded: bytes | None = None, parent=None):
        super().__init__(parent)
        # Before any screen reads a text; without a usable config, the language its file names (or German).
        texts.use(config.language if config is not None else language or "de")
        self.config = config
        self.calls = self.family = self.health = self.staff = self.speaker = self.night = None
        # `loaded`: the file's bytes as read just before the config was made from them (the app), so that a change
        # while the kiosk starts is seen; without them (tests), the bytes as they are now.
        self.config_watch = ConfigWatch(config_path, loaded if loaded is not None else config_file_bytes(config_path),
                                        config is not None, lambda: self.idle, self)
        self.config_watch.reload_requested.connect(self.reload_requested)
        if config is None:
            self.window = KioskWindow(metrics, None)
            self._wire_window()
            self.window.show_setup_needed(support_contact)
            return
        # The device's font scale comes with its config (ui.scale); the screen's size and DPI with the metrics.
        metrics = replace(metrics, scale=config.ui.scale)
        auto_answer = AUTO_ANSWER_S if config.presence.auto_answer else None
        view = CallView(config)
        self.window = window = KioskWindow(metrics, config, view)
        self._wire_window()
        flow = CallFlow(Timing(connect=float(config.jitsi.connect_timeout_s),
                               max_crashes=config.health.max_renderer_crashes, auto_answer=auto_answer,
                               nobody=60.0 * config.family.wait_minutes))
        self.calls = calls = CallController(flow, view, window, self)
        # Idle for the nightly restart and reboot as for a reload: no call, nothing ringing, no staff screen.
        self.health = health = HealthController(config, window.home, lambda: self.idle, battery, self)
        self.family = family = FamilyController(config, self)
        self.staff = staff = StaffController(config, config_path, window, lambda: calls.idle,
                                             health.incidents_text, self)
        calls.incident.connect(health.incident)
        calls.call_started.connect(health.call_started)
        calls.call_ended.connect(health.call_ended)
        calls.ring.connect(family.ring)
        calls.ring.connect(self._ringing)
        family.told.connect(window.set_told)
        calls.family_wanted.connect(family.tell_family)
        calls.state_changed.connect(family.call_state)
        calls.exit_requested.connect(self.quit_requested)
        family.waiting_changed.connect(window.ringing.show_waiting)  # before presence_changed may show it
        family.presence_changed.connect(calls.presence_changed)
        family.incident.connect(health.incident)
        health.online_changed.connect(calls.network_changed)
        audio = config.audio
        self.speaker = SpeakerController(CallVolume(audio.call_volume, audio.min_volume, state_dir()),
                                         VolumeFloor(audio.min_volume), window.call, self)
        window.screen_changed.connect(self.speaker.screen_changed)
        self.night = NightController(config.night, window, lambda: calls.idle, parent=self)
        health.restart_due.connect(self._restart)
        health.reboot_due.connect(self._reboot)
        staff.reload_requested.connect(self.reload_requested)
        staff.quit_requested.connect(self.quit_requested)
        # Every way back to rest (a call ended, the ringing stopped, staff left) ends on a screen change.
        window.screen_changed.connect(self.config_watch.retry)
        if not health.online:
            calls.network_changed(False)
        window.show_screen(Screen.HOME)

    @property
    def idle(self) -> bool:
        """True when a reload cuts nothing: no call, nothing ringing, no staff screen (or only "not set up")."""
        return self.calls is None or (self.calls.idle and self.window.screen not in STAFF_SCREENS)

    def _ringing(self, on: bool) -> None:
        if on:
            self.window.set_told(None)  # a call answered: nobody was told of it (the family is there, or was)

    def _restart(self) -> None:
        self.quit_requested.emit(0)  # systemd starts the kiosk again: the nightly fresh start

    def _reboot(self) -> None:
        # The unit's ExecStopPost reboots on the marker (if an update still asks and the clock is in the window);
        # without it this is the nightly restart.
        self.quit_requested.emit(REBOOT_EXIT_CODE if leave_reboot_marker() else 0)

    def _wire_window(self) -> None:
        self.window.home_shown.connect(self._home_shown)
        self.window.sound_ahead.connect(self.sound_ahead)

    def _home_shown(self) -> None:
        log.info("home screen shown for %s (greeting %s)", self.config.resident, self.config.first_name)
        self.home_shown.emit()

    def shutdown(self) -> None:
        """Leave cleanly: no call left open, no reload asked for, pages deleted before their profile."""
        self.config_watch.shutdown()
        self.window.shutdown()
        if self.calls is not None:
            self.health.shutdown()
            self.family.shutdown()
            self.staff.shutdown()
            self.speaker.shutdown()
            self.night.shutdown()
            self.calls.shutdown()
