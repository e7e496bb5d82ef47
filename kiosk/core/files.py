"""Small, careful file writes: atomic replace, append that survives a full disk."""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path

from kiosk.core.safefile import read_limited

log = logging.getLogger(__name__)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(dest: Path, content: bytes, mode: int, uid: int | None = None, gid: int | None = None) -> None:
    """Write a whole file or nothing: temp file beside it, fsync, rename over the old one."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".palim-tmp")
    try:
        # Mode and owner before the content: a secret is never readable by anyone else, not even for a moment.
        os.fchmod(fd, mode)
        if uid is not None:
            os.fchown(fd, uid, gid)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, dest)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(dest.parent)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """write_atomic for the kiosk: creates the folder; False, logged, when it cannot be written (a full disk)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, mode)
        return True
    except OSError as exc:
        log.warning("could not write %s: %s", path, exc.strerror or exc)
        return False


def append_line(path: Path, line: str, max_bytes: int = 5 * 1024 * 1024) -> bool:
    """Append one line, rotating to `<file>.1` past max_bytes; False, logged, when the disk says no."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > max_bytes:
            os.replace(path, path.with_name(path.name + ".1"))
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line.rstrip("\n") + "\n")
        return True
    except OSError as exc:
        log.warning("could not append to %s: %s", path, exc.strerror or exc)
        return False


def read_tail(path: Path, max_bytes: int = 64 * 1024) -> str:
    """The last max_bytes of a regular file as text ('' when it is missing, not a regular file or unreadable);
    its first line may be cut."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        size = os.fstat(fd).st_size
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        os.lseek(fd, max(0, size - max_bytes), os.SEEK_SET)
        return os.read(fd, max_bytes).decode("utf-8", "replace")
    except OSError as exc:
        log.warning("could not read %s: %s", path, exc.strerror or exc)
        return ""
    finally:
        os.close(fd)


def state_dir() -> Path:
    """Where the kiosk keeps its own files: systemd's StateDirectory, else the user's state folder."""
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "palim-kiosk"


MAX_SECRET_BYTES = 1024  # a password, token or key file holds one line; anything larger is the wrong file


def read_secret_file(path: Path) -> str:
    """The one line a secrets file holds (line break stripped); ValueError (safefile.FileRefused) saying why it
    cannot be one: a FIFO, a device like /dev/zero, a folder or a file over 1 KiB is refused before anything is read.
    """
    data = read_limited(path, MAX_SECRET_BYTES)  # OSError as it comes: missing, not allowed
    try:
        return data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
