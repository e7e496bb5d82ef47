"""palim-provision server-check with a token minted by palim-provision tokens, against the stand-in's token mode
(mod_muc_size with enable_roomsize_token_verification: presence wants a valid token for the room)."""

from __future__ import annotations

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
                 f"{server.url}/room-size?room={{room}}&domain=conference.meet.jitsi", *argv,
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


@pytest.mark.parametrize("secret", [None, "another-secret-of-at-least-32-bytes!"])
def test_without_a_token_or_with_a_wrong_one_presence_fails(capsys, locked, tmp_path, secret):
    token = None
    if secret:
        token = tmp_path / "ebh-01.jwt"
        token.write_text(mint(app_id="palim-stadt", secret=secret, domain="127.0.0.1", room=ROOM, resident="E"))
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
  presence: {{url: '{server.url}/room-size?room={{room}}&domain=conference.meet.jitsi'}}
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
    assert "  ok    presence            answers 404 for an empty room" in out.out, out.out
    assert "  ok    tokens              rooms need a token, guests join through guest.meet.jitsi: the kiosk has a " \
           "token" in out.out
    assert code == 0 and out.err == ""


def test_with_devices_but_no_secret_here_the_check_says_so_and_presence_fails(capsys, locked, tmp_path, monkeypatch):
    monkeypatch.delenv("PALIM_JITSI_SECRET", raising=False)
    code = main(["server-check", "--devices", devices(tmp_path, locked)])
    out = capsys.readouterr()
    assert code == 1
    assert "warning: defaults.jitsi_token.secret_env: the environment variable PALIM_JITSI_SECRET is not set" in out.err
    assert "  fail  presence            HTTP 403" in out.out
