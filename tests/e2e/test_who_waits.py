"""Who is waiting, end to end: the stand-in's /room names the family, the real kiosk rings with "Ihre Tochter Anna
ist da" and Anna's photo, and names never reach the journal, the metrics or the usage log."""

from __future__ import annotations

import json
import logging

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QImage

from kiosk.config import config_from_text
from kiosk.screen import Screen
from tests.e2e.helpers import SIZE, close_kiosk, config_text, make_kiosk, tap, wait_report

STRANGER = "Zq\u202eEvil <b>Name</b>"


def photo(path, colour: str):
    image = QImage(480, 600, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(str(path))
    return path


@pytest.fixture
def kiosk(qtbot, server, tmp_path):
    anna, bernd = photo(tmp_path / "anna.jpg", "#8a6f5a"), photo(tmp_path / "bernd.png", "#5a6f8a")
    home = photo(tmp_path / "familie.jpg", "#6f8a5a")
    text = config_text(server, tmp_path) + (
        f"home_photo: '{home}'\n"
        "family:\n  contacts:\n"
        f"    - {{name: Anna, email: anna@example.org, aliases: ['Anna M.', Mama], relation: Tochter, photo: '{anna}'}}\n"
        f"    - {{name: Bernd, email: bernd@example.org, relation: Sohn, photo: '{bernd}'}}\n"
        "presence: " + json.dumps({"url": f"{server.url}/room?room={{room}}&domain={server.xmpp_domain}", "interval_s": 3}) + "\n")
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    window.family.presence._interval = 1
    qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
    yield window
    close_kiosk(window)
    server.room_occupants.clear()


def _faces(window):
    faces = window.window.ringing.faces
    return [photo.accessibleName() for photo in faces.photos if photo.isVisible()]


def test_the_kiosk_rings_with_the_name_relation_and_photo_of_who_waits(qtbot, server, tmp_path, kiosk, caplog):
    caplog.set_level(logging.DEBUG)
    window, room = kiosk, kiosk.config.room
    assert window.window.home.photo.isVisible()  # the family above the call button
    server.room_occupants[room] = ["Mama"]  # Anna types "Mama" in Jitsi: her alias
    qtbot.waitUntil(lambda: window.window.screen is Screen.RINGING, timeout=10000)
    ringing = window.window.ringing
    assert ringing.headline.text() == "Ihre Tochter Anna ist da"
    assert ringing.headline.textFormat() == Qt.TextFormat.PlainText
    assert _faces(window) == ["Anna"] and not ringing.faces.captions[0].isVisible()
    assert (window.window.width(), window.window.height()) == SIZE  # the faces never push the window past the screen
    assert window.family.ringing_sound_on

    server.room_occupants[room] = ["Mama", "bernd"]  # Bernd joins while it rings: the screen follows
    qtbot.waitUntil(lambda: ringing.headline.text() == "Anna und Bernd sind da", timeout=10000)
    assert _faces(window) == ["Anna", "Bernd"]
    assert [c.text() for c in ringing.faces.captions if c.isVisible()] == ["Anna", "Bernd"]

    server.room_occupants[room] = ["Mama", "Bernd", STRANGER, None]
    qtbot.waitUntil(lambda: ringing.headline.text() == "Anna und 3 weitere sind da", timeout=10000)
    server.room_occupants[room] = [STRANGER]
    qtbot.waitUntil(lambda: "Name" in ringing.headline.text(), timeout=10000)
    assert ringing.headline.text() == "ZqEvil <b>Name</b> ist da"  # no override, markup shown as text
    assert _faces(window) == []

    server.room_occupants[room] = ["Anna M."]
    qtbot.waitUntil(lambda: ringing.headline.text() == "Ihre Tochter Anna ist da", timeout=10000)
    tap(qtbot, ringing.answer_button)
    qtbot.waitUntil(lambda: window.window.screen is Screen.IN_CALL, timeout=20000)
    wait_report(qtbot, server, "joined", room=room)
    tap(qtbot, window.window.call.hangup_button)
    qtbot.waitUntil(lambda: window.window.screen is Screen.HOME, timeout=20000)
    qtbot.waitUntil(lambda: (tmp_path / "usage.jsonl").exists(), timeout=10000)

    journal = caplog.text
    written = (tmp_path / "usage.jsonl").read_text() + (tmp_path / "palim_kiosk.prom").read_text()
    for name in ("Mama", "Anna M.", "Evil", "bernd"):
        assert name not in journal and name not in written, name
    assert "waiting in the room" in journal  # the count is logged, nothing else


def test_room_size_rings_as_before(qtbot, server, tmp_path):
    """Without names (/room-size) the ringing screen says what it always said, without photos."""
    text = config_text(server, tmp_path) + (
        "presence: " + json.dumps({"url": f"{server.url}/room-size?room={{room}}&domain={server.xmpp_domain}",
                                   "interval_s": 3}) + "\n")
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    try:
        window.family.presence._interval = 1
        server.room_size[window.config.room] = 2
        qtbot.waitUntil(lambda: window.window.screen is Screen.RINGING, timeout=10000)
        assert window.window.ringing.headline.text() == "Ihre Familie ist da"
        assert _faces(window) == [] and not window.window.home.photo.isVisible()
    finally:
        server.room_size.clear()
        close_kiosk(window)
