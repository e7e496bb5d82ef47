"""The QWebChannel object between the call page's JavaScript and Python."""

from __future__ import annotations

import json
import logging

from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot

log = logging.getLogger(__name__)

# What a page may send: Jitsi's payloads are small; anything larger or deeper is not an IFrame API event.
MAX_PAYLOAD = 64 * 1024
MAX_NAME = 64
MAX_DEPTH = 20


def _depth(value, limit: int) -> int:
    """How deeply lists and objects nest, counted up to limit + 1 (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_payload(payload: str) -> dict | None:
    """A page event's payload as a dict; None when it is too large or nested too deeply to be one of Jitsi's."""
    if len(payload) > MAX_PAYLOAD or payload.count("[") + payload.count("{") > MAX_PAYLOAD // 8:
        return None
    try:
        data = json.loads(payload) if payload else {}
    except (ValueError, RecursionError):
        return {"raw": payload[:500]}
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        return None
    return data if isinstance(data, dict) else {"value": data}


class CallBridge(QObject):
    """Carries IFrame API events up and kiosk commands down, as JSON."""

    command = pyqtSignal(str)  # to JavaScript: {"op": "join"|"hangup"|"dispose", "callId": n, ...}
    page_event = pyqtSignal(int, str, dict)  # to Python: call id, event name, payload
    page_ready = pyqtSignal()

    @pyqtSlot(int, str, str)
    def event(self, call_id: int, name: str, payload: str) -> None:
        """An event from the page; a payload that is not a JSON object is kept as text, a hostile one dropped."""
        # Any script in the call page can call this (the server's external_api.js too): nothing it sends may raise
        # out of a Qt slot, which would abort the kiosk.
        try:
            data = parse_payload(payload) if len(name) <= MAX_NAME else None
            if data is None:
                log.warning("page event dropped: %d characters of name and payload are not an IFrame API event",
                            len(name) + len(payload))
                return
            self.page_event.emit(call_id, name, data)
        except Exception:  # noqa: BLE001 (see above: never out of a slot)
            log.exception("page event %r could not be handled", name[:MAX_NAME])

    @pyqtSlot()
    def ready(self) -> None:
        """The page has connected to the channel and can take commands."""
        self.page_ready.emit()

    def send(self, op: str, call_id: int, **fields) -> None:
        """Send one command to the page."""
        self.command.emit(json.dumps({"op": op, "callId": call_id, **fields}))
