"""FamilyController: presence with quiet hours, pausing it during calls, the ring switch, the family notice."""

from __future__ import annotations

import json
import logging
import socket

import pytest

import kiosk.notify
from kiosk.callflow import State
from kiosk.config import config_from_text
from kiosk.controllers.family import FamilyController
from tests.unit.kiosk.helpers import standin_config_text as config_text
from tests.receivers import Receiver

ALL_DAY = ["00:00-12:00", "12:00-00:00"]  # two windows that together cover every minute


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(kiosk.notify, "RETRY_DELAYS_S", (0.0, 0.05))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket goes: nobody listens there


def family(server, tmp_path, *, webhook: str | None = None, dedupe: int | None = None, **presence) -> FamilyController:
    text = config_text(server, tmp_path)
    if webhook or dedupe is not None:
        text += "family:\n"
        if webhook:
            text += f"  contacts:\n    - {{name: Bernd, webhook: {{url: '{webhook}'}}}}\n"
        if dedupe is not None:
            text += f"  dedupe_minutes: {dedupe}\n"
    if presence:
        text += "presence: " + json.dumps(presence) + "\n"
    return FamilyController(config_from_text(text))


def presence_options(server, **extra) -> dict:
    return {"url": f"{server.url}/room-size?room={{room}}&domain={server.xmpp_domain}", "interval_s": 3, **extra}


@pytest.mark.parametrize("quiet_hours, quiet", [([], False), (ALL_DAY, True)])
def test_presence_carries_who_waits_and_whether_quiet_hours_hold(qtbot, server, tmp_path, made, quiet_hours, quiet):
    controller = family(server, tmp_path, **presence_options(server, quiet_hours=quiet_hours))
    made.append(controller)
    server.room_size[controller.config.room] = 2
    try:
        with qtbot.waitSignal(controller.presence_changed, timeout=10000) as signal:
            pass
        assert signal.args == [2, quiet]
    finally:
        server.room_size.pop(controller.config.room, None)


def test_no_presence_url_means_no_presence_watch(server, tmp_path, made):
    controller = family(server, tmp_path)
    made.append(controller)
    assert controller.presence is None
    controller.call_state(State.IN_CALL)  # nothing to pause: no error


def test_a_call_pauses_presence_and_home_resumes_it(qtbot, server, tmp_path, made):
    server.clear()
    controller = family(server, tmp_path, **presence_options(server))
    made.append(controller)
    controller.call_state(State.CONNECTING)  # before the first question (a second after the start)
    with qtbot.assertNotEmitted(controller.presence_changed, wait=2500):
        pass
    assert "/room-size" not in server.requests
    controller.call_state(State.IDLE)
    with qtbot.waitSignal(controller.presence_changed, timeout=10000) as signal:
        pass
    assert signal.args == [0, False]  # no such room at the stand-in: nobody waits


def test_ringing_keeps_presence_asking(qtbot, server, tmp_path, made):
    controller = family(server, tmp_path, **presence_options(server))
    made.append(controller)
    controller.call_state(State.RINGING)  # the family may leave while it rings: keep asking
    with qtbot.waitSignal(controller.presence_changed, timeout=10000):
        pass


def test_ring_switches_the_ring_sound_on_and_off(server, tmp_path, made):
    controller = family(server, tmp_path)
    made.append(controller)
    assert not controller.ringing_sound_on
    controller.ring(True)
    assert controller.ringing_sound_on
    controller.ring(False)
    assert not controller.ringing_sound_on
    controller.ring(True)  # a second ring reuses the sound
    assert controller.ringing_sound_on


def test_a_second_tap_within_the_dedupe_window_sends_nothing_new(qtbot, server, tmp_path, made, receiver, caplog):
    controller = family(server, tmp_path, webhook=receiver.url("/hook"))
    made.append(controller)
    with qtbot.waitSignal(controller.notifier.delivered, timeout=10000) as signal:
        controller.tell_family()
        with caplog.at_level(logging.INFO, logger="kiosk.controllers.family"):
            controller.tell_family()
    assert [(d.contact, d.channel, d.ok) for d in signal.args[0]] == [("Bernd", "webhook", True)]
    assert any("already told" in r.message for r in caplog.records)
    assert len(receiver.received) == 1


def test_without_dedupe_every_tap_tells_the_family(qtbot, server, tmp_path, made, receiver):
    controller = family(server, tmp_path, webhook=receiver.url("/hook"), dedupe=0)
    made.append(controller)
    controller.tell_family()
    controller.tell_family()
    qtbot.waitUntil(lambda: len(receiver.received) == 2, timeout=10000)


def test_without_contacts_nothing_is_sent(qtbot, server, tmp_path, made):
    controller = family(server, tmp_path)
    made.append(controller)
    with qtbot.assertNotEmitted(controller.notifier.delivered, wait=500):
        controller.tell_family()


def test_an_unreachable_webhook_becomes_an_incident(qtbot, server, tmp_path, made, quick_retries):
    controller = family(server, tmp_path, webhook=f"http://127.0.0.1:{closed_port()}/hook")
    made.append(controller)
    with qtbot.waitSignal(controller.incident, timeout=15000) as signal:
        controller.tell_family()
    kind, detail = signal.args
    assert kind == "notify_failed" and detail.startswith("Bernd by webhook: attempt 2:")


def test_a_webhook_answering_500_becomes_an_incident(qtbot, server, tmp_path, made, quick_retries):
    failing = Receiver(500)
    try:
        controller = family(server, tmp_path, webhook=failing.url("/hook"))
        made.append(controller)
        with qtbot.waitSignal(controller.incident, timeout=15000) as signal:
            controller.tell_family()
        assert signal.args[0] == "notify_failed" and "500" in signal.args[1]
        assert len(failing.received) == 2  # both tries reached it
    finally:
        failing.shutdown()
        failing.server_close()


def test_room_names_reach_the_screen_matched_to_contacts_and_never_the_log(qtbot, server, tmp_path, made, caplog):
    """With a /room presence URL the controller says who waits: a contact by name or alias brings relation and
    photo, a stranger's name comes as typed (made safe); the journal hears the count only."""
    caplog.set_level(logging.DEBUG)
    text = config_text(server, tmp_path) + (
        "family:\n  contacts:\n"
        "    - {name: Anna, email: anna@example.org, aliases: ['Anna M.', Mama], relation: Tochter,"
        f" photo: '{tmp_path}/anna.jpg'}}\n"
        "presence: " + json.dumps({"url": f"{server.url}/room?room={{room}}&domain={server.xmpp_domain}", "interval_s": 3}) + "\n")
    controller = FamilyController(config_from_text(text))
    made.append(controller)
    server.room_occupants[controller.config.room] = ["  mama ", "Zq\u202eStranger\u202c", None]
    try:
        with qtbot.waitSignal(controller.waiting_changed, timeout=10000) as waiting:
            pass
        with qtbot.waitSignal(controller.presence_changed, timeout=10000) as presence:
            pass
    finally:
        server.room_occupants.pop(controller.config.room, None)
    visitors = waiting.args[0].visitors
    assert [(v.name, v.relation, v.photo, v.known) for v in visitors] == [
        ("Anna", "Tochter", f"{tmp_path}/anna.jpg", True), ("ZqStranger", None, None, False)]
    assert waiting.args[0].others == 1  # the one who typed no name
    assert presence.args[0] == 3
    assert "Stranger" not in caplog.text and "mama" not in caplog.text.lower()


def test_room_size_brings_no_names(qtbot, server, tmp_path, made):
    controller = family(server, tmp_path, **presence_options(server))
    made.append(controller)
    server.room_size[controller.config.room] = 2
    try:
        with qtbot.waitSignal(controller.waiting_changed, timeout=10000) as waiting:
            pass
    finally:
        server.room_size.pop(controller.config.room, None)
    assert waiting.args[0].visitors == () and waiting.args[0].others == 0
