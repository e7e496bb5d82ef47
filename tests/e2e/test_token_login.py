"""Token login through real QtWebEngine against the stand-in in token mode: a good token joins; a wrong room, an
expired token, a wrong signature and a missing token each end calm, once, and stay calm."""

from datetime import datetime, timedelta, timezone

import pytest

from kiosk.callflow import State
from kiosk.config import config_from_text
from kiosk.screen import Screen
from jitsi_standin import StandinServer
from jitsi_standin.tokens import AUTHENTICATION_REQUIRED, NOT_ALLOWED, PASSWORD_REQUIRED
from provisioning.tokens import mint
from tests.e2e.helpers import close_kiosk, config_text, fresh_room, make_kiosk, tap, wait_report

APP = "palim-e2e"
SECRET = "the-city-s-app-secret-for-the-e2e-tests"
CALM = "Der Zugang zum Server ist abgelaufen."


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    """A stand-in in token mode: every join and presence request needs a token Prosody would accept."""
    with StandinServer(cert_dir=tmp_path_factory.mktemp("cert"), app_id=APP, app_secret=SECRET) as standin:
        yield standin
    assert standin.take_dropped_overrides() == [], "overrides a real Jitsi would drop"


def kiosk_with(qtbot, server, tmp_path, room, token):
    extra = {}
    if token is not None:
        (tmp_path / "jwt").write_text(token + "\n")
        extra["jwt_file"] = str(tmp_path / "jwt")
    config = config_from_text(config_text(server, tmp_path, room=room, **extra))
    kiosk = make_kiosk(qtbot, config, tmp_path / "kiosk.yaml")
    qtbot.waitUntil(lambda: kiosk.calls.view.is_ready, timeout=20000)
    return kiosk


def test_a_good_token_joins(qtbot, token_server, tmp_path):
    room = fresh_room()
    token = mint(app_id=APP, secret=SECRET, domain="127.0.0.1", room=room, resident="Erna Müller")
    kiosk = kiosk_with(qtbot, token_server, tmp_path, room, token)
    try:
        tap(qtbot, kiosk.window.home.call_button)
        qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
        assert wait_report(qtbot, token_server, "loaded", room=room)["jwt"] == token
        assert [(r, refusal) for r, refusal in token_server.join_attempts if r == room] == [(room, None)]
        assert kiosk.health.figures.token_expiry is not None
        metrics = (tmp_path / "palim_kiosk.prom").read_text()
        assert f"palim_kiosk_token_expiry_timestamp_seconds" in metrics and token not in metrics
    finally:
        close_kiosk(kiosk)


def _expired(room):
    return mint(app_id=APP, secret=SECRET, domain="127.0.0.1", room=room, resident="Erna", valid_days=1,
                now=datetime.now(timezone.utc) - timedelta(days=3))


@pytest.mark.parametrize("case, token_for, error", [
    ("wrong room", lambda room: mint(app_id=APP, secret=SECRET, domain="127.0.0.1", room="palim-other-room",
                                     resident="Erna"), NOT_ALLOWED),
    ("expired", _expired, PASSWORD_REQUIRED),
    ("wrong signature", lambda room: mint(app_id=APP, secret="not-the-city-s-secret-at-all-32-bytes",
                                          domain="127.0.0.1", room=room, resident="Erna"), PASSWORD_REQUIRED),
    ("missing", lambda room: None, AUTHENTICATION_REQUIRED),
])
def test_a_refused_token_ends_calm_once_and_stays_calm(qtbot, token_server, tmp_path, caplog, case, token_for, error):
    room = fresh_room()
    token = token_for(room)
    kiosk = kiosk_with(qtbot, token_server, tmp_path, room, token)
    kiosk.calls.flow.timing = type(kiosk.calls.flow.timing)(connect=8.0, retry_first=0.2, retry_max=0.5,
                                                            message=2.0)
    try:
        tap(qtbot, kiosk.window.home.call_button)
        qtbot.waitUntil(lambda: kiosk.window.screen is Screen.TROUBLE, timeout=20000)
        assert kiosk.window.message.headline.text() == CALM
        assert kiosk.window.message.hint.text() == "Bitte sagen Sie dem Personal Bescheid."
        qtbot.waitUntil(lambda: kiosk.window.screen is Screen.HOME, timeout=10000)
        qtbot.wait(3000)  # longer than any retry would wait: nothing more happens
        assert kiosk.window.screen is Screen.HOME and kiosk.calls.flow.state is State.IDLE
        attempts = [refusal for r, refusal in token_server.join_attempts if r == room]
        assert len(attempts) == 1 and attempts[0].name == error
        incidents = [(i.kind, i.detail) for i in kiosk.health.figures.incidents]
        assert [kind for kind, _ in incidents if kind == "access_denied"] == ["access_denied"]
        assert any(error in detail for kind, detail in incidents if kind == "access_denied")
        assert any(error in r.getMessage() for r in caplog.records if r.name == "kiosk.flow")
        if token:
            assert not any(token in r.getMessage() for r in caplog.records)
    finally:
        close_kiosk(kiosk)


@pytest.mark.parametrize("good", [True, False])
def test_presence_carries_the_token_and_a_refused_one_never_rings(qtbot, token_server, tmp_path, good):
    room = fresh_room()
    secret = SECRET if good else "not-the-city-s-secret-at-all-32-bytes"
    token = mint(app_id=APP, secret=secret, domain="127.0.0.1", room=room, resident="Erna Müller")
    (tmp_path / "jwt").write_text(token + "\n")
    token_server.room_size[room] = 1
    presence = f"{{url: '{token_server.url}/room-size?room={{room}}&domain={token_server.xmpp_domain}', interval_s: 3}}"
    config = config_from_text(config_text(token_server, tmp_path, room=room, jwt_file=str(tmp_path / "jwt"),
                                          presence=presence))
    kiosk = make_kiosk(qtbot, config, tmp_path / "kiosk.yaml")
    try:
        if good:
            qtbot.waitUntil(lambda: kiosk.window.screen is Screen.RINGING, timeout=15000)
        else:
            qtbot.waitUntil(lambda: token_server.requests.count("/room-size") >= 1, timeout=15000)
            qtbot.wait(2000)
            assert kiosk.window.screen is Screen.HOME  # 403: unknown, never a ring
    finally:
        close_kiosk(kiosk)
