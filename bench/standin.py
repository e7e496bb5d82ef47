"""The loopback Jitsi stand-in with what the benchmarks need on top: timestamps, a true remote peer, a Chromium host page.

Additive only, through jitsi_standin's public interface: the tests and the demo use jitsi_standin/ unchanged.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from jitsi_standin import ROOM_PATH, StandinHandler, StandinServer, static_file  # noqa: E402

STATIC = Path(__file__).resolve().parent / "static"


class _BenchHandler(StandinHandler):
    """Adds /_bench/host.html (the Chromium kiosk's page), /_bench/options.json and the remote-peer script."""

    def do_GET(self) -> None:  # noqa: N802 (name fixed by the base class)
        standin: BenchStandin = self.server.standin  # type: ignore[assignment]
        path = urlsplit(self.path).path
        if path == "/_bench/host.html":
            standin.record_request(path)
            self.send_body(200, (STATIC / "host.html").read_bytes(), "text/html; charset=utf-8")
        elif path == "/_bench/options.json":
            standin.record_request(path)
            self.send_json(200, standin.join_options)
        elif path == "/_bench/peer.js":
            standin.record_request(path)
            self.send_body(200, (STATIC / "peer.js").read_bytes(), "text/javascript; charset=utf-8")
        elif standin.remote_peer and ROOM_PATH.match(path):
            standin.record_request(path)
            page = static_file("room.html").replace(b"</body>", b'<script src="/_bench/peer.js"></script>\n</body>')
            self.send_body(200, page, "text/html; charset=utf-8")
        else:
            super().do_GET()

    do_HEAD = do_GET


class BenchStandin(StandinServer):
    """The stand-in, timestamping requests and reports, optionally sending the camera through a real WebRTC peer."""

    handler_class = _BenchHandler

    def __init__(self, *args, remote_peer: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.remote_peer = remote_peer
        self.join_options: dict = {}
        self.timeline: list[tuple[float, str, str]] = []  # (monotonic time, "request"|"report", path or type)
        self._timeline_lock = threading.Lock()

    def record_request(self, path: str) -> None:
        with self._timeline_lock:
            self.timeline.append((time.monotonic(), "request", path))
        super().record_request(path)

    def add_report(self, report: dict) -> None:
        with self._timeline_lock:
            self.timeline.append((time.monotonic(), "report", str(report.get("type"))))
        super().add_report(report)

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self.clear()
        with self._timeline_lock:
            self.timeline.clear()

    def first(self, kind: str, what: str, after: float = 0.0) -> float | None:
        """Monotonic time of the first request path / report type seen after `after`."""
        with self._timeline_lock:
            for when, k, w in self.timeline:
                if k == kind and w == what and when >= after:
                    return when
        return None

    def wait_first(self, kind: str, what: str, after: float, timeout: float) -> float:
        """Like first(), waiting up to timeout seconds; TimeoutError if it does not come."""
        deadline = time.monotonic() + timeout
        while (found := self.first(kind, what, after)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {kind} {what!r} within {timeout} s")
            time.sleep(0.005)
        return found

    def bench_host_url(self, room: str) -> str:
        """The Chromium kiosk's page: served from localhost so the Jitsi iframe is cross-origin, as in the kiosk."""
        return f"https://localhost:{self.port}/_bench/host.html?{urlencode({'room': room})}"


def _selfcheck() -> None:  # pragma: no cover - manual
    with BenchStandin() as server:
        print(server.url, server.cert_sha256, ssl.OPENSSL_VERSION, json.dumps(server.join_options))


if __name__ == "__main__":
    _selfcheck()
