"""CallView with token login: the token file is read at each join, so a renewed token counts at the next call, and
it reaches the room as the IFrame API's jwt (in the room URL's query, as jitsi-meet's external_api.js puts it)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent

from kiosk.config import config_from_text
from kiosk.web.callview import CallView
from tests.unit.kiosk.helpers import standin_config_text as config_text


@pytest.fixture
def view(qtbot, server, tmp_path):
    server.clear()
    (tmp_path / "jwt").write_text("first.token.value\n")
    call_view = CallView(config_from_text(config_text(server, tmp_path, jwt_file=str(tmp_path / "jwt"))))
    call_view.resize(640, 400)
    call_view.show()
    events: list = []
    call_view.page_event.connect(lambda cid, name, data: events.append((cid, name)))
    call_view.events = events
    yield call_view
    call_view.shutdown()
    call_view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def _jwt_of(server, room: str, call: int) -> str | None:
    loaded = [r for r in server.reports if r.get("type") == "loaded" and r.get("room") == room]
    return loaded[call - 1]["jwt"] if len(loaded) >= call else None


def test_the_token_is_read_at_each_join(qtbot, view, server, tmp_path):
    room = view._config.room
    view.join(1)
    qtbot.waitUntil(lambda: (1, "videoConferenceJoined") in view.events, timeout=20000)
    qtbot.waitUntil(lambda: _jwt_of(server, room, 1) is not None, timeout=10000)
    assert _jwt_of(server, room, 1) == "first.token.value"
    (tmp_path / "jwt").write_text("renewed.token.value\n")  # apply renewed it while the kiosk ran
    view.dispose(1)
    view.join(2)
    qtbot.waitUntil(lambda: (2, "videoConferenceJoined") in view.events, timeout=20000)
    qtbot.waitUntil(lambda: _jwt_of(server, room, 2) is not None, timeout=10000)
    assert _jwt_of(server, room, 2) == "renewed.token.value"
    (tmp_path / "jwt").unlink()  # gone: the join goes without a token (the server decides)
    view.dispose(2)
    view.join(3)
    qtbot.waitUntil(lambda: (3, "videoConferenceJoined") in view.events, timeout=20000)
    qtbot.waitUntil(lambda: len([r for r in server.reports if r.get("type") == "loaded"
                                 and r.get("room") == room]) >= 3, timeout=10000)
    assert _jwt_of(server, room, 3) is None
