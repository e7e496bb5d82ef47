"""Fault injection on loopback: the kiosk keeps trying calmly and gets back into the call by itself."""

import logging
import socket
import threading
from pathlib import Path

import pytest

from kiosk import texts
from kiosk.callflow import Trouble
from kiosk.screen import Screen
from kiosk.config import config_from_text
from tests.e2e.helpers import close_kiosk, config_text, fresh_room, make_kiosk, tap, wait_report
from tests.unit.kiosk.helpers import run_js
from jitsi_standin import StandinServer


@pytest.fixture
def own_server(tmp_path):
    """A stand-in of this test's own, which the test may stop and start again on the same port."""
    server = StandinServer(cert_dir=tmp_path / "cert").start()
    yield server
    server.stop()
    assert server.take_dropped_overrides() == [], "overrides a real Jitsi would drop (jitsi_standin/whitelist.py)"


@pytest.fixture
def fast_kiosk(qtbot, own_server, tmp_path):
    """A kiosk whose retries come quickly, against the test's own server."""
    window = make_kiosk(qtbot, config_from_text(config_text(own_server, tmp_path)), tmp_path / "kiosk.yaml")
    flow = window.calls.flow
    flow.timing = type(flow.timing)(connect=8.0, retry_first=0.5, retry_max=1.0)
    qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
    yield window
    close_kiosk(window)


def restart(server: StandinServer) -> None:
    """Start a stopped stand-in again on its old port with its old certificate."""
    server.start()


def test_server_refusing_then_recovering(qtbot, fast_kiosk, own_server):
    port = own_server.port
    own_server.stop()
    tap(qtbot, fast_kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.WAITING, timeout=15000)
    assert fast_kiosk.window.message.headline.text() == "Die Verbindung klappt gerade nicht."
    qtbot.waitUntil(lambda: fast_kiosk.calls.flow.attempt >= 2, timeout=15000)  # it keeps trying
    own_server.port = port
    restart(own_server)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    assert [i.kind for i in fast_kiosk.health.figures.incidents][-1] == "connect_failed"


@pytest.mark.parametrize("status", [500, 404])
def test_external_api_error_then_recovering(qtbot, fast_kiosk, own_server, status):
    own_server.external_api_status = status
    tap(qtbot, fast_kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.WAITING, timeout=15000)
    own_server.external_api_status = 200
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)


def test_server_timing_out_then_recovering(qtbot, fast_kiosk, own_server):
    own_server.delay_external_api = 30.0  # longer than the page's 10 s script timeout
    view = fast_kiosk.calls.view
    view.dispose(0)  # a fresh page, whose early load of the IFrame API now hangs too
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    tap(qtbot, fast_kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.WAITING, timeout=25000)
    own_server.delay_external_api = 0.0
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=30000)


def test_a_script_that_hangs_at_the_tap_does_not_stop_a_call_the_early_copy_started(qtbot, fast_kiosk, own_server):
    page = fast_kiosk.calls.view.page
    qtbot.waitUntil(lambda: run_js(qtbot, page, "typeof window.JitsiMeetExternalAPI") == "function", timeout=10000)
    own_server.delay_external_api = 30.0  # only the tap's fresh load hangs; the room itself answers
    try:
        tap(qtbot, fast_kiosk.window.home.call_button)
        qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)
        qtbot.wait(11000)  # past the page's 10 s script timeout: the joined call goes on
        assert fast_kiosk.window.screen is Screen.IN_CALL
    finally:
        own_server.delay_external_api = 0.0


def test_a_silent_server_that_accepts_and_never_answers(qtbot, fast_kiosk, own_server):
    port = own_server.port
    own_server.stop()
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.1", port))
    silent.listen(16)  # TCP connects, TLS never starts
    try:
        tap(qtbot, fast_kiosk.window.home.call_button)
        qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.WAITING, timeout=25000)
    finally:
        silent.close()
    own_server.port = port
    restart(own_server)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=30000)


def test_wrong_certificate_then_the_right_one(qtbot, fast_kiosk, own_server, tmp_path):
    port = own_server.port
    own_server.stop()
    impostor = StandinServer(port=port, cert_dir=tmp_path / "other-cert").start()
    try:
        assert impostor.cert_sha256 != own_server.cert_sha256
        tap(qtbot, fast_kiosk.window.home.call_button)
        qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.WAITING, timeout=15000)
        qtbot.waitUntil(lambda: fast_kiosk.calls.flow.attempt >= 2, timeout=15000)
        assert "/external_api.js" not in impostor.requests
    finally:
        impostor.stop()
    own_server.port = port
    restart(own_server)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)


def test_server_stopped_mid_call_rejoins_when_it_returns(qtbot, fast_kiosk, own_server):
    room = fast_kiosk.config.room
    tap(qtbot, fast_kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    wait_report(qtbot, own_server, "joined", room=room)
    port = own_server.port
    own_server.stop()
    qtbot.waitUntil(lambda: fast_kiosk.window.screen in (Screen.WAITING, Screen.CONNECTING), timeout=20000)
    assert fast_kiosk.window.message.headline.text() in (texts.TROUBLE[Trouble.CONNECTION_LOST][0], texts.CONNECTING)
    own_server.port = port
    own_server.clear()
    restart(own_server)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=30000)
    wait_report(qtbot, own_server, "joined", room=room)  # the room page saw a second join
    assert [i.kind for i in fast_kiosk.health.figures.incidents][0] == "connection_lost"
    assert fast_kiosk.health.figures.calls_total == 0  # the rejoin continues the same call


def test_a_finished_call_lands_in_the_usage_log_and_metrics(qtbot, fast_kiosk, own_server, tmp_path):
    tap(qtbot, fast_kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    own_server.send(fast_kiosk.config.room, "participantJoined", {"id": "f1", "displayName": "Anna"})
    qtbot.wait(500)
    tap(qtbot, fast_kiosk.window.call.hangup_button)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.HOME, timeout=10000)
    import json

    (record,) = [json.loads(line) for line in (tmp_path / "usage.jsonl").read_text().splitlines()]
    assert record["device"] == "ebh-01" and record["others_max"] == 1 and record["duration_s"] >= 0.4
    assert "Erna" not in json.dumps(record) and fast_kiosk.config.room not in json.dumps(record)
    metrics = (tmp_path / "palim_kiosk.prom").read_text()
    assert 'palim_kiosk_calls_total{device="ebh-01",home="erich-burger-heim"} 1' in metrics


def test_a_failed_direct_connection_keeps_the_call(qtbot, fast_kiosk, own_server, caplog):
    """peerConnectionFailure with isP2P true: Jitsi moves to the bridge by itself; the kiosk only logs it."""
    caplog.set_level(logging.INFO)
    room = fast_kiosk.config.room
    tap(qtbot, fast_kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    wait_report(qtbot, own_server, "joined", room=room)
    call_id = fast_kiosk.calls.flow.call_id
    own_server.fail_peer_connection(room, p2p=True)
    wait_report(qtbot, own_server, "emitted", lambda r: r["name"] == "peerConnectionFailure", room=room)
    qtbot.waitUntil(lambda: "direct (P2P) connection failed" in caplog.text, timeout=5000)
    qtbot.wait(1500)  # a rejoin would have started by now (retries come after 0.5 s here)
    assert fast_kiosk.window.screen is Screen.IN_CALL and fast_kiosk.calls.flow.call_id == call_id
    assert [r for r in own_server.reports if r["type"] in ("left", "loaded") and r.get("room") == room] \
        == [r for r in own_server.reports if r["type"] == "loaded" and r.get("room") == room][:1]  # one page, never left
    assert "connection_lost" not in [i.kind for i in fast_kiosk.health.figures.incidents]


def test_a_failed_bridge_connection_rejoins(qtbot, fast_kiosk, own_server):
    """peerConnectionFailure with isP2P false (the bridge's media path): the call is lost and rejoined."""
    room = fast_kiosk.config.room
    tap(qtbot, fast_kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    wait_report(qtbot, own_server, "joined", room=room)
    call_id = fast_kiosk.calls.flow.call_id
    own_server.fail_peer_connection(room, p2p=False)
    qtbot.waitUntil(lambda: fast_kiosk.calls.flow.call_id > call_id, timeout=10000)
    qtbot.waitUntil(lambda: fast_kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    qtbot.waitUntil(lambda: len([r for r in own_server.reports if r["type"] == "joined" and r.get("room") == room])
                    == 2, timeout=10000)
    assert [i.kind for i in fast_kiosk.health.figures.incidents] == ["connection_lost"]
