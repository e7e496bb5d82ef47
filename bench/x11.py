"""The X11 display path for the benchmark: the browsers as windows on $DISPLAY (Xvfb), taps with xdotool, pixels
with XGetImage (bench/xpixel.py). Kept for comparison with earlier results; the device's path is bench/wayland.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import xpixel


class X11:
    """Starts programs as they are on $DISPLAY; same interface as wayland.Cage."""

    name = "x11"

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cwd = Path(__file__).resolve().parent.parent  # the repository: `python -m kiosk` runs from it
        self._screen = xpixel.Screen()

    def facts(self) -> dict:
        return {"display": os.environ.get("DISPLAY", "?"), "window": f"{self.width}x{self.height}"}

    def wrap(self, argv: list[str], env: dict) -> tuple[list[str], dict]:
        return argv, env

    def client(self, proc: subprocess.Popen) -> int:
        return proc.pid

    def pixel(self, x: int, y: int) -> int:
        return self._screen.pixel(x, y)

    def frames(self) -> None:
        return None  # an X server tells no frame counts; bench/wayland.py's cage does

    def tap(self, x: int, y: int, hold: float) -> None:
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "mousedown", "1", "sleep", str(hold), "mouseup", "1"],
                       check=True, timeout=10)

    def close(self) -> None:
        self._screen.close()
