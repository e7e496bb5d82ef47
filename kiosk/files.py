"""Small, careful file writes: atomic replace, append that survives a full disk."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """Replace a file atomically (temp file, fsync, rename); False, logged, when it cannot be written."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        log.warning("could not write %s: %s", path, exc.strerror or exc)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
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


def state_dir() -> Path:
    """Where the kiosk keeps its own files: systemd's StateDirectory, else the user's state folder."""
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "palim-kiosk"
