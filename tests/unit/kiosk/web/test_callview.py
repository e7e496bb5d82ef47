"""CallView: commands wait for the page; dispose reloads it; a rest frees its renderer; a crash drops the queue."""

from __future__ import annotations

import os
import signal

import psutil
import pytest
from PyQt6.QtCore import QCoreApplication, QEvent

from kiosk.config import config_from_text
from kiosk.web.callview import CallView
from tests.unit.kiosk.helpers import run_js, standin_config_text as config_text


@pytest.fixture
def view(qtbot, server, tmp_path):
    server.clear()
    call_view = CallView(config_from_text(config_text(server, tmp_path)))
    call_view.resize(640, 400)
    call_view.show()
    events: list = []
    call_view.page_event.connect(lambda cid, name, data: events.append((cid, name)))
    call_view.events = events  # what the page reported, for the test to read
    yield call_view
    call_view.shutdown()
    call_view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def test_a_join_before_the_page_is_ready_waits_and_then_joins(qtbot, view):
    assert not view.is_ready
    view.join(1)  # queued: the page is still loading
    qtbot.waitUntil(lambda: (1, "videoConferenceJoined") in view.events, timeout=20000)
    assert view.is_ready


def test_dispose_loads_a_fresh_page_that_takes_the_next_join(qtbot, view):
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    run_js(qtbot, view.page, "window.marker = 'old call'; true")
    view.join(1)
    qtbot.waitUntil(lambda: (1, "videoConferenceJoined") in view.events, timeout=20000)
    view.dispose(1)
    assert not view.is_ready  # reloading: a join now waits in the queue
    view.join(2)
    qtbot.waitUntil(lambda: (2, "videoConferenceJoined") in view.events, timeout=20000)
    assert run_js(qtbot, view.page, "String(window.marker)") == "undefined"  # a new document


def test_a_dispose_drops_a_join_of_the_same_call_still_waiting(qtbot, view, server):
    view.join(1)
    view.dispose(1)  # the resident cancelled before the page was even ready
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    qtbot.wait(1500)  # a join would have been sent at once when the page became ready
    assert (1, "videoConferenceJoined") not in view.events


def test_a_crashed_renderer_drops_waiting_commands_and_a_rebuild_brings_a_page_back(qtbot, view):
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    crashed: list = []
    view.crashed.connect(lambda status, code: crashed.append(status))
    pid = view.renderer_pid()
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(crashed), timeout=10000)
    assert not view.is_ready
    view.join(5)  # waits for a page that only a rebuild brings
    view.rebuild()
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    assert view.renderer_pid() not in (0, pid)
    qtbot.waitUntil(lambda: (5, "videoConferenceJoined") in view.events, timeout=20000)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_resting_page_frees_its_renderer_and_the_next_join_wakes_it(qtbot, view):
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    crashed: list = []
    view.crashed.connect(lambda status, code: crashed.append(status))
    pid = view.renderer_pid()
    assert _alive(pid)
    view.hide()  # at home the call page is hidden behind the home screen
    assert view.rest()
    assert view.is_resting and not view.is_ready
    qtbot.waitUntil(lambda: not _alive(pid), timeout=10000)  # its renderer process is gone: memory freed
    assert not view.rest()  # resting already
    view.join(7)
    assert not view.is_resting
    qtbot.waitUntil(lambda: (7, "videoConferenceJoined") in view.events, timeout=20000)
    assert view.renderer_pid() not in (0, pid)
    assert crashed == []  # the freed renderer is not mistaken for a crash


def test_wake_loads_a_resting_page_ahead_of_a_join(qtbot, view):
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    view.hide()
    assert view.rest()
    view.wake()
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    assert not view.is_resting and _alive(view.renderer_pid())


def test_a_page_does_not_rest_while_shown_loading_or_with_a_join_waiting(qtbot, view):
    assert not view.rest()  # still loading
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    assert not view.rest()  # shown on screen
    view.hide()
    view.dispose(0)  # reloading
    assert not view.rest()
    view.join(3)  # waits for the reload
    assert not view.rest()
    qtbot.waitUntil(lambda: (3, "videoConferenceJoined") in view.events, timeout=20000)


def test_the_iframe_api_is_loaded_ahead_of_the_tap_and_afresh_at_the_join(qtbot, view, server):
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    qtbot.waitUntil(lambda: run_js(qtbot, view.page, "typeof window.JitsiMeetExternalAPI") == "function",
                    timeout=10000)  # prepared while nobody called yet
    assert server.requests.count("/external_api.js") == 1
    view.join(1)
    qtbot.waitUntil(lambda: (1, "videoConferenceJoined") in view.events, timeout=20000)
    assert server.requests.count("/external_api.js") == 2  # the join's own fresh load: is the server usable now?


def test_a_server_failing_at_the_join_is_reported_although_the_api_was_prepared(qtbot, view, server):
    qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
    qtbot.waitUntil(lambda: run_js(qtbot, view.page, "typeof window.JitsiMeetExternalAPI") == "function",
                    timeout=10000)
    server.external_api_status = 503
    try:
        view.join(1)
        qtbot.waitUntil(lambda: (1, "loadFailed") in view.events, timeout=10000)
        qtbot.wait(1000)
        assert (1, "videoConferenceJoined") not in view.events  # the prepared call was taken down at once
        assert run_js(qtbot, view.page, "document.querySelectorAll('iframe').length") == 0
    finally:
        server.external_api_status = 200
