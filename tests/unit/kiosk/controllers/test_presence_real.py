"""The kiosk's presence polling against a real Prosody with jitsi-meet's plugins (tests/realjitsi.py): token login and
enable_roomsize_token_verification on, the kiosk's token minted as palim-provision tokens mints it. A family member
joins as a real XMPP client: the controller reports them by name; they leave: nobody again. Refused tokens stay
"unknown" and slow the polling; the 403 of an empty room does not."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.config import config_from_text
from kiosk.controllers.family import FamilyController
from tests.realjitsi import real_jitsi, token_for  # noqa: F401 (real_jitsi: the session's Prosody)
from tests.unit.kiosk.helpers import standin_config_text as config_text

ROOM = "Palim-Real-Qt-Erna7q2m4k9x"  # mixed case on purpose: jitsi-meet joins it lower-cased, so must presence ask


def controller(made, real_jitsi, server, tmp_path, token: str, endpoint: str = "room") -> FamilyController:
    (tmp_path / "jwt").write_text(token + "\n")
    text = config_text(server, tmp_path, room=ROOM, jwt_file=str(tmp_path / "jwt")) + \
        "family:\n  contacts:\n    - {name: Anna, email: anna@example.org, relation: Tochter}\n" + \
        "presence: " + json.dumps({"url": real_jitsi.presence_url(endpoint), "interval_s": 3}) + "\n"
    family = FamilyController(config_from_text(text))
    made.append(family)
    return family


class Seen:
    """What the controller reported, in order."""

    def __init__(self, family: FamilyController):
        self.presence: list = []
        self.waiting: list = []
        family.presence_changed.connect(lambda others, _quiet: self.presence.append(others))
        family.waiting_changed.connect(self.waiting.append)


def test_a_family_member_in_the_real_room_is_reported_by_name_until_they_leave(qtbot, made, real_jitsi, server,
                                                                                tmp_path):
    family = controller(made, real_jitsi, server, tmp_path, token_for(real_jitsi, ROOM))
    seen = Seen(family)
    qtbot.waitUntil(lambda: seen.presence[-1:] == [0], timeout=10000)  # the empty room's 403: nobody there
    # ...and polling goes on at the normal pace (a refusal would double the wait)
    assert family.presence._timer.interval() == 3000
    with real_jitsi.family_member(ROOM.lower(), "Anna"):
        qtbot.waitUntil(lambda: seen.presence[-1:] == [1], timeout=10000)
        assert [visitor.name for visitor in seen.waiting[-1].visitors] == ["Anna"]
        assert seen.waiting[-1].visitors[0].relation == "Tochter"
    qtbot.waitUntil(lambda: seen.presence[-1:] == [0], timeout=10000)
    assert seen.waiting[-1].visitors == ()


def test_room_size_counts_the_family_without_the_focus(qtbot, made, real_jitsi, server, tmp_path):
    family = controller(made, real_jitsi, server, tmp_path, token_for(real_jitsi, ROOM), endpoint="room-size")
    seen = Seen(family)
    with real_jitsi.family_member(ROOM.lower(), "Anna"), real_jitsi.family_member(ROOM.lower(), "Bernd"):
        qtbot.waitUntil(lambda: seen.presence[-1:] == [2], timeout=10000)


@pytest.mark.parametrize("case", ["expired", "another room"])
def test_a_token_the_kiosk_knows_is_refused_stays_unknown_and_slows_down(qtbot, made, real_jitsi, server, tmp_path,
                                                                          case):
    token = token_for(real_jitsi, ROOM, valid_days=1, now=datetime.now(timezone.utc) - timedelta(days=3)) \
        if case == "expired" else token_for(real_jitsi, "palim-another-room")
    family = controller(made, real_jitsi, server, tmp_path, token)
    seen = Seen(family)
    with real_jitsi.family_member(ROOM.lower(), "Anna"):
        qtbot.waitUntil(lambda: len(seen.presence) >= 1, timeout=10000)
        assert seen.presence[-1] is None  # the real plugin's 403 for this token: unknown, never a ring
        assert family.presence._timer.interval() == 6000  # backing off, as for any failure
