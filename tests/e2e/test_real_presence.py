"""The whole kiosk against a real Prosody with jitsi-meet's plugins (tests/realjitsi.py) for presence: token login and
enable_roomsize_token_verification on, the kiosk's token minted as palim-provision tokens mints it. A family member
joins the real room as an XMPP client with her display name: the kiosk rings and names her; she leaves: it stops.
The stand-in still serves the room page; presence answers come from Prosody only."""

from __future__ import annotations

import json
import logging

from kiosk.config import config_from_text
from kiosk.screen import Screen
from tests.e2e.helpers import close_kiosk, config_text, make_kiosk
from tests.realjitsi import real_jitsi, token_for  # noqa: F401 (real_jitsi: the session's Prosody)

ROOM = "Palim-E2E-Real-7q2m4k9x3c8v"  # jitsi-meet joins it lower-cased; so do the family and the kiosk's presence


def test_the_kiosk_rings_for_a_family_member_in_the_real_room_and_stops_when_she_leaves(qtbot, server, real_jitsi,
                                                                                          tmp_path, caplog):
    caplog.set_level(logging.INFO)  # the journal's level (kiosk/app.py); urllib3 would show URLs only at DEBUG
    caplog.set_level(logging.DEBUG, logger="kiosk")
    token = token_for(real_jitsi, ROOM)
    (tmp_path / "jwt").write_text(token + "\n")
    text = config_text(server, tmp_path, room=ROOM, jwt_file=str(tmp_path / "jwt")) + (
        "family:\n  contacts:\n    - {name: Anna, email: anna@example.org, aliases: [Mama], relation: Tochter}\n"
        "presence: " + json.dumps({"url": real_jitsi.presence_url("room"), "interval_s": 3}) + "\n")
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    try:
        window.family.presence._interval = 1
        qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
        qtbot.wait(2500)  # a few answers from the empty room (403 under token verification): never a ring
        assert window.window.screen is Screen.HOME
        with real_jitsi.family_member(ROOM.lower(), "Mama"):
            qtbot.waitUntil(lambda: window.window.screen is Screen.RINGING, timeout=10000)
            assert window.window.ringing.headline.text() == "Ihre Tochter Anna ist da"
            assert window.family.ringing_sound_on
            with real_jitsi.family_member(ROOM.lower(), "Bernd"):
                qtbot.waitUntil(lambda: window.window.ringing.headline.text() == "Anna und Bernd sind da",
                                timeout=10000)
        qtbot.waitUntil(lambda: window.window.screen is Screen.HOME, timeout=10000)
        assert not window.family.ringing_sound_on
    finally:
        close_kiosk(window)
    assert token not in caplog.text and "Mama" not in caplog.text and "Bernd" not in caplog.text
