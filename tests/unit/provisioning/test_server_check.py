"""palim-provision server-check against the stand-in, configured well and badly (issue 14, item 3)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from jitsi_standin.server import StandinServer
from provisioning.cli import main


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["server-check", *argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def lines(output: str) -> dict[str, str]:
    """check name -> status, from the text output."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[0] in ("ok", "warn", "fail"):
            found[parts[1] if parts[1] not in ("deep", "welcome", "close", "app") else " ".join(parts[1:3])] = \
                parts[0]
    return found


@pytest.fixture(scope="module")
def good():
    with StandinServer() as server:
        yield server


@pytest.fixture(scope="module")
def bad():
    with StandinServer(server_config="bad", cert_days=10) as server:
        yield server


def test_a_well_set_up_server_is_all_ok(capsys, good):
    code, output = run(capsys, good.url, "--pin", good.cert_sha256)
    print(output)  # the closing note quotes it (-s)
    assert code == 0
    assert set(lines(output).values()) == {"ok"}, output
    assert len(lines(output)) == 12
    assert output.splitlines()[0] == good.url
    assert output.splitlines()[-1] == "1 server(s) checked: ready for kiosks"


def test_a_badly_set_up_server_fails_and_says_how_to_fix_it(capsys, bad):
    code, output = run(capsys, bad.url, "--pin", bad.cert_sha256)
    print(output)
    assert code == 1
    assert lines(output) == {"tls": "ok", "certificate": "warn", "external_api.js": "ok", "prejoin": "warn",
                             "deep linking": "warn", "welcome page": "warn", "close page": "warn", "p2p": "warn",
                             "tokens": "fail", "watermarks": "warn", "app promotion": "warn", "presence": "ok"}
    assert "expires in 9 days" in output
    for line in output.splitlines():
        if line.split()[0] in ("warn", "fail"):
            assert "; fix: " in line, line
    assert output.splitlines()[-1] == "1 server(s) checked, 1 with failures"


def test_a_wrong_pin_fails_before_anything_is_asked(capsys, good):
    good.clear()
    code, output = run(capsys, good.url, "--pin", "0" * 64)
    assert code == 1
    assert f"fail  tls" in output and good.cert_sha256 in output
    assert good.requests == []  # no request went to a server the kiosks would refuse


def test_a_self_signed_server_without_a_pin_fails_and_names_the_pin(capsys, good):
    code, output = run(capsys, good.url)
    assert code == 1
    assert "fail  tls" in output and f"tls_pins: ['{good.cert_sha256}']" in output


def test_an_unreachable_server_fails(capsys):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    code, output = run(capsys, f"https://127.0.0.1:{port}")
    assert code == 1
    assert f"fail  reachable           cannot reach 127.0.0.1:{port}" in output


def test_a_server_without_external_api_js_fails(capsys):
    with StandinServer() as server:
        server.external_api_status = 404
        code, output = run(capsys, server.url, "--pin", server.cert_sha256)
    assert code == 1
    assert lines(output)["external_api.js"] == "fail"
    assert "HTTP 404" in output


def test_presence_that_is_configured_and_broken_fails(capsys, good):
    good.room_size_status = 500
    try:
        code, output = run(capsys, good.url, "--pin", good.cert_sha256, "--presence",
                           f"{good.url}/room-size?room={{room}}&domain=conference.meet.jitsi")
    finally:
        good.room_size_status = 200
    assert code == 1 and lines(output)["presence"] == "fail"


def test_the_token_goes_to_presence(capsys, good, tmp_path):
    token = tmp_path / "ebh-01.jwt"
    token.write_text("header.payload.signature\n")
    good.clear()
    code, _ = run(capsys, good.url, "--pin", good.cert_sha256, "--token-file", str(token))
    assert code == 0
    assert "/room-size" in good.requests


def test_every_distinct_server_of_a_device_list_with_its_pins(capsys, good, bad, tmp_path):
    devices = tmp_path / "devices.yaml"
    devices.write_text(f"""\
version: 1
defaults:
  server: {good.url}
  tls_pins: ['{good.cert_sha256}']
homes:
  ebh:
    name: EBH
    wifi: {{ssid: EBH-Bewohner, psk_env: EBH_PSK}}
  other:
    name: Other
    server: {bad.url}
    tls_pins: ['{bad.cert_sha256}']
    wifi: {{ssid: Other, psk_env: EBH_PSK}}
devices:
  - {{id: ebh-01, home: ebh, resident: Erna Müller, room: palim-l2hdeebeoie5kzya3mw4pgrmnb, match: {{mac: "3c:52:82:1a:2b:3c"}}}}
  - {{id: ebh-02, home: ebh, resident: Karl Bauer, room: palim-ztrcxt2gj4ooxf57vnkpbgxi37, match: {{mac: "3c:52:82:1a:2b:3d"}}}}
  - {{id: oth-01, home: other, resident: Otto, room: palim-q2m4k9x3c8v5b1n6z0r4t7w2y7, match: {{mac: "3c:52:82:1a:2b:3e"}}}}
""")
    code, output = run(capsys, "--devices", str(devices), "--json")
    assert code == 1
    result = json.loads(output)
    assert [(s["server"], s["ok"]) for s in result["servers"]] == [(good.url, True), (bad.url, False)]
    assert result["ok"] is False
    finding = result["servers"][1]["findings"][8]
    assert finding["status"] == "fail" and finding["check"] == "tokens" and finding["fix"]


@pytest.mark.parametrize("argv", [["http://example.org"], ["https://x.example.org/room"],
                                  ["https://127.0.0.1:1", "--pin", "abc"],
                                  ["https://127.0.0.1:1", "--token-file", "/nonexistent/ebh-01.jwt"]])
def test_wrong_input_is_exit_2(capsys, argv):
    code, output = run(capsys, *argv)
    assert code == 2 and output.startswith("palim-provision: ")


@pytest.mark.parametrize("argv", [[], ["https://127.0.0.1:1", "--devices", "devices.yaml"]])
def test_url_or_devices_exactly_one(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        run(capsys, *argv)
    assert exited.value.code == 2


def test_an_expired_certificate_fails(capsys):
    with StandinServer(cert_days=0) as server:
        code, output = run(capsys, server.url, "--pin", server.cert_sha256)
    assert code == 1
    assert "fail  certificate         expired on " in output


def _in_child(url: str, trust_store: Path, *argv: str) -> subprocess.CompletedProcess:
    """palim-provision in a child whose OpenSSL trust store is only this file (never the machine's)."""
    env = {"PATH": os.environ["PATH"], "SSL_CERT_FILE": str(trust_store), "SSL_CERT_DIR": "/nonexistent"}
    return subprocess.run([sys.executable, "-m", "provisioning.cli", "server-check", url, *argv], env=env,
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[3])


def test_a_chain_the_systems_trust_store_holds_needs_no_pin(good):
    # The stand-in's self-signed certificate is its own trust anchor: put it in a throwaway trust store.
    done = _in_child(good.url, good.cert_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok    tls                 the chain is valid for this system's CA store\n" in done.stdout


def test_a_trusted_chain_with_a_stale_pin_still_fails(good):
    # Background requests of a kiosk with pins accept only a pinned leaf: a CA does not rescue a stale pin.
    done = _in_child(good.url, good.cert_path, "--pin", "1" * 64)
    assert done.returncode == 1
    assert "fail  tls " in done.stdout and good.cert_sha256 in done.stdout


def test_the_stand_in_knows_only_a_good_and_a_bad_server_configuration():
    with pytest.raises(ValueError, match="'good' or 'bad'"):
        StandinServer(server_config="stock")
