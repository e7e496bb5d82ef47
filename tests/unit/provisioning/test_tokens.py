"""palim-provision tokens, and token login through render and apply: one token per device, secrets never shown."""

import json
import os
import stat
import textwrap
from datetime import datetime, timezone

import jwt
import pytest

from kiosk.config import load_config
from provisioning.cli import main
from provisioning.devicelist import DeviceListError, JWT_FILE, load_text
from provisioning.tokens import device_tokens, mint

SECRET = "the-city-s-app-secret-0123456789abcdef"
LIST = textwrap.dedent("""\
    version: 1
    defaults:
      server: https://konferenz.example.org
      jitsi_token: {app_id: palim-city, secret_env: PALIM_JITSI_SECRET}
    homes:
      ebh:
        name: EBH
      rsh:
        name: RSH
        jitsi_token: {app_id: palim-rsh, secret_file: secrets/rsh.secret, sub: meet.example.org, valid_days: 30}
    devices:
      - id: ebh-01
        home: ebh
        resident: Erna Müller
        room: palim-l2hdeebeoie5kzya3mw4pgrmnb
        match: {mac: "3c:52:82:1a:2b:3c"}
      - id: rsh-01
        home: rsh
        resident: Karl Bauer
        room: palim-ztrcxt2gj4ooxf57vnkpbgxi37
        match: {serial: "5CG1234XYZ"}
    """)
NOW = datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc)


@pytest.fixture
def listfile(tmp_path, monkeypatch):
    path = tmp_path / "devices.yaml"
    path.write_text(LIST)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "rsh.secret").write_text("rsh-secret-of-the-home-0123456789abcdef\n")
    monkeypatch.setenv("PALIM_JITSI_SECRET", SECRET)
    return path


def claims(token: str, secret: str, app: str) -> dict:
    return jwt.decode(token, secret, algorithms=["HS256"], audience=app,
                      options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})


def test_each_device_gets_a_token_for_its_own_room(listfile):
    loaded = load_text(LIST, str(listfile))
    tokens, unavailable, wrong = device_tokens(loaded, loaded.targets, now=NOW)
    assert unavailable == wrong == []
    ebh = claims(tokens["ebh-01"], SECRET, "palim-city")
    assert ebh["iss"] == ebh["aud"] == "palim-city"
    assert ebh["sub"] == "konferenz.example.org"  # default: the server's host name
    assert ebh["room"] == "palim-l2hdeebeoie5kzya3mw4pgrmnb"
    assert ebh["context"] == {"user": {"name": "Erna Müller"}} and ebh["moderator"] is True
    start = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
    assert ebh["exp"] - start == 365 * 86400 and ebh["iat"] == start
    rsh = claims(tokens["rsh-01"], "rsh-secret-of-the-home-0123456789abcdef", "palim-rsh")
    assert rsh["sub"] == "meet.example.org" and rsh["exp"] - start == 30 * 86400
    # The same day mints the same token: applying twice shows no change.
    assert device_tokens(loaded, loaded.targets, now=NOW.replace(hour=23))[0] == tokens
    assert all(t.config.jwt_file == JWT_FILE for t in loaded.targets)


def test_missing_and_wrong_secrets_are_named_never_shown(listfile, tmp_path):
    loaded = load_text(LIST, str(listfile))
    _, unavailable, wrong = device_tokens(loaded, loaded.targets, env={})
    assert [p.message for p in unavailable] == [
        "the environment variable PALIM_JITSI_SECRET is not set (it must hold the app secret)"]
    (tmp_path / "secrets" / "rsh.secret").unlink()
    (tmp_path / "secrets" / "rsh.secret").mkdir()
    _, unavailable, wrong = device_tokens(loaded, loaded.targets, env={"PALIM_JITSI_SECRET": " "})
    assert [p.message for p in wrong][0] == "the app secret is empty"
    assert "is a folder, not a file: it cannot be a secret" in wrong[1].message


@pytest.mark.parametrize("block, message", [
    ("{app_id: a, secret: x}", "never go in this file"),
    ("{app_id: a}", "exactly one of secret_env"),
    ("{app_id: a, secret_env: A, secret_file: b}", "exactly one of secret_env"),
    ("{app_id: a, secret_env: 'not a name'}", "name of an environment variable"),
    ("{app_id: a, secret_env: A, valid_days: 0}", "greater than or equal to 1"),
])
def test_a_bad_jitsi_token_block_is_refused(block, message):
    text = LIST.replace("{app_id: palim-city, secret_env: PALIM_JITSI_SECRET}", block)
    with pytest.raises(DeviceListError) as caught:
        load_text(text, "devices.yaml")
    assert any(message in p.message for p in caught.value.problems), caught.value.problems


def test_the_tokens_command_prints_or_writes_them(listfile, tmp_path, capsys):
    assert main(["tokens", str(listfile), "--device", "ebh-01"]) == 0
    device, token = capsys.readouterr().out.split()
    assert device == "ebh-01" and claims(token, SECRET, "palim-city")["room"] == "palim-l2hdeebeoie5kzya3mw4pgrmnb"
    assert main(["tokens", str(listfile), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "eyJ" not in out
    written = tmp_path / "out" / "rsh-01.jwt"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert claims(written.read_text().strip(), "rsh-secret-of-the-home-0123456789abcdef", "palim-rsh")


def test_the_tokens_command_without_token_login_or_secret(tmp_path, monkeypatch, capsys):
    path = tmp_path / "devices.yaml"
    path.write_text(LIST.replace("  jitsi_token: {app_id: palim-city, secret_env: PALIM_JITSI_SECRET}\n", ""))
    assert main(["tokens", str(path), "--device", "ebh-01"]) == 2
    assert "has token login" in capsys.readouterr().err
    monkeypatch.delenv("PALIM_JITSI_SECRET", raising=False)
    path.write_text(LIST)
    assert main(["tokens", str(path), "--device", "ebh-01"]) == 2
    assert "PALIM_JITSI_SECRET is not set" in capsys.readouterr().err


def test_apply_writes_the_token_and_never_shows_it(listfile, tmp_path, capsys):
    root = tmp_path / "root"
    root.mkdir()
    token = device_tokens(load_text(LIST, str(listfile)), load_text(LIST, str(listfile)).targets)[0]["ebh-01"]
    assert main(["apply", str(listfile), "--device", "ebh-01", "--root", str(root), "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert main(["apply", str(listfile), "--device", "ebh-01", "--root", str(root), "--json"]) == 0
    report = capsys.readouterr().out
    for shown in (dry, report):
        assert token not in shown and SECRET not in shown and "eyJ" not in shown
    assert JWT_FILE in json.loads(report)["diff"]
    written = root / JWT_FILE.lstrip("/")
    assert written.read_text() == token + "\n"
    assert stat.S_IMODE(written.stat().st_mode) == 0o640
    config = load_config(root / "etc/palim-kiosk/kiosk.yaml")
    assert config.jwt_file == JWT_FILE
    manifest = (root / "var/lib/palim-provision/manifest.json").read_text()
    entry = next(f for f in json.loads(manifest)["files"] if f["path"] == JWT_FILE)
    assert entry["secret"] is True and "sha256" not in entry and token not in manifest
    # A renewed token: the old one and the new one are both hidden in the diff.
    old = mint(app_id="palim-city", secret=SECRET, domain="konferenz.example.org", room="x", resident="E",
               now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    written.write_text(old + "\n")
    assert main(["apply", str(listfile), "--device", "ebh-01", "--root", str(root), "--dry-run"]) == 0
    again = capsys.readouterr().out
    assert JWT_FILE in again and old not in again and token not in again and "eyJ" not in again
    assert main(["apply", str(listfile), "--device", "ebh-01", "--root", str(root)]) == 0
    capsys.readouterr()
    assert main(["apply", str(listfile), "--device", "ebh-01", "--root", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] == []  # the same day: nothing to change
