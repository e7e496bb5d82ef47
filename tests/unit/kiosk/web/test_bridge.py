"""CallBridge: page events up with their call id, commands down as JSON, through a real call page."""

from __future__ import annotations

import json

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent
from PyQt6.QtWebChannel import QWebChannel

from kiosk.config import config_from_text
from kiosk.web.bridge import CallBridge
from kiosk.web.page import LockedPage, build_profile
from kiosk.web.scheme import CALL_PAGE_URL
from tests.unit.kiosk.helpers import run_js, standin_config_text as config_text


@pytest.fixture
def wired(qtbot, server, tmp_path):
    """The call page in a locked page with the bridge on its channel, as the call view wires it."""
    profile = build_profile(config_from_text(config_text(server, tmp_path)))
    page = LockedPage(profile, config_from_text(config_text(server, tmp_path)))
    bridge = CallBridge(page)
    channel = QWebChannel(page)
    channel.registerObject("kiosk", bridge)
    page.setWebChannel(channel)
    with qtbot.waitSignal(bridge.page_ready, timeout=20000):
        page.load(CALL_PAGE_URL)
    yield page, bridge
    page.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    profile.deleteLater()


def test_an_event_from_the_page_arrives_with_its_call_id(qtbot, wired):
    page, bridge = wired
    with qtbot.waitSignal(bridge.page_event, timeout=10000) as signal:
        run_js(qtbot, page, "send(7, 'participantJoined', {id: 'abc', displayName: 'Anna'}); true")
    assert signal.args == [7, "participantJoined", {"id": "abc", "displayName": "Anna"}]


def test_a_command_reaches_the_page(qtbot, wired):
    page, bridge = wired
    run_js(qtbot, page, "window.got = []; kiosk.command.connect((text) => window.got.push(text)); true")
    bridge.send("dispose", 3, reason="test")
    got = []
    qtbot.waitUntil(lambda: got.append(run_js(qtbot, page, "window.got")) or bool(got[-1]), timeout=10000)
    assert [json.loads(text) for text in got[-1]] == [{"op": "dispose", "callId": 3, "reason": "test"}]


@pytest.mark.parametrize("payload, data", [('{"a": 1}', {"a": 1}), ("", {}), ("[1, 2]", {"value": [1, 2]}),
                                           ("not json", {"raw": "not json"})])
def test_payloads_become_dicts(qtbot, payload, data):
    bridge = CallBridge()
    with qtbot.waitSignal(bridge.page_event) as signal:
        bridge.event(2, "errorOccurred", payload)
    assert signal.args == [2, "errorOccurred", data]
