"""The screen's light at night: every backlight under /sys/class/backlight to 0 and back to where it was; a screen
without one (a desktop monitor over HDMI) is turned off through the compositor instead.

The kiosk (group video) may write `brightness` because of the udev rule palim-provision installs
(provisioning/templates/udev-palim-backlight.rules). The folder is a setting (night.backlight_dir), so tests use
a fake one.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from kiosk.core.tools import run_tool

log = logging.getLogger(__name__)

# Where there is no backlight: the display off and on through the compositor, the first whose tool exists and whose
# display runs. wlopm speaks wlr-output-power-management, which cage 0.1.4 (Debian bookworm) does not offer yet
# (cage-kiosk/cage#245; disabling the output with wlr-randr instead would end cage, which quits without an output):
# there the screen only shows black, and the kiosk says so once. Under X (the demo, Xvfb) DPMS.
COMPOSITOR = (
    ("WAYLAND_DISPLAY", "wlopm", (["wlopm", "--off", "*"], ["wlopm", "--on", "*"])),
    ("DISPLAY", "xset", (["xset", "dpms", "force", "off"], ["xset", "dpms", "force", "on"])),
)

Runner = Callable[[list[str]], bool]


def _run(command: list[str]) -> bool:
    return run_tool(command, "night") is not None


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class Backlight:
    """Turns the screen's light off and back on; remembers each backlight's brightness to restore it."""

    def __init__(self, folder: Path, run: Runner = _run, which: Callable[[str], str | None] = shutil.which,
                 environ: Mapping[str, str] = os.environ):
        self.folder = Path(folder)
        self.run = run
        self.which = which
        self.environ = environ
        self._saved: dict[Path, int] = {}
        self._compositor: list[str] | None = None  # the command that turns the display on again

    def backlights(self) -> list[Path]:
        """The backlight devices: folders with a brightness and a max_brightness file."""
        try:
            entries = sorted(self.folder.iterdir())
        except OSError:
            return []
        return [d for d in entries if (d / "brightness").is_file() and (d / "max_brightness").is_file()]

    def off(self) -> str:
        """Dark: "backlight" (brightness 0), "compositor" (the display off), or "none" (nothing could)."""
        done = False
        for device in self.backlights():
            current = _read_int(device / "brightness")
            if current:  # 0 means it is dark already (or was dimmed by us): keep what was saved before
                self._saved[device] = current
            done = self._write(device, 0) or done
        if done:
            return "backlight"
        for variable, tool, (off, on) in COMPOSITOR:
            if self.environ.get(variable) and self.which(tool) and self.run(off):
                self._compositor = on
                return "compositor"
        log.warning("night: no backlight in %s the kiosk may write and no compositor tool (wlopm, xset): the screen "
                    "only shows black", self.folder)
        return "none"

    def on(self) -> None:
        """Light again: each backlight back to its brightness before (or its maximum), the display back on."""
        for device in self.backlights():
            level = self._saved.pop(device, None) or _read_int(device / "max_brightness")
            if level is not None and _read_int(device / "brightness") == 0:
                self._write(device, level)
        if self._compositor is not None:
            command, self._compositor = self._compositor, None
            self.run(command)

    def _write(self, device: Path, level: int) -> bool:
        try:
            (device / "brightness").write_text(f"{level}\n", encoding="ascii")
        except OSError as exc:
            log.warning("night: cannot set %s to %d: %s", device / "brightness", level, exc)
            return False
        return True
