"""The speaker controller: a call starts at the kept level, − / + change it; the tools run off the GUI thread."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from PyQt6.QtCore import QObject

from kiosk.screen import Screen
from kiosk.speaker import CallVolume
from kiosk.ui.screens import CallScreen
from kiosk.volume import VolumeFloor

log = logging.getLogger(__name__)


class SpeakerController(QObject):
    """Sets the speaker when a call shows and on each − / +, one command at a time, never blocking a tap."""

    def __init__(self, volume: CallVolume, speaker: VolumeFloor, call: CallScreen, parent=None):
        super().__init__(parent)
        self.volume = volume
        self.speaker = speaker
        self.call = call
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speaker")  # wpctl/amixer may hang
        call.volume_down_tapped.connect(self.quieter)
        call.volume_up_tapped.connect(self.louder)
        call.show_level(volume.level)

    def screen_changed(self, old, new) -> None:
        """A call is about to be heard: the speaker to the kept level."""
        if new is Screen.IN_CALL and old is not Screen.IN_CALL:
            self.call.show_level(self.volume.level)
            self._set(self.volume.level)

    def quieter(self) -> None:
        """The resident tapped −."""
        self._change(-1)

    def louder(self) -> None:
        """The resident tapped +."""
        self._change(+1)

    def _change(self, direction: int) -> None:
        level = self.volume.change(direction)
        self.call.show_level(level)
        log.info("call volume %d %% (the resident's choice, kept for the next call)", level)
        self._set(level)

    def _set(self, level: int) -> None:
        self._worker.submit(self.speaker.set_to, level)

    def shutdown(self) -> None:
        """No more commands; one already running may finish."""
        self._worker.shutdown(wait=False, cancel_futures=True)
