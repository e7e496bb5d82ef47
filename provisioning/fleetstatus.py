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
# The page's words: English for IT, German for a care home's office (--language de).
WORDS = {
    "en": {"columns": ("device", "online", "release", "last call", "token", "open alerts"),
           "online": "online", "online_since": "online since {}", "online_long": "online for over {} days",
           "offline_since": "OFFLINE since {}", "offline_long": "OFFLINE for over {} days", "none_yet": "none yet",
           "unknown": "unknown", "unreadable": "UNREADABLE", "expired": "EXPIRED",
           "days_left": ("{} day left", "{} days left"), "devices": ("{} device", "{} devices"),
           "offline": "{} offline", "alerts": ("{} open alert", "{} open alerts"), "title": "Palim fleet status",
           "from": "Fleet status from {} at {} ({})", "html_from": "From {} at {} ({})",
           "empty": "Prometheus scrapes no devices yet (job palim-devices): is the hub's targets file in place?"},
    "de": {"columns": ("Gerät", "Erreichbar", "Version", "Letzter Anruf", "Anmeldung", "Offene Meldungen"),
           "online": "erreichbar", "online_since": "erreichbar seit {}", "online_long": "erreichbar seit über {} Tagen",
           "offline_since": "NICHT ERREICHBAR seit {}", "offline_long": "NICHT ERREICHBAR seit über {} Tagen",
           "none_yet": "noch keiner", "unknown": "unbekannt", "unreadable": "UNLESBAR", "expired": "ABGELAUFEN",
           "days_left": ("noch {} Tag", "noch {} Tage"), "devices": ("{} Gerät", "{} Geräte"),
           "offline": "{} nicht erreichbar", "alerts": ("{} offene Meldung", "{} offene Meldungen"),
           "title": "Palim: die Geräte", "from": "Stand der Geräte laut {} am {} ({})", "html_from": "Laut {} am {} ({})",
           "empty": "Prometheus fragt noch kein Gerät ab (job palim-devices): liegt die Zieldatei des Hubs an ihrem "
                    "Platz?"},
}
LANGUAGES = tuple(WORDS)


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
    staff_summary: str = ""  # the rules' German line for care staff, where there is one


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
                Alert(shown(labels.get("alertname", "?")), *(shown(notes.get(key, "")) if isinstance(notes, dict)
                                                              else "" for key in ("summary", "staff_summary"))))
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


def _count(words: dict, key: str, number: int) -> str:
    return words[key][number != 1].format(number)


def cells(row: DeviceStatus, now: datetime, zone: tzinfo, language: str = "en") -> tuple[str, ...]:
    """A row's cells as the columns name them, in words."""
    words = WORDS[language]
    horizon = now.timestamp() - WINDOW_DAYS * 86400 + 3600  # "since" at the window's start: at least that long
    if row.since is None or row.since.timestamp() < horizon:
        online = words["online" if row.online and row.since is None else
                       "online_long" if row.online else "offline_long"].format(WINDOW_DAYS)
    else:
        online = words["online_since" if row.online else "offline_since"].format(_time(row.since, zone))
    if row.last_call is not None:
        call = _time(row.last_call, zone)
    else:
        call = words["none_yet" if row.no_call_yet else "unknown"]
    if row.token_unreadable:
        token = words["unreadable"]
    elif row.token_expiry is None:
        token = "-"
    else:
        days = math.floor((row.token_expiry - now).total_seconds() / 86400)
        token = words["expired"] if days < 0 else _count(words, "days_left", days)
    alerts = ", ".join(a.name for a in row.alerts) or "-"
    return (row.device, online, row.release or words["unknown"], call, token, alerts)


def _summary(rows: list[DeviceStatus], words: dict) -> str:
    offline = sum(not r.online for r in rows)
    alerts = sum(len(r.alerts) for r in rows)
    parts = [_count(words, "devices", len(rows))]
    parts += [words["offline"].format(offline)] if offline else []
    parts += [_count(words, "alerts", alerts)] if alerts else []
    return ", ".join(parts)


def text_page(status: FleetStatus, zone: tzinfo, language: str = "en") -> str:
    """The status as text: a table per home."""
    words = WORDS[language]
    lines = [words["from"].format(status.source, _time(status.asked_at, zone), zone), ""]
    if not status.homes:
        lines += [words["empty"], ""]
    for home, rows in status.homes.items():
        table = [tuple(c.upper() for c in words["columns"])] + [cells(r, status.asked_at, zone, language)
                                                                 for r in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
        lines.append(f"{home}: {_summary(rows, words)}")
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(line, widths)) + "  " + line[-1] for line in table]
        lines.append("")
    return "\n".join(lines)


@lru_cache(maxsize=None)
def _template() -> Template:
    return Template(resources.files(__package__).joinpath("templates", "fleet-status.html").read_text("utf-8"))


def html_page(status: FleetStatus, zone: tzinfo, language: str = "en") -> str:
    """The status as one small HTML page (no script, no outside resource); every value escaped."""
    words = WORDS[language]
    sections = []
    for home, rows in status.homes.items():
        head = "".join(f"<th>{escape(c)}</th>" for c in words["columns"])
        body = []
        for row in rows:
            values = cells(row, status.asked_at, zone, language)
            said = [(a.name, a.staff_summary if language == "de" and a.staff_summary else a.summary) for a in row.alerts]
            alerts = "".join(f"<li><strong>{escape(name)}</strong> {escape(line)}</li>" for name, line in said)
            state = "offline" if not row.online else ("alert" if row.alerts else "ok")
            body.append(f'<tr class="{state}">' + "".join(f"<td>{escape(v)}</td>" for v in values[:-1])
                        + (f"<td><ul>{alerts}</ul></td>" if alerts else "<td>-</td>") + "</tr>")
        sections.append(f"<section><h2>{escape(home)} <small>{escape(_summary(rows, words))}</small></h2>"
                        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></section>")
    if not status.homes:
        sections.append(f"<p>{escape(words['empty'])}</p>")
    asked = words["html_from"].format(status.source, _time(status.asked_at, zone), zone)
    return _template().substitute(language=language, title=escape(words["title"]), asked=escape(asked),
                                  sections="\n".join(sections))


__all__ = ["QUERIES", "WINDOW", "WORDS", "LANGUAGES", "shown", "Alert", "DeviceStatus", "FleetStatus", "collect", "fleet_status", "cells",
           "text_page", "html_page"]
