"""PracticeView: the camera test's page gets the local camera and microphone without any server, in the language."""

from __future__ import annotations

import json

from PyQt6.QtCore import QCoreApplication, QEvent

from kiosk import texts
from kiosk.config import config_from_text
from kiosk.web.practiceview import PracticeView
from tests.unit.kiosk.helpers import standin_config_text as config_text


def test_the_practice_page_shows_the_local_camera_in_the_kiosks_language(qtbot, server, tmp_path):
    texts.use("en")
    server.clear()
    try:
        view = PracticeView(config_from_text(config_text(server, tmp_path, language="en")))
        view.resize(640, 400)
        view.show()
        fragment = json.loads(view.view.url().fragment())
        assert fragment["lang"] == "en" and fragment["tone"] == texts.PRACTICE_TONE
        state: dict = {}

        def camera_on() -> bool:
            view.page.runJavaScript("JSON.stringify(window.practice || null)", 0,
                                    lambda value: state.update(json.loads(value or "null") or {}))
            return bool(state.get("video")) and bool(state.get("audio"))

        qtbot.waitUntil(camera_on, timeout=20000)
        assert server.requests == []  # the camera test needs no server
        view.shutdown()
        view.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    finally:
        texts.use("de")
