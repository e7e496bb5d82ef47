"""Nobody there yet, end to end: the real kiosk joins the stand-in's empty room, says whom it told and when, the
panel goes when the family arrives; alone long enough, it goes home kindly and the usage log says so (issue 29)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from kiosk import texts
from kiosk.callflow import Trouble
from kiosk.config import config_from_text
from kiosk.screen import Screen
from tests.e2e.helpers import close_kiosk, config_text, make_kiosk, tap


@pytest.fixture
def kiosk(qtbot, server, tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    server.clear()
    # Anna's notice goes to a webhook path the stand-in does not have: it fails in the background, as it may.
    text = config_text(server, tmp_path) + (
        "family:\n  contacts:\n"
        f"    - {{name: Anna Müller, relation: Tochter, webhook: {{url: '{server.url}/_nowhere'}}}}\n"
        "audio: {min_volume: 40, call_volume: 70}\n")
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
    yield window
    close_kiosk(window)


def _usage(tmp_path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "usage.jsonl").read_text().splitlines()]


def test_the_empty_room_says_whom_the_kiosk_told_and_the_panel_goes_when_anna_arrives(qtbot, server, tmp_path,
                                                                                       kiosk):
    window, room = kiosk.window, kiosk.config.room
    tap(qtbot, window.home.call_button)
    qtbot.waitUntil(lambda: window.screen is Screen.IN_CALL, timeout=20000)
    panel = window.call.waiting
    qtbot.waitUntil(panel.isVisible, timeout=10000)
    assert panel.headline.text().startswith("Wir haben Anna um ") and panel.headline.text().endswith(
        " Bescheid gesagt.")
    assert panel.hint.text() == "Bitte warten Sie einen Moment."
    assert window.call.hangup_button.isVisible()  # "Auflegen" stays: nothing new to do

    assert window.call.level.percent == 70  # the device's call_volume
    tap(qtbot, window.call.volume_up)
    assert window.call.level.percent == 80 and (tmp_path / "state" / "call-volume").read_text() == "80\n"

    server.send(room, "participantJoined", {"id": "anna1", "displayName": "Anna"})
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=10000)
    assert window.screen is Screen.IN_CALL
    tap(qtbot, window.call.hangup_button)
    qtbot.waitUntil(lambda: window.screen is Screen.HOME, timeout=20000)
    qtbot.waitUntil(lambda: (tmp_path / "usage.jsonl").exists(), timeout=10000)
    assert [(u["others_max"], u["alone"]) for u in _usage(tmp_path)] == [(1, False)]


def test_alone_long_enough_the_kiosk_goes_home_with_a_kind_sentence(qtbot, server, tmp_path, kiosk):
    window = kiosk.window
    kiosk.calls.flow.timing = replace(kiosk.calls.flow.timing, nobody=6.0, message=3.0)
    tap(qtbot, window.home.call_button)
    qtbot.waitUntil(lambda: window.screen is Screen.IN_CALL, timeout=20000)
    qtbot.waitUntil(lambda: window.screen is Screen.TROUBLE, timeout=15000)
    assert window.message.headline.text() == texts.TROUBLE[Trouble.NOBODY_CAME][0] == "Gerade ist niemand erreichbar."
    assert window.message.hint.text() == "Anna weiß Bescheid."
    qtbot.waitUntil(lambda: window.screen is Screen.HOME, timeout=15000)
    qtbot.waitUntil(lambda: (tmp_path / "usage.jsonl").exists(), timeout=10000)
    assert [(u["others_max"], u["alone"]) for u in _usage(tmp_path)] == [(0, True)]
    assert not window.call.waiting.isVisibleTo(window.call)
