"""palim-provision server-check with a token minted by palim-provision tokens, against the stand-in's token mode
(mod_muc_size with enable_roomsize_token_verification: presence wants a valid token for the room)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jitsi_standin.server import StandinServer
from provisioning.cli import main
from provisioning.tokens import mint

ROOM = "palim-l2hdeebeoie5kzya3mw4pgrmnb"
SECRET = "the-city-secret-of-at-least-32-bytes"


@pytest.fixture(scope="module")
def locked():
    with StandinServer(app_id="palim-stadt", app_secret=SECRET) as server:
        yield server


def check(capsys, server, token_file, *argv):
    code = main(["server-check", server.url, "--pin", server.cert_sha256, "--presence",
                 f"{server.url}/room-size?room={{room}}&domain=127.0.0.1", *argv,
                 *(["--token-file", str(token_file)] if token_file else [])])
    out = capsys.readouterr()
    presence = [line for line in out.out.splitlines() if line.split()[1:2] == ["presence"]]
    return code, presence[0]


def test_a_token_minted_by_tokens_is_accepted(capsys, locked, tmp_path):
    token = tmp_path / "ebh-01.jwt"
    token.write_text(mint(app_id="palim-stadt", secret=SECRET, domain="127.0.0.1", room=ROOM,
                          resident="Erna Müller") + "\n")
    code, presence = check(capsys, locked, token)
    assert presence.startswith("  ok    presence"), presence
    assert code == 0


@pytest.mark.parametrize("valid_days", [None, -2])
def test_without_a_token_or_with_an_expired_one_presence_fails(capsys, locked, tmp_path, valid_days):
    # (a token signed with another secret gets mod_muc_size's same bare 403 as an empty room: the token login check
    # against real Prosody refuses it, tests/unit/kiosk/core/test_servercheck_prosody.py)
    token = None
    if valid_days:
        token = tmp_path / "ebh-01.jwt"
        token.write_text(mint(app_id="palim-stadt", secret=SECRET, domain="127.0.0.1", room=ROOM, resident="E",
                              valid_days=1, now=datetime.now(timezone.utc) + timedelta(days=valid_days)))
    code, presence = check(capsys, locked, token)
    assert code == 1 and presence.startswith("  fail  presence            HTTP 403"), presence


def devices(tmp_path, server) -> str:
    path = tmp_path / "devices.yaml"
    path.write_text(f"""\
version: 1
defaults:
  server: {server.url}
  tls_pins: ['{server.cert_sha256}']
  jitsi_token: {{app_id: palim-stadt, secret_env: PALIM_JITSI_SECRET}}
  presence: {{url: '{server.url}/room-size?room={{room}}&domain=127.0.0.1'}}
homes:
  ebh:
    name: EBH
    wifi: {{ssid: EBH-Bewohner, psk_env: EBH_PSK}}
devices:
  - {{id: ebh-01, home: ebh, resident: Erna Müller, room: {ROOM}, match: {{mac: "3c:52:82:1a:2b:3c"}}}}
""")
    return str(path)


def test_with_devices_the_token_is_minted_from_the_list(capsys, locked, tmp_path, monkeypatch):
    monkeypatch.setenv("PALIM_JITSI_SECRET", SECRET)
    code = main(["server-check", "--devices", devices(tmp_path, locked)])
    out = capsys.readouterr()
    assert "  ok    presence            answers 403 for the token's room while nobody is in it" in out.out, out.out
    tokens = next(line for line in out.out.splitlines() if line.startswith("  ok    tokens "))
    assert "rooms need a token, guests join through guest.meet.jitsi" in tokens and "the kiosk has a token" in tokens
    assert code == 0 and out.err == ""


def test_with_devices_but_no_secret_here_the_check_says_so_and_presence_fails(capsys, locked, tmp_path, monkeypatch):
    monkeypatch.delenv("PALIM_JITSI_SECRET", raising=False)
    code = main(["server-check", "--devices", devices(tmp_path, locked)])
    out = capsys.readouterr()
    assert code == 1
    assert "warning: defaults.jitsi_token.secret_env: the environment variable PALIM_JITSI_SECRET is not set" in out.err
    assert "  fail  presence            HTTP 403" in out.out
