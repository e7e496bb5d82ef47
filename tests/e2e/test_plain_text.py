"""Rich text nowhere from outside: every label of the real kiosk is plain text, and a server's hostile answer shows
on the service screen as the characters it sent."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel

from kiosk import texts
from kiosk.config import config_from_text
from kiosk.family import Waiting, Visitor
from kiosk.screen import Screen
from tests.e2e.helpers import close_kiosk, config_text, make_kiosk
from tests.hostile import RICH_TYPE, HostileServer


def rich_labels(window) -> list[str]:
    """Every label anywhere in the window that would read its text as rich text (Qt's AutoText guesses)."""
    return [f"{label.objectName() or type(label.parent()).__name__}: {label.text()[:40]!r}"
            for label in window.findChildren(QLabel) if label.textFormat() != Qt.TextFormat.PlainText]


def test_every_label_of_the_kiosk_is_plain_text_and_a_hostile_content_type_shows_as_typed(qtbot, server, tmp_path):
    with HostileServer("rich_type") as hostile:
        text = config_text(server, tmp_path) + f"presence: {{url: '{hostile.url()}?room={{room}}', interval_s: 600}}\n"
        kiosk = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
        try:
            labels = kiosk.window.findChildren(QLabel)
            assert len(labels) > 20  # every screen is there: home, messages, call, PIN, service, ringing, practice
            # The ringing screen's names and captions are made when someone waits: fill them too.
            kiosk.window.ringing.show_waiting(Waiting((Visitor("<b>Anna</b>", "Tochter"), Visitor("<i>x</i>")), 1))
            assert rich_labels(kiosk.window) == []
            kiosk.staff.open_service()
            reachable = kiosk.window.service.values[texts.SERVICE_REACHABLE]
            qtbot.waitUntil(lambda: reachable.text() != texts.SERVICE_CHECKING, timeout=60000)
            assert f"HTTP 200 with {RICH_TYPE}" in reachable.text()  # as the server sent it, never rendered
            assert rich_labels(kiosk.window) == []
            assert kiosk.window.screen is Screen.SERVICE
        finally:
            close_kiosk(kiosk)
