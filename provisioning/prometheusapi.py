"""Asking the fleet hub's Prometheus over its HTTP API: instant queries and the alerts it holds.

Every request goes through kiosk.core.boundedhttp (a whole deadline, a capped answer, no redirect followed; https
against the operating system's CA store, where a city CA is installed: no way around a certificate). Every way it
fails becomes a PrometheusError whose message says what to check.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

from kiosk.core.boundedhttp import FetchError, fetch

DEADLINE_S = 20.0  # one query over 14 days of a few hundred devices takes well under a second on the hub
MAX_ANSWER_BYTES = 32 << 20  # a thousand devices' series and alerts are a few MiB


class PrometheusError(Exception):
    """Prometheus could not be asked, or what answered is not Prometheus."""


def check_url(url: str) -> str:
    """The base address of Prometheus' web (http(s)://host:port[/path]), without a trailing slash; PrometheusError
    for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PrometheusError(f"{url!r} is not an http:// or https:// address (like http://127.0.0.1:9090)")
    if parts.username or parts.password:
        raise PrometheusError("the address holds a user name or password: they would show in process lists and "
                              "shell histories; reach Prometheus through an SSH tunnel or on the hub itself")
    if parts.query or parts.fragment:
        raise PrometheusError(f"{url!r} has a query or fragment: give only Prometheus' address, like "
                              f"http://127.0.0.1:9090")
    try:
        parts.port
    except ValueError:
        raise PrometheusError(f"{url!r} has no valid port") from None
    return url.rstrip("/")


class Prometheus:
    """One Prometheus server, asked through its HTTP API (/api/v1)."""

    def __init__(self, url: str, deadline_s: float = DEADLINE_S):
        self.url = check_url(url)
        self.deadline_s = deadline_s

    def _get(self, path: str, params: dict[str, str] | None = None) -> object:
        address = f"{self.url}/api/v1/{path}" + (f"?{urlencode(params)}" if params else "")
        try:
            answer = fetch(address, deadline_s=self.deadline_s, max_bytes=MAX_ANSWER_BYTES,
                           headers={"Accept": "application/json"})
        except FetchError as exc:
            raise PrometheusError(f"Prometheus at {self.url} cannot be asked: {exc}") from None
        try:  # Prometheus answers its errors (400, 422, 503) in JSON too
            data = json.loads(answer.body) if answer.content_type == "application/json" else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("status") not in ("success", "error"):
            raise PrometheusError(f"{self.url} did not answer like Prometheus (HTTP {answer.status}, "
                                  f"{answer.content_type or 'no type'}): is it Prometheus' address, like "
                                  f"http://127.0.0.1:9090?")
        if data["status"] == "error":
            reason = str(data.get("error", "no reason given"))[:300]
            raise PrometheusError(f"Prometheus at {self.url} refused the query: {reason}")
        return data.get("data")

    def query(self, expr: str) -> list[dict]:
        """An instant query's samples: [{"metric": {labels}, "value": [time, "text"]}, ...]."""
        data = self._get("query", {"query": expr})
        if not isinstance(data, dict) or data.get("resultType") != "vector" or not isinstance(data.get("result"), list):
            raise PrometheusError(f"Prometheus at {self.url} gave no list of samples for {expr}")
        return [s for s in data["result"] if isinstance(s, dict) and isinstance(s.get("metric"), dict)
                and isinstance(s.get("value"), list) and len(s["value"]) == 2]

    def alerts(self) -> list[dict]:
        """The alerts Prometheus holds now (pending and firing): [{"labels", "annotations", "state"}, ...]."""
        data = self._get("alerts")
        if not isinstance(data, dict) or not isinstance(data.get("alerts"), list):
            raise PrometheusError(f"Prometheus at {self.url} gave no list of alerts")
        return [a for a in data["alerts"] if isinstance(a, dict) and isinstance(a.get("labels"), dict)]


__all__ = ["Prometheus", "PrometheusError", "check_url"]
