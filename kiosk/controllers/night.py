"""The night controller: at home during night.dark_hours the screen goes black and its light off; a touch wakes it
to the home screen (that touch starts nothing), and a ringing family wakes it because the ringing screen shows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from PyQt6.QtCore import QObject, QTimer

from kiosk.backlight import Backlight
from kiosk.config import NightOptions
from kiosk.night import awake_until, should_darken
from kiosk.screen import Screen
from kiosk.ui.window import KioskWindow

log = logging.getLogger(__name__)

CHECK_MS = 30_000  # how often it looks at the clock (the windows are in minutes)


class NightController(QObject):
    """Darkens an idle home screen at night and lights it again for a touch, a ring, or the morning."""

    def __init__(self, options: NightOptions, window: KioskWindow, is_idle: Callable[[], bool],
                 backlight: Backlight | None = None, clock: Callable[[], datetime] = datetime.now, parent=None):
        super().__init__(parent)
        self.options = options
        self.window = window
        self.is_idle = is_idle
        self.backlight = backlight or Backlight(options.backlight_dir)
        self.clock = clock
        self._awake_until: datetime | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="night")  # a compositor tool may hang
        self._timer = QTimer(self, interval=CHECK_MS)
        self._timer.timeout.connect(self.check)
        window.night.woken.connect(self._woken)
        window.screen_changed.connect(self._screen_changed)
        if options.dark_hours:
            self._timer.start()
            QTimer.singleShot(0, self.check)  # started at night (a restart, a reload): dark at once, not in 30 s

    @property
    def dark(self) -> bool:
        """True while the night screen shows."""
        return self.window.screen is Screen.NIGHT

    def check(self) -> None:
        """Dark now, if it is night and nothing goes on; light again in the morning."""
        now = self.clock()
        at_home = self.window.screen is Screen.HOME and self.is_idle()
        if at_home and should_darken(now, self.options.dark_hours, at_home, self._awake_until):
            log.info("night: the screen goes dark (night.dark_hours)")
            self.window.show_screen(Screen.NIGHT)
        elif self.dark and not should_darken(now, self.options.dark_hours, True, None):
            log.info("night is over: the screen lights up")
            self.window.show_screen(Screen.HOME)

    def _woken(self) -> None:
        # A touch on the black screen: home, and a while before it goes dark again; the touch itself starts nothing.
        self._awake_until = awake_until(self.clock(), self.options.awake_minutes)
        log.info("night: woken by a touch")
        self.window.show_screen(Screen.HOME)

    def _screen_changed(self, old, new) -> None:
        if new is Screen.NIGHT and old is not Screen.NIGHT:
            self._worker.submit(self._off)
        elif old is Screen.NIGHT and new is not Screen.NIGHT:
            if new is not Screen.HOME:  # a ringing family woke it: a while awake after the ringing too
                self._awake_until = awake_until(self.clock(), self.options.awake_minutes)
            self._worker.submit(self.backlight.on)

    def _off(self) -> None:
        how = self.backlight.off()
        log.info("night: screen dark (%s)", how)

    def shutdown(self) -> None:
        """Stop looking at the clock; the light goes back on (a restart must not leave a dark screen)."""
        self._timer.stop()
        if self.dark:
            self._worker.submit(self.backlight.on)
        self._worker.shutdown(wait=True, cancel_futures=False)
