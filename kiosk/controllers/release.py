"""The release watch: a newer release of the kiosk waits on disk; at the next quiet moment the kiosk leaves the
marker for the release switch (kiosk/releaseswitch.py, root) and quits, as for the config reload."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from kiosk.core.files import atomic_write
from kiosk.releaseswitch import STATE, newer, read_state, running_release

log = logging.getLogger(__name__)

SWITCH_MARKER = "switch-release"  # in the unit's RuntimeDirectory; its ExecStopPost runs the switch on it
LOOK_MS = 60_000  # the next idle minute
RECENT = timedelta(days=7)  # rollbacks younger than this are shown on the service screen after a start


class ReleaseWatch(QObject):
    """Reads the release switch's state; asks for a switch when a newer release waits and the kiosk is idle."""

    switch_due = pyqtSignal()
    incident = pyqtSignal(str, str)  # kind, detail: a rollback the switch recorded

    def __init__(self, is_idle: Callable[[], bool], state_path: Path = Path(STATE), release: str | None = None,
                 parent=None):
        super().__init__(parent)
        self._is_idle = is_idle
        self._state_path = state_path
        self.release = release if release is not None else running_release()
        self.rollbacks_total = int(read_state(state_path).get("rollbacks_total") or 0) if self.release else 0
        self._asked = False
        self._timer = QTimer(self, interval=LOOK_MS)
        self._timer.timeout.connect(self.retry)
        if self.release is not None:
            self._timer.start()
            QTimer.singleShot(0, self._report_rollbacks)

    def _report_rollbacks(self) -> None:
        state = read_state(self._state_path)
        now = datetime.now().astimezone()
        for item in state.get("incidents") or []:
            try:
                recent = now - datetime.fromisoformat(item["at"]) < RECENT
            except (KeyError, TypeError, ValueError):
                continue
            if recent:
                self.incident.emit("release", f"release {item.get('version')} went back to {item.get('back_to')}: "
                                              f"{item.get('reason')}; it stays held")

    def pending(self) -> str | None:
        """A newer release that waits for a quiet moment, None when there is none."""
        candidate = read_state(self._state_path).get("candidate")
        return candidate if isinstance(candidate, str) and newer(candidate, self.release) else None

    def retry(self, *_) -> None:
        """Switch now if a newer release waits and nothing runs (also called whenever the screen changes)."""
        if self.release is None or self._asked or not self._is_idle():
            return
        candidate = self.pending()
        if candidate is not None:
            self._asked = True
            log.info("release %s waits and the kiosk is idle: switching from %s", candidate, self.release)
            self.switch_due.emit()

    def shutdown(self) -> None:
        self._timer.stop()


def leave_switch_marker(folder: str) -> bool:
    """The empty file the unit's ExecStopPost runs the release switch on; False when not under the unit."""
    if not folder:
        log.warning("release switch: not started by the kiosk unit (no RUNTIME_DIRECTORY), restarting only")
        return False
    return atomic_write(Path(folder) / SWITCH_MARKER, b"", 0o644)
