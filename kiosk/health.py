"""What staff and the city learn about a kiosk: incidents, call figures, metrics, power, restarts and reboots."""

from __future__ import annotations

import enum
import json
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from kiosk import __version__
from kiosk.config import PowerOptions

MAX_INCIDENTS = 10
# Never shut down in the first minute of a call: the resident just got through to the family.
CALL_GRACE_S = 60.0
# A reboot for updates: the kiosk leaves this empty file in its unit's RuntimeDirectory and quits with this code
# (EX_TEMPFAIL); the unit's ExecStopPost (provisioning/templates/palim-kiosk.service) reboots on the file. A file, not
# the code alone: cage 0.1.4 (Debian 12) exits 0 whatever its client's exit code, so systemd never sees the code.
REBOOT_MARKER = "reboot-for-updates"
REBOOT_EXIT_CODE = 75


@dataclass(frozen=True)
class IncidentRecord:
    """One thing that went wrong, with the wall-clock time it happened."""

    at: datetime
    kind: str
    detail: str


@dataclass
class Health:
    """Counts calls and incidents; knows nothing of Qt or files."""

    device: str | None = None
    home: str | None = None
    incidents: deque = field(default_factory=lambda: deque(maxlen=MAX_INCIDENTS))
    incident_counts: Counter = field(default_factory=Counter)
    calls_total: int = 0
    call_seconds_total: float = 0.0
    last_call_end: datetime | None = None
    call_started_at: datetime | None = None
    battery_percent: float | None = None
    battery_plugged: bool | None = None
    # The server's login token (jwt_file): None when the kiosk has none; its expiry, or None when unreadable.
    token_expiry: datetime | None = None
    token_configured: bool = False
    # The release this kiosk runs (/opt/palim-kiosk/releases/V), None outside one; the device's rollbacks so far.
    release: str | None = None
    rollbacks_total: int = 0
    # When this kiosk process started (the hub counts restarts by it), and False once it is leaving.
    started_at: datetime | None = None
    running: bool = True

    def incident(self, at: datetime, kind: str, detail: str) -> None:
        """Remember an incident (the last ten are kept for the service screen)."""
        self.incidents.appendleft(IncidentRecord(at, kind, detail[:300]))
        self.incident_counts[kind] += 1

    def call_started(self, at: datetime) -> None:
        """The resident got into a call."""
        self.call_started_at = at

    def call_ended(self, at: datetime, others_max: int) -> dict | None:
        """Close the running call; return its usage record (no names, no room)."""
        if self.call_started_at is None:
            return None
        start, self.call_started_at = self.call_started_at, None
        duration = max(0.0, (at - start).total_seconds())
        self.calls_total += 1
        self.call_seconds_total += duration
        self.last_call_end = at
        return {"event": "call", "device": self.device, "home": self.home, "start": start.isoformat(timespec="seconds"),
                "end": at.isoformat(timespec="seconds"), "duration_s": round(duration, 1), "others_max": others_max,
                # Nobody else came: a wait that ended alone (the resident hung up, or the kiosk after
                # family.wait_minutes), not a call with somebody; `palim-provision report` counts them apart.
                "alone": others_max == 0, "version": __version__}

    def seconds_in_call(self, now: datetime) -> float | None:
        """How long the current call has run, None when there is none."""
        return None if self.call_started_at is None else (now - self.call_started_at).total_seconds()

    def metrics(self) -> str:
        """The node_exporter textfile: Prometheus text exposition format."""
        lines = []

        def metric(name: str, kind: str, doc: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP palim_kiosk_{name} {doc}")
            lines.append(f"# TYPE palim_kiosk_{name} {kind}")
            lines.extend(f"palim_kiosk_{name}{labels} {_number(value)}" for labels, value in samples)

        device = _labels(device=self.device or "", home=self.home or "")
        metric("up", "gauge", "1 while the kiosk runs, 0 once it has stopped.", [(device, 1 if self.running else 0)])
        if self.started_at is not None:
            metric("start_time_seconds", "gauge", "Unix time this kiosk process started.",
                   [(device, self.started_at.timestamp())])
        metric("info", "gauge", "Version of the kiosk software.", [(_labels(version=__version__, device=self.device or "",
                                                                               home=self.home or ""), 1)])
        metric("release_info", "gauge", "The release the kiosk runs (its version outside the city's releases).",
               [(_labels(version=self.release or __version__, device=self.device or "", home=self.home or ""), 1)])
        metric("rollbacks_total", "counter", "Releases this device went back from by itself.",
               [(device, self.rollbacks_total)])
        metric("calls_total", "counter", "Calls since the kiosk started.", [(device, self.calls_total)])
        metric("call_seconds_total", "counter", "Seconds in calls since the kiosk started.",
               [(device, round(self.call_seconds_total, 1))])
        metric("last_call_timestamp_seconds", "gauge", "Unix time the last call ended, as the usage log remembers it "
               "across restarts (0: none yet).",
               [(device, self.last_call_end.timestamp() if self.last_call_end else 0)])
        metric("in_call", "gauge", "1 while a call runs.", [(device, 1 if self.call_started_at else 0)])
        metric("incidents_total", "counter", "Incidents by kind since the kiosk started.",
               [(_labels(device=self.device or "", home=self.home or "", kind=kind), count)
                for kind, count in sorted(self.incident_counts.items())] or [(_labels(device=self.device or "",
                                                                                      home=self.home or "",
                                                                                      kind="none"), 0)])
        if self.battery_percent is not None:
            metric("battery_percent", "gauge", "Battery charge in percent.", [(device, self.battery_percent)])
            metric("battery_plugged", "gauge", "1 when on mains power.", [(device, 1 if self.battery_plugged else 0)])
        if self.token_configured:
            metric("token_expiry_timestamp_seconds", "gauge",
                   "Unix time the server login token expires (0: the token file cannot be read).",
                   [(device, self.token_expiry.timestamp() if self.token_expiry else 0)])
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """A sample value, exact: a Unix time keeps every second (":g" kept six digits, hours off for a timestamp)."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _labels(**labels: str) -> str:
    # Label values escape backslash, quote and newline, as the exposition format requires.
    escaped = (f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), " ")}"'
               for k, v in labels.items())
    return "{" + ",".join(escaped) + "}"


def usage_line(record: dict) -> str:
    """One JSON line of the usage log."""
    return json.dumps(record, ensure_ascii=False, sort_keys=False)


def last_call_end(usage_text: str) -> datetime | None:
    """When the last call in the end of a usage log ended (its last well-formed call line); None without one.

    The text may start in the middle of a line (the kiosk reads only the log's end) and hold damaged lines (a
    power cut while appending): those are passed over.
    """
    for line in reversed(usage_text.splitlines()):
        try:
            record = json.loads(line)
            if isinstance(record, dict) and record.get("event") == "call":
                end = datetime.fromisoformat(record["end"])
                return end if end.tzinfo is not None else None
        except (ValueError, KeyError, TypeError):
            continue
    return None


# --------------------------------------------------------------------------- power


class PowerAction(enum.Enum):
    """What the battery reading asks for."""

    NONE = "none"
    WARN = "warn"  # "Bitte das Ladekabel einstecken"
    SHUTDOWN = "shutdown"  # clean power-off before the battery dies mid-write


@dataclass(frozen=True)
class Battery:
    """The part of psutil's sensors_battery() the kiosk uses."""

    percent: float
    plugged: bool


def power_action(battery: Battery | None, options: PowerOptions, seconds_in_call: float | None) -> PowerAction:
    """Decide from a battery reading; no battery (a desktop) is normal."""
    if battery is None or battery.plugged:
        return PowerAction.NONE
    if battery.percent < options.shutdown_percent and options.shutdown:
        if seconds_in_call is not None and seconds_in_call < CALL_GRACE_S:
            return PowerAction.WARN
        return PowerAction.SHUTDOWN
    if battery.percent < options.warn_percent:
        return PowerAction.WARN
    return PowerAction.NONE


# --------------------------------------------------------------------------- nightly restart


def _window(spec: str) -> tuple[time, time]:
    start, end = spec.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def in_time_window(now: datetime, spec: str) -> bool:
    """True while `now` lies in a window like 03:00-04:00 (windows may cross midnight)."""
    start, end = _window(spec)
    moment = now.time()
    return start <= moment < end if start < end else (moment >= start or moment < end)


def in_any_window(now: datetime, specs: tuple[str, ...]) -> bool:
    """True inside any of the windows (presence.quiet_hours, night.dark_hours); False for none."""
    return any(in_time_window(now, spec) for spec in specs)


def next_window_start(now: datetime, spec: str) -> datetime:
    """The window's next opening strictly after `now`."""
    start, _ = _window(spec)
    candidate = now.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


def next_restart_check(now: datetime, spec: str) -> datetime:
    """When to look next: now if inside the window, else the window's next start."""
    return now if in_time_window(now, spec) else next_window_start(now, spec)


def restart_due(now: datetime, started: datetime, spec: str) -> bool:
    """True inside tonight's window for a kiosk that started before the window opened (so it restarts once)."""
    if not in_time_window(now, spec):
        return False
    start, _ = _window(spec)
    opened = now.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    if opened > now:  # a window across midnight, opened yesterday
        opened -= timedelta(days=1)
    return started < opened


def reboot_due(now: datetime, started: datetime, spec: str, required_since: datetime | None, idle: bool) -> bool:
    """True when the kiosk should quit so that the device reboots for an update (a new kernel or microcode).

    `required_since` is when the update asked for the reboot (/run/reboot-required appeared), None while nothing
    asks; `idle` means nothing runs: no call, nothing ringing, no staff screen. Never outside the nightly window
    `spec`, never by day. Inside it: at tonight's nightly restart (restart_due), or later in the window for a request
    newer than this kiosk (an update that finished after the nightly restart). A kiosk started after the request
    does not ask again: if that reboot did not happen (refused or failed), it must not restart the kiosk in a loop.
    """
    if required_since is None or not idle or not in_time_window(now, spec):
        return False
    return restart_due(now, started, spec) or required_since > started
