"""The QWebChannel object between the call page's JavaScript and Python."""

from __future__ import annotations

import json
import logging

from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot

log = logging.getLogger(__name__)


class CallBridge(QObject):
    """Carries IFrame API events up and kiosk commands down, as JSON."""

    command = pyqtSignal(str)  # to JavaScript: {"op": "join"|"hangup"|"dispose", "callId": n, ...}
    page_event = pyqtSignal(int, str, dict)  # to Python: call id, event name, payload
    page_ready = pyqtSignal()

    @pyqtSlot(int, str, str)
    def event(self, call_id: int, name: str, payload: str) -> None:
        """An event from the page; a payload that is not a JSON object is kept as text."""
        try:
            data = json.loads(payload) if payload else {}
        except ValueError:
            data = {"raw": payload[:500]}
        if not isinstance(data, dict):
            data = {"value": data}
        self.page_event.emit(call_id, name, data)

    @pyqtSlot()
    def ready(self) -> None:
        """The page has connected to the channel and can take commands."""
        self.page_ready.emit()

    def send(self, op: str, call_id: int, **fields) -> None:
        """Send one command to the page."""
        self.command.emit(json.dumps({"op": op, "callId": call_id, **fields}))
