"""Usage report: the kiosks' usage logs (JSON lines) into the figures a town publishes.

A log line for a finished call looks like
  {"event": "call", "device": "ebh-01", "home": "erich-burger-heim", "start": "2026-11-27T14:03:12+01:00",
   "end": "2026-11-27T14:21:40+01:00", "duration_s": 1108.2, "others_max": 2, "alone": false, "version": "0.1.0"}
A line whose others_max is 0 (or "alone" true) is a wait that ended alone: nobody came; it is counted apart from the
calls. Other events are skipped; lines that cannot be read are counted and shown, never fatal.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from kiosk.core.safefile import FileRefused, open_regular

MAX_LINE_BYTES = 64 * 1024  # a call line is about 300 bytes
MAX_LOG_FILE_BYTES = 256 << 20  # the kiosk rotates its log at 5 MiB; a collected folder holds copies of those
MAX_CALL_S = 24 * 3600  # a longer "call" is a clock jump or a broken line, not a call
UNKNOWN_HOME = "(unknown home)"
LOG_NAME = re.compile(r"\.jsonl(\.\d+)?(\.gz)?$")


@dataclass(frozen=True)
class Call:
    """One finished call from a log line."""

    device: str
    home: str
    start: datetime
    duration_s: float
    alone: bool = False  # nobody else was in it: a wait that ended alone, not a call with somebody


@dataclass
class Reading:
    """What was read, and what could not be."""

    files: list[Path] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    broken: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, reason
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    other_events: int = 0
    duplicates: int = 0
    device_from_path: dict[str, str] = field(default_factory=dict)  # device -> file it was taken from
    home_from_list: int = 0
    home_unknown: int = 0


class ReportError(Exception):
    """Bad input to the report (no logs, bad date)."""


def find_logs(paths: list[Path]) -> list[Path]:
    """Log files: the files given, and every *.jsonl (also rotated, also .gz) below the folders given."""
    out = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and LOG_NAME.search(p.name))
        elif path.exists():
            out.append(path)
        else:
            raise ReportError(f"{path} does not exist")
    if not out:
        raise ReportError(f"no usage logs (*.jsonl) in {', '.join(str(p) for p in paths)}")
    return list(dict.fromkeys(out))


def device_from_path(path: Path) -> str:
    """The device a log belongs to, from where it lies.

    Ansible fetch lays logs out as <dest>/<inventory_hostname>/var/lib/palim-kiosk/usage.jsonl; a plain copy may
    be named ebh-01.jsonl, or lie in a folder named after the device.
    """
    parts = path.parts
    for i in range(len(parts) - 3):
        if parts[i + 1:i + 4] == ("var", "lib", "palim-kiosk"):
            return parts[i]
    stem = LOG_NAME.sub("", path.name)
    return stem if stem and stem != "usage" else path.parent.name


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment


def _lines(path: Path):
    """(number, line) of a usage log, plain or .gz; a line longer than MAX_LINE_BYTES comes as None (its rest is
    skipped in steps, never held: a 1.2 MB .gz with one 1.2 GB line cost 2.4 GB)."""
    with open_regular(path, MAX_LOG_FILE_BYTES) as raw_file:  # a FIFO or a device is refused, not waited for
        handle = gzip.GzipFile(fileobj=raw_file, mode="rb") if path.name.endswith(".gz") else raw_file
        number = 0
        while True:
            line = handle.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):
                    line = handle.readline(1 << 16)
                yield number, None
                continue
            yield number, line


def read_logs(files: list[Path], device_homes: dict[str, str] | None = None) -> Reading:
    """Read every log; a broken line is counted with its reason, an unreadable file is listed."""
    reading = Reading(files=list(files))
    seen: set[tuple] = set()
    for path in files:
        try:
            for number, raw in _lines(path):
                if raw is None:
                    reading.broken.append((str(path), number, f"longer than {MAX_LINE_BYTES // 1024} KiB"))
                    continue
                if not raw.strip():
                    continue
                parsed = _call(raw, path, number, reading, device_homes or {})
                if parsed is None:
                    continue
                call, device_guessed, home_from = parsed
                key = (call.device, call.start, round(call.duration_s, 1))
                if key in seen:  # the same log collected twice, or a rotated copy beside the live one
                    reading.duplicates += 1
                    continue
                seen.add(key)
                reading.calls.append(call)
                if device_guessed:
                    reading.device_from_path.setdefault(call.device, str(path))
                reading.home_from_list += home_from == "list"
                reading.home_unknown += home_from == "unknown"
        except (OSError, EOFError, gzip.BadGzipFile, zlib.error, FileRefused) as exc:
            reading.unreadable.append((str(path), getattr(exc, "strerror", None) or str(exc)))
    return reading


def _call(raw: bytes, path: Path, number: int, reading: Reading,
          device_homes: dict[str, str]) -> tuple[Call, bool, str] | None:
    """The call on a line, whether its device came from the path, and where its home came from."""
    def broken(reason: str) -> None:
        reading.broken.append((str(path), number, reason))

    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested thousands deep
        broken("not JSON")
        return None
    if not isinstance(entry, dict):
        broken("not a JSON object")
        return None
    if entry.get("event") != "call":
        if "event" not in entry:
            broken("no 'event'")
        else:
            reading.other_events += 1
        return None
    start, end = _parse_time(entry.get("start")), _parse_time(entry.get("end"))
    if start is None:
        broken("'start' is not a time like 2026-11-27T14:03:12+01:00")
        return None
    duration = entry.get("duration_s")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        if end is None or (start.tzinfo is None) != (end.tzinfo is None):
            broken("neither 'duration_s' nor a usable 'end'")
            return None
        duration = (end - start).total_seconds()
    if not 0 <= duration <= MAX_CALL_S:
        broken(f"duration {duration:.0f} s is not between 0 and 24 hours")
        return None
    device, device_guessed = entry.get("device"), False
    if not isinstance(device, str) or not device:
        device, device_guessed = device_from_path(path), True
    home, home_from = entry.get("home"), "log"
    if not isinstance(home, str) or not home:
        home = device_homes.get(device)
        home_from = "list" if home is not None else "unknown"
        home = home or UNKNOWN_HOME
    others = entry.get("others_max")
    alone = entry.get("alone") is True or (isinstance(others, int) and not isinstance(others, bool) and others == 0)
    return Call(device, home, start, float(duration), alone), device_guessed, home_from


def parse_date(text: str, option: str) -> date:
    """A day like 2026-11-01 given to OPTION; ReportError naming the option otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{option} must be a date like 2026-11-01, not {text!r}") from None


def parse_window(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """The --since and --until days (None when not given); ReportError when one is bad or they are reversed."""
    first = parse_date(since, "--since") if since else None
    last = parse_date(until, "--until") if until else None
    if first and last and first > last:
        raise ReportError("--since is after --until")
    return first, last


def iso_week(day: date) -> str:
    """The ISO week a day falls in, like 2026-W48."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Summary:
    """The published figures over the chosen days."""

    calls: int
    hours: float
    devices: int
    homes: int
    first: date | None
    last: date | None
    # (home, week) -> [calls, seconds, devices]
    per_home_week: dict[tuple[str, str], list]
    per_home: dict[str, list]
    waits_alone: int = 0  # taps after which nobody came (not in calls or hours)


def summarise(calls: list[Call], since: date | None = None, until: date | None = None) -> Summary:
    """The published figures; a call counts on the day and in the ISO week its start falls in (local time)."""
    in_window = [c for c in calls if (since is None or c.start.date() >= since) and
                 (until is None or c.start.date() <= until)]
    chosen = [c for c in in_window if not c.alone]

    cells: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0.0, set()])
    homes: dict[str, list] = defaultdict(lambda: [0, 0.0, set()])
    for call in chosen:
        for bucket in (cells[(call.home, iso_week(call.start.date()))], homes[call.home]):
            bucket[0] += 1
            bucket[1] += call.duration_s
            bucket[2].add(call.device)
    days = [c.start.date() for c in chosen]
    return Summary(len(chosen), sum(c.duration_s for c in chosen) / 3600, len({c.device for c in chosen}),
                   len({c.home for c in chosen}), min(days, default=None), max(days, default=None),
                   dict(sorted(cells.items())), dict(sorted(homes.items())), len(in_window) - len(chosen))


def text_report(summary: Summary, reading: Reading, since: date | None, until: date | None) -> str:
    """The report as text for people: totals, calls per home and week, then the notes on what was read."""
    span = f"{summary.first} to {summary.last}" if summary.first else "no calls"
    window = "" if since is None and until is None else \
        f" (asked for {since or 'the start'} to {until or 'today'})"
    out = [f"Palim usage: {span}{window}",
           f"read {len(reading.files)} log file(s)"
           + (f"; {reading.duplicates} duplicate call(s) counted once" if reading.duplicates else ""),
           "",
           f"  calls             {summary.calls}",
           f"  hours             {summary.hours:.1f}",
           f"  devices           {summary.devices}",
           f"  homes             {summary.homes}",
           f"  waits alone       {summary.waits_alone}   (taps after which nobody came; not in calls or hours)"]
    if summary.per_home_week:
        width = max(len("home"), *(len(h) for h, _ in summary.per_home_week))
        out += ["", "calls per home and week (ISO weeks, Monday to Sunday; by the call's start)",
                f"  {'home':<{width}}  week      calls   hours  devices"]
        for (home, week), (calls, seconds, devices) in summary.per_home_week.items():
            out.append(f"  {home:<{width}}  {week}  {calls:>5}  {seconds / 3600:>6.1f}  {len(devices):>7}")
        out.append(f"  {'':<{width}}  {'':8}  -----  ------")
        for home, (calls, seconds, devices) in summary.per_home.items():
            out.append(f"  {home:<{width}}  {'total':8}  {calls:>5}  {seconds / 3600:>6.1f}  {len(devices):>7}")
    notes = reading_notes(reading)
    if notes:
        out += [""] + notes
    return "\n".join(out) + "\n"


def reading_notes(reading: Reading) -> list[str]:
    """Notes, warnings and errors on what was read (guessed devices and homes, broken lines, unreadable files)."""
    out = []
    if reading.device_from_path:
        shown = ", ".join(f"{d} (from {p})" for d, p in list(reading.device_from_path.items())[:5])
        more = len(reading.device_from_path) - 5
        out.append(f"note: some calls had no device in the log; taken from the log's location: {shown}"
                   + (f" and {more} more" if more > 0 else ""))
    if reading.home_from_list:
        out.append(f"note: {reading.home_from_list} call(s) had no home in the log; taken from the device list")
    if reading.home_unknown:
        out.append(f"note: {reading.home_unknown} call(s) have no home in the log; counted as '{UNKNOWN_HOME}' "
                   f"(give --devices FILE to look the homes up)")
    if reading.other_events:
        out.append(f"note: {reading.other_events} line(s) of other events skipped")
    if reading.broken:
        out.append(f"warning: {len(reading.broken)} broken line(s) skipped, for example:")
        out += [f"  {file}:{line}: {reason}" for file, line, reason in reading.broken[:5]]
    for file, reason in reading.unreadable:
        out.append(f"error: {file} could not be read ({reason}); its calls are missing")
    return out


CSV_FIELDS = ["home", "week", "calls", "hours", "devices"]


def csv_report(summary: Summary) -> str:
    """One row per home and ISO week, then each home's total (week 'total'), then the grand total (home 'total')."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for (home, week), (calls, seconds, devices) in summary.per_home_week.items():
        writer.writerow([home, week, calls, f"{seconds / 3600:.2f}", len(devices)])
    for home, (calls, seconds, devices) in summary.per_home.items():
        writer.writerow([home, "total", calls, f"{seconds / 3600:.2f}", len(devices)])
    writer.writerow(["total", "total", summary.calls, f"{summary.hours:.2f}", summary.devices])
    return buffer.getvalue()
