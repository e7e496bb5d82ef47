"""Token login on the kiosk: the token file, its expiry, the join and presence, a refusal in the call flow, metrics."""

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from kiosk.callflow import (
    ACCESS_ERRORS, CONNECT_TIMER, MESSAGE_TIMER, RETRY_TIMER, CallFlow, CallTapped, DisposeCall, Incident, JoinCall,
    Log, PageEvent, Show, StartTimer, State, TimerFired, Trouble, WebReady,
)
from kiosk.config import ConfigError, config_from_text
from kiosk.family import presence_url
from kiosk.health import Health
from kiosk.jitsi import join_options, with_jwt
from kiosk.screen import Screen
from kiosk.servertoken import WARN_DAYS, days_left, expiry_warning, read_token, token_expiry, token_fits_room

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
CONFIG = "server: https://meet.example.org\nroom: r-4f9c2a7d1e8b6053\nresident: Erna Beispiel\n"


def token(exp: datetime, secret: str = "s" * 32) -> str:
    return jwt.encode({"aud": "palim", "iss": "palim", "sub": "meet.example.org", "room": "r",
                       "exp": int(exp.timestamp())}, secret, algorithm="HS256")


def test_the_token_file_is_read_whole_and_trimmed(tmp_path):
    path = tmp_path / "jwt"
    path.write_text(" abc.def.ghi \n")
    assert read_token(path) == "abc.def.ghi"
    assert read_token(tmp_path / "missing") is None
    assert read_token(None) is None
    path.write_text("\n")
    assert read_token(path) is None
    path.write_bytes(b"x" * 20000)
    assert read_token(path) is None
    path.write_bytes("ä".encode())
    assert read_token(path) is None


def test_expiry_is_read_without_the_secret():
    exp = NOW + timedelta(days=40)
    assert token_expiry(token(exp, "the city secret, at least 32 bytes long")) == exp.replace(microsecond=0)
    assert token_expiry("not a token") is None
    assert token_expiry(jwt.encode({"room": "r"}, "k" * 32, algorithm="HS256")) is None  # no exp
    assert token_expiry(jwt.encode({"exp": "soon"}, "k" * 32, algorithm="HS256")) is None


def test_days_left_and_the_daily_warning_from_30_days_before():
    assert days_left(NOW + timedelta(days=31, hours=1), NOW) == 31
    assert expiry_warning(NOW + timedelta(days=WARN_DAYS + 1, hours=1), NOW) is None
    warning = expiry_warning(NOW + timedelta(days=WARN_DAYS, hours=1), NOW)
    assert "in 30 days" in warning and "palim-provision tokens" in warning
    assert "expired on 2026-11-29" in expiry_warning(NOW - timedelta(days=1), NOW)
    assert expiry_warning(None, NOW) is None


def test_jwt_file_in_the_config_is_an_absolute_path():
    config = config_from_text(CONFIG + "jwt_file: /etc/palim-kiosk/secrets/jwt\n")
    assert config.jwt_file == "/etc/palim-kiosk/secrets/jwt"
    assert config_from_text(CONFIG).jwt_file is None
    with pytest.raises(ConfigError, match="absolute path of a file"):
        config_from_text(CONFIG + "jwt_file: eyJhbGciOiJIUzI1NiJ9.e30.x\n")


def test_the_token_goes_to_the_iframe_api_jwt_option_only_when_there_is_one():
    options = join_options(config_from_text(CONFIG), weak=False)
    assert "jwt" not in options
    assert with_jwt(options, None) is options
    assert with_jwt(options, "a.b.c")["jwt"] == "a.b.c"
    assert "jwt" not in options  # the options built once stay without it


def test_presence_url_carries_the_token():
    template = "https://meet.example.org/room-size?room={room}&domain=meet.example.org"
    assert presence_url(template, "r1") == "https://meet.example.org/room-size?room=r1&domain=meet.example.org"
    assert presence_url(template, "r1", "a.b+/c").endswith("&domain=meet.example.org&token=a.b%2B%2Fc")
    assert presence_url("https://x.example.org/size/{room}", "r1", "t") == "https://x.example.org/size/r1?token=t"


def test_presence_url_sends_the_room_lower_cased_as_jitsi_meet_joins_it():
    template = "https://meet.example.org/room?room={room}&domain=meet.example.org"
    assert presence_url(template, "Palim-Erna-X7") == "https://meet.example.org/room?room=palim-erna-x7&domain=meet.example.org"


def claims_token(**claims) -> str:
    return jwt.encode({"aud": "palim", "iss": "palim", "sub": "meet.example.org", **claims}, "s" * 32, algorithm="HS256")


@pytest.mark.parametrize("claims, fits", [
    ({"room": "r-erna", "exp": NOW + timedelta(days=1)}, True),
    ({"room": "R-Erna", "exp": NOW + timedelta(days=1)}, True),  # Prosody lower-cases the claim
    ({"room": "*", "exp": NOW + timedelta(days=1)}, True),
    ({"room": "r-erna", "exp": NOW - timedelta(seconds=1)}, False),  # expired
    ({"room": "r-erna", "exp": NOW + timedelta(days=1), "nbf": NOW + timedelta(hours=1)}, False),  # not yet
    ({"room": "r-other", "exp": NOW + timedelta(days=1)}, False),
    ({"exp": NOW + timedelta(days=1)}, False),  # no room claim: Prosody refuses it (asap_require_room_claim)
    ({"room": "r-erna"}, True),  # no exp: luajwtjitsi takes it (palim-provision always sets one)
    ({"room": "r-erna", "exp": "tomorrow"}, False),  # luajwtjitsi: exp must be a number
    ({"room": "r-erna", "exp": NOW}, False),  # expired from exp on
])
def test_whether_the_token_fits_the_room_is_read_without_the_secret(claims, fits):
    values = {key: int(value.timestamp()) if isinstance(value, datetime) else value for key, value in claims.items()}
    assert token_fits_room(claims_token(**values), "R-erna", NOW) is fits
    assert token_fits_room(None, "r-erna", NOW) is False and token_fits_room("not a token", "r-erna", NOW) is False


def test_metrics_carry_the_token_expiry_only_when_a_token_is_configured():
    health = Health(device="ebh-01", home="ebh")
    assert "token_expiry" not in health.metrics()
    health.token_configured = True
    assert 'palim_kiosk_token_expiry_timestamp_seconds{device="ebh-01",home="ebh"} 0' in health.metrics()
    health.token_expiry = NOW
    assert (f'palim_kiosk_token_expiry_timestamp_seconds{{device="ebh-01",home="ebh"}} {NOW.timestamp():.0f}'
            in health.metrics())


def _connecting() -> CallFlow:
    flow = CallFlow(dice=lambda: 0.5)
    flow.handle(WebReady(now=0))
    flow.handle(CallTapped())
    assert flow.state is State.CONNECTING
    return flow


@pytest.mark.parametrize("name", ACCESS_ERRORS)
@pytest.mark.parametrize("nested", [True, False])
def test_a_refused_login_gives_up_at_once_calmly(name, nested):
    flow = _connecting()
    error = {"name": name, "type": "CONNECTION", "isFatal": False, "message": "refused"}
    effects = flow.handle(PageEvent(1, "errorOccurred", {"error": error} if nested else error))
    assert flow.state is State.TROUBLE
    assert Show(Screen.TROUBLE, Trouble.ACCESS_DENIED) in effects
    assert DisposeCall(1) in effects
    assert StartTimer(MESSAGE_TIMER, flow.timing.message) in effects
    assert not any(isinstance(e, StartTimer) and e.name in (RETRY_TIMER, CONNECT_TIMER) for e in effects)
    incident = next(e for e in effects if isinstance(e, Incident))
    assert incident.kind == "access_denied" and name in incident.detail
    assert any(isinstance(e, Log) and e.level == "error" and name in e.message for e in effects)
    # ... and stays calm: the old call's timer and events start nothing, the message ends at home.
    for event in (TimerFired(CONNECT_TIMER), TimerFired(RETRY_TIMER),
                  PageEvent(1, "errorOccurred", {"error": error}), PageEvent(1, "readyToClose")):
        assert not any(isinstance(e, JoinCall) for e in flow.handle(event))
    assert Show(Screen.HOME) in flow.handle(TimerFired(MESSAGE_TIMER))
    assert flow.state is State.IDLE


def test_other_non_fatal_errors_still_wait_for_the_connect_timer():
    flow = _connecting()
    flow.handle(PageEvent(1, "errorOccurred", {"error": {"name": "conference.connectionError.membersOnly",
                                                         "isFatal": False}}))
    assert flow.state is State.CONNECTING
