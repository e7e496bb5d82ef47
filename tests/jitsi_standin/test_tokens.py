"""The stand-in's token mode checks a token as Prosody's token authentication does, and mod_muc_size's presence too."""

from datetime import datetime, timedelta, timezone

import jwt
import pytest
import requests

from jitsi_standin import StandinServer
from jitsi_standin.tokens import AUTHENTICATION_REQUIRED, NOT_ALLOWED, PASSWORD_REQUIRED, TokenAuth
from provisioning.tokens import mint

APP, SECRET, DOMAIN, ROOM = "palim-city", "s3cret-of-the-city-at-least-32-bytes", "meet.example.org", "r-abc"
AUTH = TokenAuth(APP, SECRET, DOMAIN)


def token(**overrides) -> str:
    claims = {"iss": APP, "aud": APP, "sub": DOMAIN, "room": ROOM,
              "exp": int((datetime.now(timezone.utc) + timedelta(days=1)).timestamp())}
    claims.update(overrides)
    secret = claims.pop("secret", SECRET)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def test_a_minted_token_is_accepted_for_its_room_only():
    good = mint(app_id=APP, secret=SECRET, domain=DOMAIN, room=ROOM, resident="Erna")
    assert AUTH.check(good, ROOM) is None
    assert AUTH.check(good, "another-room").name == NOT_ALLOWED


@pytest.mark.parametrize("claims, name, reason", [
    ({"secret": "another-secret-of-at-least-32-bytes!"}, PASSWORD_REQUIRED, "signature"),
    ({"exp": int((datetime.now(timezone.utc) - timedelta(minutes=1)).timestamp())}, PASSWORD_REQUIRED, "expired"),
    ({"exp": None}, PASSWORD_REQUIRED, "exp"),
    ({"nbf": int((datetime.now(timezone.utc) + timedelta(hours=1)).timestamp())}, PASSWORD_REQUIRED, "not valid"),
    ({"iss": "someone"}, PASSWORD_REQUIRED, "iss"),
    ({"aud": "someone"}, PASSWORD_REQUIRED, "aud"),
    ({"sub": "other.example.org"}, PASSWORD_REQUIRED, "sub"),
    ({"room": "r-other"}, NOT_ALLOWED, "another room"),
])
def test_what_prosody_refuses_is_refused(claims, name, reason):
    refusal = AUTH.check(token(**claims), ROOM)
    assert refusal is not None and refusal.name == name and reason in refusal.reason


def test_wildcards_are_accepted_where_prosody_accepts_them():
    assert AUTH.check(token(aud="*", sub="*", room="*"), ROOM) is None


def test_no_token_or_rubbish():
    assert AUTH.check(None, ROOM).name == AUTHENTICATION_REQUIRED
    assert AUTH.check("", ROOM).name == AUTHENTICATION_REQUIRED
    assert AUTH.check("not.a.token", ROOM).name == PASSWORD_REQUIRED


def test_refusal_payload_is_jitsi_meets_error_shape():
    error = AUTH.check(token(room="x"), ROOM).error()
    assert error == {"name": NOT_ALLOWED, "type": "CONFERENCE", "isFatal": False, "message": error["message"]}
    assert AUTH.check(None, ROOM).error()["type"] == "CONFERENCE"
    assert AUTH.check(token(iss="x"), ROOM).error()["type"] == "CONNECTION"


def test_token_mode_needs_id_and_secret():
    with pytest.raises(ValueError, match="both"):
        StandinServer(app_id=APP)


def test_presence_and_room_pages_in_token_mode(tmp_path):
    with StandinServer(cert_dir=tmp_path, app_id=APP, app_secret=SECRET) as server:
        server.room_size[ROOM] = 2
        good = mint(app_id=APP, secret=SECRET, domain="127.0.0.1", room=ROOM, resident="Erna")
        base = f"{server.url}/room-size?room={ROOM}&domain={server.xmpp_domain}"
        get = lambda url: requests.get(url, verify=str(server.cert_path), timeout=5)  # noqa: E731
        assert get(base + f"&token={good}").json() == {"participants": 2}
        assert get(base).status_code == 403
        wrong = token(sub="127.0.0.1", secret="wrong-secret-of-at-least-32-bytes!!")
        assert get(base + "&token=" + wrong).status_code == 403
        assert get(f"{server.url}/room-size?room=r-other&domain={server.xmpp_domain}&token={good}").status_code == 403
        # As mod_muc_size with enable_roomsize_token_verification: the MUC domain as domain= is another room
        # address (403), and so is an empty room (verify_room refuses rooms that do not exist).
        assert get(f"{server.url}/room-size?room={ROOM}&domain=conference.{server.xmpp_domain}&token={good}"
                   ).status_code == 403
        empty = mint(app_id=APP, secret=SECRET, domain="127.0.0.1", room="r-empty", resident="Erna")
        assert get(f"{server.url}/room-size?room=r-empty&domain={server.xmpp_domain}&token={empty}").status_code == 403
        page = get(f"{server.url}/{ROOM}?jwt={good}").text
        assert "PALIM_STANDIN_REFUSAL" not in page
        page = get(f"{server.url}/{ROOM}").text
        assert f'"name": "{AUTHENTICATION_REQUIRED}"' in page
        assert [(room, refusal and refusal.name) for room, refusal in server.join_attempts] == [
            (ROOM, None), (ROOM, AUTHENTICATION_REQUIRED)]
    with StandinServer(cert_dir=tmp_path) as server:  # no token mode: presence needs none
        server.room_size[ROOM] = 1
        assert requests.get(f"{server.url}/room-size?room={ROOM}&domain=127.0.0.1", verify=str(server.cert_path),
                            timeout=5).json() == {"participants": 1}


def test_python_m_jitsi_standin_has_a_token_mode(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    env.pop("JITSI_STANDIN_APP_SECRET", None)
    refused = subprocess.run([sys.executable, "-m", "jitsi_standin", "--port", "0", "--app-id", APP], cwd=repo,
                             capture_output=True, text=True, env=env, timeout=30)
    assert refused.returncode == 2 and "JITSI_STANDIN_APP_SECRET" in refused.stderr
    process = subprocess.Popen([sys.executable, "-m", "jitsi_standin", "--port", "0", "--cert-dir", str(tmp_path),
                                "--app-id", APP], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**env, "JITSI_STANDIN_APP_SECRET": SECRET})
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        url = lines[0].split(" on ", 1)[1].split()[0]
        get = lambda query: requests.get(f"{url}/room-size?room={ROOM}&domain=127.0.0.1{query}",  # noqa: E731
                                         verify=str(tmp_path / "standin-cert.pem"), timeout=5)
        good = mint(app_id=APP, secret=SECRET, domain="127.0.0.1", room=ROOM, resident="Erna")
        assert get("").status_code == 403 and get(f"&token={good}").status_code == 403  # no such room: 403 too
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert lines[3].startswith(f"token mode: app id {APP}, sub 127.0.0.1")
    assert SECRET not in "".join(lines) + out + err and process.returncode == 0
