"""The practice page's view: the own camera and microphone, without any server; built only while shown."""

from __future__ import annotations

import json

from PyQt6.QtCore import Qt, QUrl
from PyQt6.QtWebEngineWidgets import QWebEngineView
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from kiosk import texts
from kiosk.config import KioskConfig
from kiosk.web.page import LockedPage, build_profile
from kiosk.web.scheme import PRACTICE_PAGE_URL


class PracticeView(QWidget):
    """Shows palim://kiosk/practice.html in a page that may use the local camera and microphone."""

    def __init__(self, config: KioskConfig, parent=None):
        super().__init__(parent)
        self._profile = build_profile(config, self)
        self.view = QWebEngineView(self)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.page = LockedPage(self._profile, config, self.view, local_media=True)
        self.view.setPage(self.page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        # The page's own words in the kiosk's language, in the fragment (never sent anywhere; practice.js reads it).
        url = QUrl(PRACTICE_PAGE_URL)
        url.setFragment(json.dumps({"lang": texts.LANGUAGE, "tone": texts.PRACTICE_TONE,
                                    "microphone": texts.PRACTICE_MICROPHONE, "nodevice": texts.PRACTICE_NO_DEVICE}))
        self.view.setUrl(url)

    def shutdown(self) -> None:
        """Camera off: the page goes, then (with this widget) its profile."""
        self.view.setPage(None)
        self.page.deleteLater()
        self.view.deleteLater()
