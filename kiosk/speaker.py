"""The resident's call volume: − / + in steps, never below min_volume, kept for the next call.

The level lives in a small file in the kiosk's state folder, so a restart (the nightly one included) keeps it; the
device's audio.call_volume is where it starts. Setting the speaker goes through kiosk.volume, like the floor.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.core.files import atomic_write

log = logging.getLogger(__name__)

STEP = 10  # percent per tap of − or +
FILE_NAME = "call-volume"


def stepped(level: int, direction: int, minimum: int) -> int:
    """The level after one tap (direction -1 or +1): in steps of STEP, from max(minimum, STEP) to 100."""
    low = max(minimum, STEP)
    return max(low, min(100, level + STEP * (1 if direction > 0 else -1)))


class CallVolume:
    """The level the next call starts at and the buttons change; read from and saved to `folder`/call-volume."""

    def __init__(self, default: int, minimum: int, folder: Path):
        self.minimum = minimum
        self.path = Path(folder) / FILE_NAME
        self.level = max(minimum, min(100, self._kept(default)))

    def _kept(self, default: int) -> int:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return default
        if text.isdigit() and 0 <= int(text) <= 100:
            return int(text)
        log.warning("%s holds no volume (%r): starting from audio.call_volume %d", self.path, text[:20], default)
        return default

    def change(self, direction: int) -> int:
        """One tap of − (-1) or + (+1): the new level, kept for the next call."""
        self.level = stepped(self.level, direction, self.minimum)
        atomic_write(self.path, f"{self.level}\n".encode("ascii"), 0o644)
        return self.level
