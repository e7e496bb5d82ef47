"""A floor under the speaker volume: knocked hardware keys must not leave the kiosk silent or muted.

PipeWire (wpctl) first, ALSA (amixer) second; where neither exists the kiosk says so once and leaves it.
The decisions are pure functions; `enforce` runs the tools.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.core.tools import run_tool

log = logging.getLogger(__name__)

SINK = "@DEFAULT_AUDIO_SINK@"
ALSA_CONTROL = "Master"


@dataclass(frozen=True)
class Reading:
    """The speaker as a tool reports it."""

    percent: int
    muted: bool


@dataclass(frozen=True)
class Fix:
    """What to change: unmute, and/or raise to a volume; nothing when both are None/False."""

    unmute: bool = False
    raise_to: int | None = None

    @property
    def needed(self) -> bool:
        return self.unmute or self.raise_to is not None


def parse_wpctl(output: str) -> Reading | None:
    """`wpctl get-volume @DEFAULT_AUDIO_SINK@`: 'Volume: 0.40' or 'Volume: 0.40 [MUTED]'."""
    match = re.search(r"Volume:\s*([0-9]+(?:\.[0-9]+)?)", output)
    if not match:
        return None
    return Reading(round(float(match.group(1)) * 100), "[MUTED]" in output)


def parse_amixer(output: str) -> Reading | None:
    """`amixer sget Master`: the lowest channel's '[60%]' and muted when any playback switch is '[off]'."""
    percents = [int(p) for p in re.findall(r"\[(\d{1,3})%\]", output)]
    if not percents:
        return None
    return Reading(min(percents), "[off]" in output)


def decide(reading: Reading | None, minimum: int) -> Fix:
    """Unmute when muted, raise to `minimum` when below it; a minimum of 0 leaves the speaker alone."""
    if minimum <= 0 or reading is None:
        return Fix()
    return Fix(unmute=reading.muted, raise_to=minimum if reading.percent < minimum else None)


def wpctl_commands(fix: Fix) -> list[list[str]]:
    out = []
    if fix.unmute:
        out.append(["wpctl", "set-mute", SINK, "0"])
    if fix.raise_to is not None:
        out.append(["wpctl", "set-volume", SINK, f"{fix.raise_to / 100:.2f}"])
    return out


def amixer_commands(fix: Fix) -> list[list[str]]:
    if not fix.needed:
        return []
    command = ["amixer", "-q", "sset", ALSA_CONTROL]
    if fix.raise_to is not None:
        command.append(f"{fix.raise_to}%")
    if fix.unmute:
        command.append("unmute")
    return [command]


Runner = Callable[[list[str]], str | None]  # stdout, or None when the command failed


def _run(command: list[str]) -> str | None:
    return run_tool(command, "volume")


class VolumeFloor:
    """Keeps the speaker at or above a minimum; call `enforce()` at start and now and then (it is cheap)."""

    def __init__(self, minimum: int, run: Runner = _run, which: Callable[[str], str | None] = shutil.which):
        self.minimum = minimum
        self.run = run
        self.which = which
        self._said_missing = False

    def enforce(self) -> Fix | None:
        """Read, decide, fix; the fix made (maybe nothing), or None when there is no tool or no reading."""
        if self.minimum <= 0:
            return Fix()
        return self._fix(lambda reading: decide(reading, self.minimum))

    def set_to(self, percent: int) -> int | None:
        """Set the speaker to a level, unmuted, through the same tool as the floor, never below the minimum; the
        level set, or None when no tool answers (the call's − / + buttons)."""
        level = max(self.minimum, min(100, percent))
        fix = self._fix(lambda reading: Fix(unmute=reading.muted, raise_to=level if reading.percent != level else None),
                        quiet=True)
        return None if fix is None else level

    def _fix(self, choose: Callable[[Reading], Fix], quiet: bool = False) -> Fix | None:
        for tool, get, parse, commands in (
                ("wpctl", ["wpctl", "get-volume", SINK], parse_wpctl, wpctl_commands),
                ("amixer", ["amixer", "sget", ALSA_CONTROL], parse_amixer, amixer_commands)):
            if self.which(tool) is None:
                continue
            output = self.run(get)
            reading = parse(output) if output is not None else None
            if reading is None:
                continue  # e.g. wpctl without a running PipeWire: try ALSA
            fix = choose(reading)
            for command in commands(fix):
                self.run(command)
            if fix.needed and not quiet:
                log.warning("volume was %d %%%s: %s to %d %% (min_volume) with %s", reading.percent,
                            ", muted" if reading.muted else "", "unmuted and raised" if fix.unmute and fix.raise_to
                            else "unmuted" if fix.unmute else "raised", fix.raise_to or reading.percent, tool)
            return fix
        if not self._said_missing:
            log.info("volume: neither wpctl (PipeWire) nor amixer (ALSA) answers here; the volume floor is skipped")
            self._said_missing = True
        return None
