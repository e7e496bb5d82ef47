"""The fleet's status page: what the hub's Prometheus knows of each device, per home, as text and as HTML.

Pure apart from the one template read with the package: `collect` asks through the Prometheus object it is given
(provisioning.prometheusapi), `fleet_status` turns the answers into the page's rows, `text_page` and `html_page` show
them. Each device: online since (or offline since), the kiosk's release, its last call, its login token's days left,
its open (firing) alerts. What a device last said is looked up over WINDOW, so an offline device still shows its
release and last call; Prometheus keeps 15 days by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from html import escape
from importlib import resources
from string import Template
from typing import Mapping, Protocol

from .monitoring import DEVICES_JOB

WINDOW = "14d"
WINDOW_DAYS = 14
_UP = f'up{{job="{DEVICES_JOB}"}}'
QUERIES = {
    "up": _UP,
    # Sample times (timestamp() keeps each scrape's own): the last failed and the last answered scrape, the first.
    "last_down": f"max_over_time(timestamp({_UP} == 0)[{WINDOW}:])",
    "last_up": f"max_over_time(timestamp({_UP} == 1)[{WINDOW}:])",
    "first_seen": f"min_over_time(timestamp({_UP})[{WINDOW}:])",
    # One series per release a device ran in the window; the one seen last is the one it runs.
    "release": f'max_over_time(timestamp(palim_kiosk_release_info{{job="{DEVICES_JOB}"}})[{WINDOW}:])',
    "last_call": f'last_over_time(palim_kiosk_last_call_timestamp_seconds{{job="{DEVICES_JOB}"}}[{WINDOW}])',
    "token": f'last_over_time(palim_kiosk_token_expiry_timestamp_seconds{{job="{DEVICES_JOB}"}}[{WINDOW}])',
}
COLUMNS = ("device", "online", "release", "last call", "token", "open alerts")


class Asks(Protocol):
    """What collect needs of Prometheus (provisioning.prometheusapi.Prometheus)."""

    url: str

    def query(self, expr: str) -> list[dict]: ...

    def alerts(self) -> list[dict]: ...


@dataclass(frozen=True)
class Alert:
    """A firing alert: its name and the one line it says."""

    name: str
    summary: str


@dataclass(frozen=True)
class DeviceStatus:
    """One device as the hub sees it; None where Prometheus knows nothing (yet)."""

    device: str
    home: str
    online: bool
    since: datetime | None = None  # online: since its last failed scrape; offline: its last answer
    release: str | None = None
    last_call: datetime | None = None
    no_call_yet: bool = False  # the kiosk says it has had no call (0), not "unknown"
    token_expiry: datetime | None = None
    token_unreadable: bool = False  # the kiosk has a token file it cannot read (0)
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class FleetStatus:
    """Every device Prometheus scrapes, by home, and when and where it was asked."""

    source: str
    asked_at: datetime
    homes: dict[str, list[DeviceStatus]] = field(default_factory=dict)


def collect(prometheus: Asks, now: datetime) -> FleetStatus:
    """Ask Prometheus every query and its alerts (its errors pass through) and make the page's rows."""
    results = {name: prometheus.query(expr) for name, expr in QUERIES.items()}
    return fleet_status(prometheus.url, results, prometheus.alerts(), now)


def _number(sample: dict) -> float | None:
    try:
        value = float(sample["value"][1])
    except (TypeError, ValueError, IndexError):
        return None
    return value if math.isfinite(value) else None


def _when(seconds: float | None) -> datetime | None:
    return None if seconds is None or seconds <= 0 else datetime.fromtimestamp(seconds, timezone.utc)


def shown(value: object) -> str:
    """A label value as it may be shown: a device sends its own labels, so control characters (a terminal's escape
    sequences among them) are written out as \\xNN, never passed on."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in str(value))[:200]


def _by_device(samples: list[dict]) -> dict[str, float]:
    """device -> value (the largest, should there be two series of one device)."""
    out: dict[str, float] = {}
    for sample in samples:
        device, value = sample["metric"].get("device"), _number(sample)
        if isinstance(device, str) and value is not None:
            out[device] = max(value, out.get(device, value))
    return out


def fleet_status(source: str, results: Mapping[str, list[dict]], alerts: list[dict], now: datetime) -> FleetStatus:
    """The page's rows from the answers to QUERIES (name -> samples) and /api/v1/alerts."""
    values = {name: _by_device(results.get(name, [])) for name in QUERIES if name != "release"}
    releases: dict[str, tuple[float, str]] = {}
    for sample in results.get("release", []):
        device, version, seen = sample["metric"].get("device"), sample["metric"].get("version"), _number(sample)
        if isinstance(device, str) and isinstance(version, str) and seen is not None:
            if device not in releases or seen > releases[device][0]:
                releases[device] = (seen, shown(version))
    firing: dict[str, list[Alert]] = {}
    for alert in alerts:
        labels, notes = alert.get("labels", {}), alert.get("annotations") or {}
        if alert.get("state") == "firing" and isinstance(labels.get("device"), str):
            firing.setdefault(labels["device"], []).append(
                Alert(shown(labels.get("alertname", "?")), shown(notes.get("summary", "")) if isinstance(notes, dict)
                      else ""))
    homes: dict[str, list[DeviceStatus]] = {}
    for sample in results.get("up", []):
        device, home, up = sample["metric"].get("device"), sample["metric"].get("home"), _number(sample)
        if not isinstance(device, str) or not isinstance(home, str):
            continue
        online = up == 1
        if online:  # back since its last failed scrape; none in the window: at least since the first one seen
            since = values["last_down"].get(device, values["first_seen"].get(device))
        else:
            since = values["last_up"].get(device)
        call, token = values["last_call"].get(device), values["token"].get(device)
        homes.setdefault(shown(home), []).append(DeviceStatus(
            shown(device), shown(home), online, _when(since), releases.get(device, (0, None))[1], _when(call), call == 0,
            _when(token), token == 0, tuple(sorted(firing.get(device, []), key=lambda a: a.name))))
    return FleetStatus(source, now, {home: sorted(rows, key=lambda r: r.device) for home, rows in sorted(homes.items())})


# --------------------------------------------------------------------------- showing it


def _time(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def cells(row: DeviceStatus, now: datetime, zone: tzinfo) -> tuple[str, ...]:
    """A row's cells as COLUMNS name them, in words."""
    horizon = now.timestamp() - WINDOW_DAYS * 86400 + 3600  # "since" at the window's start: at least that long
    if row.since is None:
        online = "online" if row.online else f"OFFLINE for over {WINDOW_DAYS} days"
    elif row.since.timestamp() < horizon:
        online = f"online for over {WINDOW_DAYS} days" if row.online else f"OFFLINE for over {WINDOW_DAYS} days"
    else:
        online = f"online since {_time(row.since, zone)}" if row.online else f"OFFLINE since {_time(row.since, zone)}"
    if row.last_call is not None:
        call = _time(row.last_call, zone)
    else:
        call = "none yet" if row.no_call_yet else "unknown"
    if row.token_unreadable:
        token = "UNREADABLE"
    elif row.token_expiry is None:
        token = "-"
    else:
        days = math.floor((row.token_expiry - now).total_seconds() / 86400)
        token = "EXPIRED" if days < 0 else f"{days} day{'' if days == 1 else 's'} left"
    alerts = ", ".join(a.name for a in row.alerts) or "-"
    return (row.device, online, row.release or "unknown", call, token, alerts)


def _summary(rows: list[DeviceStatus]) -> str:
    offline = sum(not r.online for r in rows)
    alerts = sum(len(r.alerts) for r in rows)
    parts = [f"{len(rows)} device{'' if len(rows) == 1 else 's'}"]
    parts += [f"{offline} offline"] if offline else []
    parts += [f"{alerts} open alert{'' if alerts == 1 else 's'}"] if alerts else []
    return ", ".join(parts)


def text_page(status: FleetStatus, zone: tzinfo) -> str:
    """The status as text: a table per home."""
    lines = [f"Fleet status from {status.source} at {_time(status.asked_at, zone)} ({zone})", ""]
    if not status.homes:
        lines += ["Prometheus scrapes no devices yet (job palim-devices): is the hub's targets file in place?", ""]
    for home, rows in status.homes.items():
        table = [tuple(c.upper() for c in COLUMNS)] + [cells(r, status.asked_at, zone) for r in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]
        lines.append(f"{home}: {_summary(rows)}")
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(line, widths)) + "  " + line[-1] for line in table]
        lines.append("")
    return "\n".join(lines)


@lru_cache(maxsize=None)
def _template() -> Template:
    return Template(resources.files(__package__).joinpath("templates", "fleet-status.html").read_text("utf-8"))


def html_page(status: FleetStatus, zone: tzinfo) -> str:
    """The status as one small HTML page (no script, no outside resource); every value escaped."""
    sections = []
    for home, rows in status.homes.items():
        head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
        body = []
        for row in rows:
            values = cells(row, status.asked_at, zone)
            alerts = "".join(f'<li><strong>{escape(a.name)}</strong> {escape(a.summary)}</li>' for a in row.alerts)
            state = "offline" if not row.online else ("alert" if row.alerts else "ok")
            body.append(f'<tr class="{state}">' + "".join(f"<td>{escape(v)}</td>" for v in values[:-1])
                        + (f"<td><ul>{alerts}</ul></td>" if alerts else "<td>-</td>") + "</tr>")
        sections.append(f"<section><h2>{escape(home)} <small>{escape(_summary(rows))}</small></h2>"
                        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></section>")
    if not status.homes:
        sections.append("<p>Prometheus scrapes no devices yet.</p>")
    return _template().substitute(source=escape(status.source), asked_at=escape(_time(status.asked_at, zone)),
                                  zone=escape(str(zone)), sections="\n".join(sections))


__all__ = ["QUERIES", "WINDOW", "shown", "Alert", "DeviceStatus", "FleetStatus", "collect", "fleet_status", "cells",
           "text_page", "html_page"]
