"""The config watch: notices a changed config file and asks for a reload once it is usable and nobody uses the kiosk."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QFileSystemWatcher, QObject, QTimer, pyqtSignal

from kiosk.config import ConfigError, config_from_bytes, read_config_file
from kiosk.core.safefile import FileRefused

log = logging.getLogger(__name__)

# palim-provision apply writes several files one after another: look once they have all landed.
DEBOUNCE_MS = 2000
RESCAN_MS = 2000  # while the config's folder is gone: how often to look whether it is back


class ConfigWatch(QObject):
    """Compares the config file with the bytes the kiosk runs; a usable change asks for a reload when idle."""

    reload_requested = pyqtSignal()

    def __init__(self, path: Path, loaded: bytes, running_usable: bool, idle: Callable[[], bool],
                 parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self._loaded = loaded
        self._running_usable = running_usable
        self._idle = idle
        self._pending = False  # a usable change waits for the kiosk to be idle
        self._warned: str | None = None  # the digest of the unusable content last warned about
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.check)
        # The folder, not only the file: an atomic rename replaces the file's inode and a watch on it is lost;
        # the file too, for an editor that writes it in place (a folder watch does not see that).
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._changed)
        self._watcher.fileChanged.connect(self._changed)
        # A folder that is deleted drops out of the watch (inotify): looked for again until it is back.
        self._rescan = QTimer(self, interval=RESCAN_MS)
        self._rescan.timeout.connect(self._watch_folder)
        if not self._watch_folder():
            log.warning("config watch: cannot watch %s yet; looking for it every %d s", self.path.parent,
                        RESCAN_MS // 1000)
        self._watch_file()
        # The file may have changed between the kiosk reading it and this watch starting: look once.
        self._debounce.start()

    @property
    def pending(self) -> bool:
        """True while a usable changed config waits for the kiosk to be idle."""
        return self._pending

    def _watch_folder(self) -> bool:
        """Watch the config's folder; False (and look again in RESCAN_MS) while it does not exist."""
        folder = str(self.path.parent)
        if folder in self._watcher.directories():
            return True
        if self.path.parent.is_dir() and self._watcher.addPath(folder):
            if self._rescan.isActive():
                log.info("config watch: %s is back, watching it again", folder)
                self._rescan.stop()
                self._watch_file()
                self._debounce.start()
            return True
        if not self._rescan.isActive():
            self._rescan.start()
        return False

    def _watch_file(self) -> None:
        if self.path.exists() and str(self.path) not in self._watcher.files():
            self._watcher.addPath(str(self.path))

    def _changed(self, _path: str) -> None:
        self._watch_folder()  # a deleted folder is no longer watched: look for it until it is made again
        self._watch_file()  # a renamed-over file is a new inode: watch the new one
        self._debounce.start()  # restarts: one look after the last write

    def check(self) -> None:
        """Look at the file now: unchanged, unusable (keep what runs) or a usable change (reload when idle)."""
        try:
            data = read_config_file(self.path)
        except FileRefused as exc:  # a symlink, FIFO, device or a file too large: never read, the running config stays
            self._pending = False
            self._warn_once(str(exc).encode(), [str(exc)])
            return
        except OSError:
            data = b""
        if data == self._loaded:
            self._pending = False  # changed back before the kiosk was idle: nothing to do
            self._warned = None
            return
        problems = self._problems(data)
        if problems:
            self._pending = False
            self._warn_once(data, problems)
            return
        if not self._pending and not self._idle():
            log.info("config changed on disk: waiting until no call runs")
        self._pending = True
        self.retry()

    def retry(self, *_) -> None:
        """Reload now if a usable change waits and the kiosk is idle (called whenever the screen changes)."""
        if self._pending and self._idle():
            self._pending = False
            log.info("config changed on disk: reloading")
            self.reload_requested.emit()

    def _problems(self, data: bytes) -> list[str]:
        if not data:
            return [f"{self.path} is missing, empty or cannot be read"]
        try:
            config_from_bytes(data, str(self.path))
        except ConfigError as exc:
            return [str(problem) for problem in exc.problems]
        except Exception as exc:  # noqa: BLE001 (as at start: whatever a file does to the loader, the kiosk runs on)
            return [f"{self.path} cannot be read ({type(exc).__name__}: {exc})"]
        return []

    def _warn_once(self, data: bytes, problems: list[str]) -> None:
        # apply and editors touch the folder often: the same broken content is reported once, not at every look.
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._warned:
            return
        self._warned = digest
        keeping = "keeping the running config" if self._running_usable else "the device stays not set up"
        log.warning("config changed on disk but cannot be used, %s: %s", keeping, "; ".join(problems))

    def shutdown(self) -> None:
        """No more looks and no reload request from this kiosk."""
        self._debounce.stop()
        self._rescan.stop()
        self._pending = False
        paths = self._watcher.files() + self._watcher.directories()
        if paths:
            self._watcher.removePaths(paths)
