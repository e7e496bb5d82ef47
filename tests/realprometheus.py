"""A real Prometheus and Alertmanager for tests: Debian's binaries on 127.0.0.1 at free ports, with configs the test
writes, and a loopback endpoint serving metrics in the text format for Prometheus to scrape.

Use:

    from tests.realprometheus import MetricsEndpoint, start_prometheus
    with MetricsEndpoint(text) as endpoint, start_prometheus(tmp_path, config_text) as prometheus:
        requests.get(prometheus.url + "/api/v1/query", params={"query": "up"}, timeout=5)

Prometheus answers about a second after its start; its storage lives in the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from tests.requirements import need_tool
from tests.vm.machine import free_port

START_TIMEOUT_S = 30.0


@dataclass
class Prometheus:
    """A running Prometheus: its address and its log."""

    url: str
    log: Path

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        """An instant query's result list (raises on an error answer)."""
        params = {"query": expr} if at is None else {"query": expr, "time": at}
        answer = requests.get(f"{self.url}/api/v1/query", params=params, timeout=10).json()
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        """A range query's result list."""
        params = {"query": expr, "start": start, "end": end, "step": step}
        answer = requests.get(f"{self.url}/api/v1/query_range", params=params, timeout=30).json()
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def wait_for(self, expr: str, timeout: float = 60.0) -> list[dict]:
        """Poll an instant query until it has a result (a scrape or a rule's evaluation to come)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query(expr)
            if result:
                return result
            time.sleep(0.5)
        raise AssertionError(f"{expr} gave nothing within {timeout} s; log: {self.log.read_text()[-3000:]}")


@contextlib.contextmanager
def _serving(workdir: Path, name: str, binary: str, config_text: str, *args: str) -> Iterator[str]:
    """Run a server with this config file in workdir on a free loopback port until the block ends, once its
    /-/ready answers 200; yields its address. Its log: workdir/NAME.log."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / f"{name}.yml"
    config.write_text(config_text)
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", workdir / f"{name}.log"
    command = [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}", *args]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}: {log.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} was not ready within {START_TIMEOUT_S} s: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def start_prometheus(workdir: Path, config_text: str) -> Iterator[Prometheus]:
    """Run Debian's prometheus with this config (rule files named in it must exist) until the block ends."""
    binary = need_tool("prometheus", apt="prometheus")
    with _serving(workdir, "prometheus", binary, config_text, f"--storage.tsdb.path={workdir / 'data'}") as url:
        yield Prometheus(url, workdir / "prometheus.log")


@contextlib.contextmanager
def start_alertmanager(workdir: Path, config_text: str) -> Iterator[str]:
    """Run Debian's Alertmanager with this config, alone (no cluster), until the block ends; yields its address."""
    binary = need_tool("prometheus-alertmanager", apt="prometheus-alertmanager")
    with _serving(workdir, "alertmanager", binary, config_text, f"--storage.path={workdir / 'data'}",
                  "--cluster.listen-address=") as url:
        yield url


class MetricsEndpoint:
    """http://127.0.0.1:<port>/metrics serving `text` (settable while running) in Prometheus' text format."""

    def __init__(self, text: str = ""):
        self.text = text
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = endpoint.text.encode()
                self.send_response(200 if self.path == "/metrics" else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        """host:port, as a scrape target."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> "MetricsEndpoint":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
