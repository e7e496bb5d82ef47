"""What the city's real Prosody answers, with jitsi-meet's own plugins (tests/realjitsi.py), and that the stand-in and
the kiosk agree with it: presence (mod_muc_size) while a family member is in the room and after they left, the
`domain=` rule, room-name case, the 403 of an empty room under token verification, and token login as jitsi-meet
does it (BOSH with ?token=), accepted or refused where the real plugins refuse it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from jitsi_standin.server import StandinServer
from kiosk.family import parse_presence, presence_names, presence_url
from kiosk.servertoken import token_fits_room
from tests.realjitsi import ProsodyError, real_jitsi, real_jitsi_open, start_prosody, token_for  # noqa: F401

LONG_AGO = datetime.now(timezone.utc) - timedelta(days=400)


def ask(jitsi, room: str, token: str | None = None, endpoint: str = "room", domain: str | None = None):
    """GET /room or /room-size as the kiosk builds the URL (its presence template, the token appended)."""
    template = jitsi.presence_url(endpoint) if domain is None else \
        f"{jitsi.http_url}/{endpoint}?room={{room}}&domain={domain}"
    answer = requests.get(presence_url(template, room, token), timeout=10)
    body = answer.json() if answer.status_code == 200 else None
    return answer.status_code, body


def test_presence_follows_a_family_member_in_and_out(real_jitsi):
    room = "palim-real-inandout"
    token = token_for(real_jitsi, room)
    assert ask(real_jitsi, room, token) == (403, None)  # no such room: with token verification that is 403
    with real_jitsi.family_member(room, "Anna Müller"):
        status, body = ask(real_jitsi, room, token)
        assert status == 200 and [o["display_name"] for o in body] == ["Anna Müller"]  # the focus is left out
        assert body[0]["jid"].startswith(f"{room}@conference.{real_jitsi.domain}/") and body[0]["email"] == ""
        assert presence_names(status, body) == ("Anna Müller",) and parse_presence(status, body) == 1
        assert ask(real_jitsi, room, token, "room-size") == (200, {"participants": 1})  # focus not counted
        with real_jitsi.family_member(room, None):  # a guest who typed no name
            status, body = ask(real_jitsi, room, token)
            assert sorted(o["display_name"] for o in body) == ["", "Anna Müller"]
            assert ask(real_jitsi, room, token, "room-size") == (200, {"participants": 2})
        assert ask(real_jitsi, room, token, "room-size") == (200, {"participants": 1})
    assert ask(real_jitsi, room, token) == (403, None)  # the last one left, the focus too: the room is gone


def test_an_open_server_answers_404_for_an_empty_room(real_jitsi_open):
    room = "palim-real-open"
    assert ask(real_jitsi_open, room) == (404, None)
    with real_jitsi_open.family_member(room, "Bernd"):
        assert ask(real_jitsi_open, room, endpoint="room-size") == (200, {"participants": 1})
    assert ask(real_jitsi_open, room, endpoint="room-size") == (404, None)


def test_domain_is_the_xmpp_domain_not_the_muc_domain(real_jitsi, real_jitsi_open):
    """mod_muc_size builds <room>@conference.<domain>: domain=conference.… looks for a room on a MUC that does not
    exist, however many wait."""
    room = "palim-real-domain"
    token = token_for(real_jitsi, room)
    with real_jitsi.family_member(room, "Anna"):
        assert ask(real_jitsi, room, token)[0] == 200
        assert ask(real_jitsi, room, token, domain=real_jitsi.muc_domain) == (403, None)
    with real_jitsi_open.family_member(room, "Anna"):
        assert ask(real_jitsi_open, room)[0] == 200
        assert ask(real_jitsi_open, room, domain=real_jitsi_open.muc_domain) == (404, None)


def test_the_room_name_is_looked_up_as_sent_so_the_kiosk_sends_it_lower_cased(real_jitsi_open):
    room = "palim-real-case"  # jitsi-meet joins the lower-cased name
    with real_jitsi_open.family_member(room, "Anna"):
        raw = requests.get(f"{real_jitsi_open.http_url}/room?room=Palim-Real-CASE&domain={real_jitsi_open.domain}",
                           timeout=10)
        assert raw.status_code == 404  # mod_muc_size itself does not lower-case
        assert ask(real_jitsi_open, "Palim-Real-CASE")[0] == 200  # the kiosk's URL does


@pytest.mark.parametrize("case", ["expired", "another room", "another secret", "docker's sub", "none"])
def test_presence_refuses_a_token_that_does_not_fit_while_the_family_waits(real_jitsi, case):
    room = "palim-real-refused"
    token = {
        "expired": lambda: token_for(real_jitsi, room, valid_days=1, now=LONG_AGO),
        "another room": lambda: token_for(real_jitsi, "palim-real-other"),
        "another secret": lambda: token_for(real_jitsi, room, secret="not the city's secret, 32 bytes long"),
        "docker's sub": lambda: token_for(real_jitsi, room, domain="meet.jitsi"),
        "none": lambda: None,
    }[case]()
    with real_jitsi.family_member(room, "Anna"):
        assert ask(real_jitsi, room, token_for(real_jitsi, room))[0] == 200
        assert ask(real_jitsi, room, token) == (403, None)
        assert ask(real_jitsi, room, token, "room-size") == (403, None)


def test_the_kiosk_reads_403_as_nobody_there_only_when_its_token_fits(real_jitsi):
    """The real plugin's 403 for an empty room and for a refused token are the same bare answer; the kiosk's choice
    (family.parse_presence): nobody there when its own token fits the room as far as it can see."""
    room = "palim-real-fits"
    good, expired = token_for(real_jitsi, room), token_for(real_jitsi, room, valid_days=1, now=LONG_AGO)
    other, secret = token_for(real_jitsi, "palim-elsewhere"), token_for(real_jitsi, room, secret="x" * 32)
    upper = token_for(real_jitsi, room.upper())  # Prosody lower-cases the room claim: it fits
    for token, fits in ((good, True), (upper, True), (expired, False), (other, False), (None, False), (secret, True)):
        assert token_fits_room(token, room) is fits
        status, body = ask(real_jitsi, room, token)
        assert status == 403
        assert parse_presence(status, body, token_fits_room(token, room)) == (0 if fits else None)
    with real_jitsi.family_member(room, "Anna"):
        assert ask(real_jitsi, room, upper)[0] == 200
        # The limit: a token with the wrong secret fits as far as the kiosk can see, so it reads "nobody there" even
        # now; the next call's join is refused and says so (ACCESS_DENIED).
        status, body = ask(real_jitsi, room, secret)
        assert status == 403 and parse_presence(status, body, token_fits_room(secret, room)) == 0


@pytest.mark.parametrize("case, stage, text", [
    ("good", "joined", ""),
    ("upper-case room claim", "joined", ""),
    ("expired", "sasl", "Not acceptable by exp"),
    ("another secret", "sasl", "Invalid signature"),
    ("no token", "sasl", "token required"),
    ("another room", "join", ""),
    ("docker's sub on a Debian server", "join", ""),
])
def test_token_login_as_jitsi_meet_does_it(real_jitsi, case, stage, text):
    """BOSH to /http-bind?room=…&token=… (mod_jitsi_session), SASL (mod_auth_token), then the MUC join
    (mod_token_verification): the kiosk's token, minted as palim-provision tokens mints it, joins its room."""
    room = "palim-real-login"
    token = {
        "good": lambda: token_for(real_jitsi, room),
        "upper-case room claim": lambda: token_for(real_jitsi, room.upper()),
        "expired": lambda: token_for(real_jitsi, room, valid_days=1, now=LONG_AGO),
        "another secret": lambda: token_for(real_jitsi, room, secret="not the city's secret, 32 bytes long"),
        "no token": lambda: None,
        "another room": lambda: token_for(real_jitsi, "palim-real-other"),
        "docker's sub on a Debian server": lambda: token_for(real_jitsi, room, domain="meet.jitsi"),
    }[case]()
    result = real_jitsi.token_join(token, room)
    assert result.stage == stage and result.joined is (stage == "joined")
    if stage != "joined":
        assert result.condition in ("not-allowed", "not-authorized")
        assert text in result.text


def test_without_the_allowlist_token_verification_turns_every_guest_away(tmp_path):
    """Debian's jitsi-meet-tokens turns token_verification on for the MUC; a guest has no room claim, so without
    token_verification_allowlist naming the guest domain the family cannot join (docs/jitsi-server.md, section 4)."""
    with start_prosody(tmp_path, guests_allowed=False) as jitsi:
        with pytest.raises(ProsodyError, match="not-allowed"):
            with jitsi.family_member("palim-real-noguests", "Anna"):
                pass


@pytest.mark.parametrize("case", ["waiting", "empty", "muc domain", "upper case", "another room", "no token",
                                  "another secret"])
def test_the_stand_in_answers_presence_as_the_real_plugin(real_jitsi, tmp_path, case):
    """The stand-in's token mode, with the real server's XMPP domain, gives the status Prosody gives."""
    room, waiting = "palim-real-compare", case != "empty"
    token = {"another room": token_for(real_jitsi, "palim-real-other"), "no token": None,
             "another secret": token_for(real_jitsi, room, secret="not the city's secret, 32 bytes long"),
             }.get(case, token_for(real_jitsi, room))
    asked = room.upper() if case == "upper case" else room
    domain = real_jitsi.muc_domain if case == "muc domain" else real_jitsi.domain
    with StandinServer(cert_dir=tmp_path, app_id=real_jitsi.app_id, app_secret=real_jitsi.app_secret,
                       token_domain=real_jitsi.domain) as standin:
        if waiting:
            standin.room_occupants[room] = ["Anna"]
        url = f"{standin.url}/room?room={asked}&domain={domain}" + (f"&token={token}" if token else "")
        fake = requests.get(url, verify=str(standin.cert_path), timeout=10).status_code
    with real_jitsi.family_member(room, "Anna") if waiting else _nothing():
        url = f"{real_jitsi.http_url}/room?room={asked}&domain={domain}" + (f"&token={token}" if token else "")
        real = requests.get(url, timeout=10).status_code
    assert fake == real


class _nothing:  # noqa: N801 (a null context)
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
