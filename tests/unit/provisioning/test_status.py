"""palim-provision status against a real Prometheus (Debian's) on loopback, scraping the kiosk's own metrics text
(kiosk.health.Health.metrics) from loopback endpoints, with the shipped alert rules (their waits shortened); and
every bad input: an address that is not one, nobody listening, not Prometheus, a certificate not trusted, a bad
--html path."""

from __future__ import annotations

import json
import re
import ssl
import threading
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from kiosk.health import Health
from provisioning.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, main
from provisioning.monitoring import RULES_FILE, prometheus_config, shortened_rules
from tests.realprometheus import MetricsEndpoint, start_prometheus
from tests.unit.kiosk.core.test_https import make_city_ca_and_server_cert
from tests.vm.machine import free_port

NOW = datetime.now(timezone.utc)
HOSTILE = '<script>alert("x")</script>&'


def kiosk_text(device: str, home: str, **figures) -> str:
    """What the kiosk writes for node_exporter's textfile collector."""
    return Health(device=device, home=home, started_at=NOW - timedelta(hours=3), **figures).metrics()


class Fleet:
    """Three devices in two homes, watched by a real Prometheus, until the block ends."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.ebh_01 = MetricsEndpoint(kiosk_text(
            "ebh-01", "ebh", release="1.4.2", last_call_end=NOW - timedelta(hours=2), token_configured=True,
            token_expiry=NOW + timedelta(days=100, hours=1)))
        # ebh-02's release label holds a terminal's escape sequence (clear the screen), as a hostile device might.
        self.ebh_02 = MetricsEndpoint(kiosk_text("ebh-02", "ebh", release="1.4.1\x1b[2J"))
        # The kiosk on sonnenhang-01 has stopped (its last words: up 0) and could not read its token; its release
        # label is what a hostile device could send: the page must show it as text.
        self.sonnenhang_01 = MetricsEndpoint(kiosk_text("sonnenhang-01", "sonnenhang", release=HOSTILE,
                                                        running=False, token_configured=True))

    def __enter__(self) -> "Fleet":
        for endpoint in (self.ebh_01, self.ebh_02, self.sonnenhang_01):
            endpoint.__enter__()
        targets = [{"targets": [e.address], "labels": {"device": d, "home": h}}
                   for e, d, h in ((self.ebh_01, "ebh-01", "ebh"), (self.ebh_02, "ebh-02", "ebh"),
                                   (self.sonnenhang_01, "sonnenhang-01", "sonnenhang"))]
        (self.tmp_path / "devices.json").write_text(json.dumps(targets))
        # The alerts' waits shortened to a second, but for a device dark by day (that one would depend on the hour).
        rules = yaml.safe_load(shortened_rules(RULES_FILE.read_text(), 1))
        for rule in rules["groups"][1]["rules"]:
            if rule["alert"] == "PalimDeviceUnreachable":
                rule["for"] = "1h"
        (self.tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
        config = prometheus_config([str(self.tmp_path / "devices.json")], [str(self.tmp_path / "rules.yml")],
                                   scrape_interval_s=1, evaluation_interval_s=1)
        self._prometheus = start_prometheus(self.tmp_path / "prometheus", config)
        self.prometheus = self._prometheus.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._prometheus.__exit__(*exc)
        for endpoint in (self.ebh_01, self.ebh_02, self.sonnenhang_01):
            try:
                endpoint.__exit__(*exc)
            except OSError:
                pass


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with Fleet(tmp_path_factory.mktemp("fleet")) as fleet:
        # Every device answered, then ebh-02 goes dark; the stopped kiosk's alert fires.
        fleet.prometheus.wait_for('count(up{job="palim-devices"} == 1) == 3')
        fleet.prometheus.wait_for('palim_kiosk_release_info{device="ebh-02"}')
        fleet.ebh_02.__exit__(None, None, None)
        fleet.prometheus.wait_for('up{device="ebh-02"} == 0')
        fleet.prometheus.wait_for('ALERTS{alertname="PalimKioskDown", alertstate="firing"}')
        fleet.prometheus.wait_for('ALERTS{alertname="PalimTokenUnreadable", alertstate="firing"}')
        yield fleet


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["status", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(text: str) -> dict[str, str]:
    return {line.split()[0]: line for line in text.splitlines() if line.startswith("  ") and "-" in line.split()[0]}


def test_the_status_shows_each_device_per_home(fleet, capsys, tmp_path):
    page = tmp_path / "status.html"
    code, out, err = run(capsys, "--prometheus", fleet.prometheus.url, "--html", str(page))
    assert code == EXIT_OK, err
    assert out.startswith(f"Fleet status from {fleet.prometheus.url} at ")
    assert "ebh: 2 devices, 1 offline\n" in out and "sonnenhang: 1 device, 2 open alerts\n" in out
    assert out.index("ebh:") < out.index("sonnenhang:")
    table = rows(out)
    berlin = (NOW - timedelta(hours=2)).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert re.search(r"online since \d\d\.\d\d\.\d{4} \d\d:\d\d", table["ebh-01"])
    assert "1.4.2" in table["ebh-01"] and berlin.strftime("%d.%m.%Y %H:%M") in table["ebh-01"]
    assert "100 days left" in table["ebh-01"] and table["ebh-01"].endswith(" -")
    assert re.search(r"OFFLINE since \d\d\.\d\d\.\d{4} \d\d:\d\d", table["ebh-02"])
    assert "none yet" in table["ebh-02"]  # the last it said, from before it went
    assert " 1.4.1\\x1b[2J " in table["ebh-02"] and "\x1b" not in out
    assert table["sonnenhang-01"].endswith("PalimKioskDown, PalimTokenUnreadable")
    assert "UNREADABLE" in table["sonnenhang-01"]
    assert HOSTILE in table["sonnenhang-01"]  # text shows what the device sent, as text
    assert err == f"wrote the status page to {page}\n"
    assert "Erna" not in out and "resident" not in out


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        if data.strip():
            self.cells.append(data.strip())


def test_the_html_page_says_the_same_with_everything_escaped(fleet, capsys, tmp_path):
    page = tmp_path / "status.html"
    code, out, _ = run(capsys, "--prometheus", fleet.prometheus.url, "--html", str(page))
    assert code == EXIT_OK
    html = page.read_text()
    assert page.stat().st_mode & 0o777 == 0o644
    assert "<script" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html
    parsed = _Text()
    parsed.feed(html)
    assert "script" not in parsed.tags and HOSTILE in parsed.cells
    for cell in ("ebh-01", "ebh-02", "sonnenhang-01", "1.4.2", "PalimKioskDown", "The kiosk on sonnenhang-01 "
                 "(sonnenhang) is not running"):
        assert cell in parsed.cells, cell
    assert [c for c in parsed.cells if c.startswith("OFFLINE since")] and "100 days left" in parsed.cells


def test_a_care_homes_page_in_german(fleet, capsys, tmp_path):
    page = tmp_path / "geraete.html"
    code, out, _ = run(capsys, "--prometheus", fleet.prometheus.url, "--html", str(page), "--language", "de")
    assert code == EXIT_OK
    assert out.startswith(f"Stand der Geräte laut {fleet.prometheus.url} am ")
    assert "ebh: 2 Geräte, 1 nicht erreichbar\n" in out and "sonnenhang: 1 Gerät, 2 offene Meldungen\n" in out
    table = rows(out)
    assert re.search(r"erreichbar seit \d\d\.\d\d\.\d{4} \d\d:\d\d", table["ebh-01"]) and "noch 100 Tage" in table["ebh-01"]
    assert re.search(r"NICHT ERREICHBAR seit \d\d", table["ebh-02"]) and "noch keiner" in table["ebh-02"]
    assert "UNLESBAR" in table["sonnenhang-01"]
    html = page.read_text()
    assert '<html lang="de">' in html and "<title>Palim: die Geräte</title>" in html
    assert "<th>Letzter Anruf</th>" in html


def test_times_follow_the_zone_asked_for(fleet, capsys):
    code, out, _ = run(capsys, "--prometheus", fleet.prometheus.url, "--timezone", "UTC")
    assert code == EXIT_OK and "(UTC)" in out.splitlines()[0]
    assert (NOW - timedelta(hours=2)).strftime("%d.%m.%Y %H:%M") in rows(out)["ebh-01"]
    code, _, err = run(capsys, "--prometheus", fleet.prometheus.url, "--timezone", "Mars/Olympus")
    assert code == EXIT_INVALID and err == "palim-provision: --timezone 'Mars/Olympus' is not a time zone (like " \
                                           "Europe/Berlin)\n"


@pytest.mark.parametrize(("url", "message"), [
    ("127.0.0.1:9090", "is not an http:// or https:// address"),
    ("ftp://127.0.0.1:9090", "is not an http:// or https:// address"),
    ("http://admin:secret@127.0.0.1:9090", "holds a user name or password"),
    ("http://127.0.0.1:9090/?x=1", "has a query or fragment"),
    ("http://127.0.0.1:99999", "has no valid port"),
])
def test_an_address_that_is_not_one_is_refused_before_asking(capsys, tmp_path, url, message):
    code, out, err = run(capsys, "--prometheus", url, "--html", str(tmp_path / "status.html"))
    assert code == EXIT_INVALID and out == "" and message in err and "Traceback" not in err
    assert "secret" not in err
    assert not (tmp_path / "status.html").exists()


def test_nobody_listening_fails_clearly_and_leaves_the_old_page(capsys, tmp_path):
    page = tmp_path / "status.html"
    page.write_text("the page from before")
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = run(capsys, "--prometheus", url, "--html", str(page))
    assert code == EXIT_FAILED and out == ""
    assert err.startswith(f"palim-provision: Prometheus at {url} cannot be asked: ") and "Traceback" not in err
    assert page.read_text() == "the page from before"
    assert [p.name for p in tmp_path.iterdir()] == ["status.html"]  # no temporary file left either


class _Server:
    """A loopback HTTP(S) server answering every GET with one body and type."""

    def __init__(self, body: bytes, content_type: str, tls: ssl.SSLContext | None = None):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(("body", "content_type"), [
    (b"<html>Jitsi Meet</html>", "text/html"),
    (b'{"hello": "world"}', "application/json"),
    (b"not json", "application/json"),
])
def test_a_server_that_is_not_prometheus_is_named_so(capsys, tmp_path, body, content_type):
    server = _Server(body, content_type)
    try:
        url = f"http://127.0.0.1:{server.port}"
        code, out, err = run(capsys, "--prometheus", url, "--html", str(tmp_path / "status.html"))
    finally:
        server.close()
    assert code == EXIT_FAILED and out == "" and "Traceback" not in err
    assert err == f"palim-provision: {url} did not answer like Prometheus (HTTP 200, {content_type}): is it " \
                  f"Prometheus' address, like http://127.0.0.1:9090?\n"
    assert not (tmp_path / "status.html").exists()


def test_a_certificate_the_system_does_not_trust_is_refused(capsys, tmp_path):
    """https is checked against the system's CA store: a self-signed hub is refused, with no way around it."""
    _, cert, key, _ = make_city_ca_and_server_cert(tmp_path)  # a CA the system does not know
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _Server(b'{"status": "success", "data": {"resultType": "vector", "result": []}}', "application/json",
                     context)
    try:
        code, out, err = run(capsys, "--prometheus", f"https://127.0.0.1:{server.port}")
    finally:
        server.close()
    assert code == EXIT_FAILED and out == "" and "Traceback" not in err
    assert "certificate" in err.lower(), err


@pytest.mark.parametrize("where", ["missing-folder/status.html", "a-file/status.html", "."])
def test_a_bad_html_path_is_refused_before_asking(capsys, tmp_path, where):
    (tmp_path / "a-file").write_text("x")
    target = tmp_path / where
    code, out, err = run(capsys, "--prometheus", f"http://127.0.0.1:{free_port()}", "--html", str(target))
    assert code == EXIT_INVALID and out == "" and "Traceback" not in err
    assert err.startswith(f"palim-provision: --html {target} ") and "name a file in an existing folder" in err
