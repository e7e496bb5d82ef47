"""The Qt watchers: nightly restart, background work, presence against the stand-in, power and network."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta

import pytest

from kiosk.controllers.watchers import (
    Background, NetworkWatch, NightlyRestart, PowerWatch, PresenceWatch, read_battery, reboot_required_since,
)
from kiosk.health import Battery

ROOM = "palim-watchersroomwatchersroomab"


def test_nightly_restart_is_due_inside_the_window_when_idle(qtbot):
    night = datetime(2026, 11, 28, 3, 5)
    times = iter([datetime(2026, 11, 27, 9, 0)] + [night + timedelta(seconds=i) for i in range(10)])
    restart = NightlyRestart("03:00-04:00", lambda: True, clock=lambda: next(times))
    try:
        with qtbot.waitSignal(restart.due, timeout=5000):
            pass
    finally:
        restart.stop()


def test_nightly_restart_does_not_restart_a_kiosk_started_tonight(qtbot):
    night = datetime(2026, 11, 28, 3, 5)
    times = iter([night] + [night + timedelta(seconds=i) for i in range(1, 10)])  # started inside the window
    restart = NightlyRestart("03:00-04:00", lambda: True, clock=lambda: next(times))
    try:
        with qtbot.assertNotEmitted(restart.due, wait=1500):
            pass
    finally:
        restart.stop()


def test_a_stopped_nightly_restart_never_fires(qtbot):
    night = datetime(2026, 11, 28, 3, 5)
    times = iter([datetime(2026, 11, 27, 9, 0)] + [night + timedelta(seconds=i) for i in range(10)])
    restart = NightlyRestart("03:00-04:00", lambda: True, clock=lambda: next(times))
    restart.stop()
    with qtbot.assertNotEmitted(restart.due, wait=1500):
        pass


class Clock:
    """A clock the test moves: the kiosk started at `started`; every later reading is `now`."""

    def __init__(self, started: datetime, now: datetime):
        self.readings = 0
        self.started, self.now = started, now

    def __call__(self) -> datetime:
        self.readings += 1
        return self.started if self.readings == 1 else self.now


YESTERDAY = datetime(2026, 11, 27, 9, 0)
NIGHT = datetime(2026, 11, 28, 3, 35)
UPDATED = datetime(2026, 11, 28, 2, 40)  # unattended-upgrades installed a kernel an hour before the window


def _nightly(clock, idle, required):
    restart = NightlyRestart("03:30-04:30", lambda: idle[0], clock=clock, reboot_required=lambda: required[0])
    restart.RETRY_MS = 50
    return restart


def test_a_needed_reboot_comes_instead_of_the_nightly_restart(qtbot, caplog):
    caplog.set_level("INFO", logger="kiosk")
    restart = _nightly(Clock(YESTERDAY, NIGHT), [True], [UPDATED])
    try:
        with qtbot.assertNotEmitted(restart.due, wait=0), qtbot.waitSignal(restart.reboot_due, timeout=5000):
            pass
        assert "reboot for updates: /run/reboot-required is there (window 03:30-04:30)" in caplog.messages
    finally:
        restart.stop()


def test_the_reboot_waits_for_the_end_of_a_call_or_the_ringing(qtbot):
    idle = [False]
    restart = _nightly(Clock(YESTERDAY, NIGHT), idle, [UPDATED])
    try:
        with qtbot.assertNotEmitted(restart.reboot_due, wait=300), qtbot.assertNotEmitted(restart.due, wait=0):
            restart._check()  # in a call, or the family rings: not now, and no restart either
        idle[0] = True
        with qtbot.waitSignal(restart.reboot_due, timeout=2000):
            pass
    finally:
        restart.stop()


def test_no_reboot_by_day(qtbot):
    restart = _nightly(Clock(YESTERDAY, datetime(2026, 11, 28, 15, 0)), [True], [UPDATED])
    try:
        with qtbot.assertNotEmitted(restart.reboot_due, wait=300), qtbot.assertNotEmitted(restart.due, wait=0):
            restart._check()
        assert restart._timer.remainingTime() > 12 * 3600 * 1000 - 60_000  # next look: tonight at 03:30
    finally:
        restart.stop()


def test_an_update_after_the_nightly_restart_still_reboots_that_night(qtbot):
    required = [None]
    clock = Clock(datetime(2026, 11, 28, 3, 30, 5), NIGHT)  # the kiosk started by tonight's restart
    restart = _nightly(clock, [True], required)
    try:
        with qtbot.assertNotEmitted(restart.reboot_due, wait=300), qtbot.assertNotEmitted(restart.due, wait=0):
            pass  # started tonight, nothing asks: it looks every minute (here: every 50 ms) until 04:30
        required[0] = datetime(2026, 11, 28, 3, 34)
        with qtbot.waitSignal(restart.reboot_due, timeout=2000):
            pass
    finally:
        restart.stop()


def test_a_kiosk_started_after_a_reboot_that_did_not_come_does_not_ask_again(qtbot):
    restart = _nightly(Clock(datetime(2026, 11, 28, 3, 30, 9), NIGHT), [True], [UPDATED])
    try:
        with qtbot.assertNotEmitted(restart.reboot_due, wait=1500), qtbot.assertNotEmitted(restart.due, wait=0):
            pass
    finally:
        restart.stop()


def test_the_flag_file_says_since_when_an_update_asks(tmp_path):
    flag = tmp_path / "reboot-required"
    assert reboot_required_since(str(flag)) is None
    flag.touch()
    stamp = datetime(2026, 11, 28, 2, 40, 17).timestamp()
    os.utime(flag, (stamp, stamp))
    assert reboot_required_since(str(flag)) == datetime(2026, 11, 28, 2, 40, 17)


def test_background_work_runs_in_a_worker_and_its_result_comes_back_in_the_gui_thread(qtbot):
    worker = Background("bg-result")
    results = []
    try:
        worker.submit(lambda: threading.current_thread().name,
                      lambda result: results.append((result, threading.current_thread() is threading.main_thread())))
        qtbot.waitUntil(lambda: bool(results), timeout=5000)
        (name, in_gui), = results
        assert name.startswith("bg-result") and in_gui
    finally:
        worker.stop()


def test_background_work_that_raises_gives_none(qtbot):
    worker = Background("bg-raise")
    results = []
    try:
        worker.submit(lambda: 1 / 0, results.append)
        worker.submit(lambda: "next", results.append)  # the worker survives
        qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
        assert results == [None, "next"]
    finally:
        worker.stop()


def stopped_worker(qtbot, name: str):
    """A worker stopped while one job runs and a second waits; returns what ran and what was delivered."""
    worker = Background(name)
    started, release = threading.Event(), threading.Event()
    ran_second, results = [], []

    def first():
        started.set()
        release.wait(5)
        return "first"

    worker.submit(first, results.append)
    worker.submit(lambda: ran_second.append(True), results.append)
    assert started.wait(5)
    worker.stop()
    worker.submit(lambda: ran_second.append("after stop"), results.append)
    release.set()
    qtbot.waitUntil(lambda: not any(t.name == name and t.is_alive() for t in threading.enumerate()), timeout=5000)
    return ran_second, results


def test_stopped_background_work_delivers_nothing(qtbot):
    ran, results = stopped_worker(qtbot, "bg-stop")
    assert results == [] and "after stop" not in ran


def test_stopped_background_work_starts_no_waiting_job(qtbot):
    ran, _ = stopped_worker(qtbot, "bg-stop-waiting")
    assert ran == []


@pytest.fixture
def watches(server):
    made: list = []
    yield made
    for watch in made:
        watch.stop()
        watch.deleteLater()
    server.room_size.clear()
    server.room_size_status = 200


def presence(server, pins, made) -> PresenceWatch:
    watch = PresenceWatch(f"{server.url}/room-size?room={ROOM}&domain={server.xmpp_domain}", 3, server.url, pins)
    made.append(watch)
    return watch


def test_presence_reports_who_waits_with_the_pinned_certificate(qtbot, server, watches):
    server.room_size[ROOM] = 3
    watch = presence(server, (server.cert_sha256,), watches)
    with qtbot.waitSignal(watch.changed, timeout=10000) as signal:
        pass
    assert signal.args == [3]


def test_presence_of_an_empty_room_is_zero(qtbot, server, watches):
    watch = presence(server, (server.cert_sha256,), watches)
    with qtbot.waitSignal(watch.changed, timeout=10000) as signal:
        pass
    assert signal.args == [0]


@pytest.mark.parametrize("pins", [("0" * 64,), ()], ids=["wrong pin", "no pin"])
def test_presence_without_the_right_pin_is_unknown(qtbot, server, watches, pins):
    server.room_size[ROOM] = 3
    watch = presence(server, pins, watches)
    with qtbot.waitSignal(watch.changed, timeout=15000) as signal:
        pass
    assert signal.args == [None]


def test_presence_of_a_broken_endpoint_is_unknown(qtbot, server, watches):
    server.room_size_status = 500
    watch = presence(server, (server.cert_sha256,), watches)
    with qtbot.waitSignal(watch.changed, timeout=10000) as signal:
        pass
    assert signal.args == [None]


def test_paused_presence_asks_nothing_until_resumed(qtbot, server, watches):
    server.room_size[ROOM] = 1
    watch = presence(server, (server.cert_sha256,), watches)
    watch.pause(True)
    with qtbot.assertNotEmitted(watch.changed, wait=2000):
        pass
    with qtbot.waitSignal(watch.changed, timeout=10000) as signal:
        watch.pause(False)
    assert signal.args == [1]


def test_stopped_presence_asks_nothing(qtbot, server, watches):
    watch = presence(server, (server.cert_sha256,), watches)
    watch.stop()
    with qtbot.assertNotEmitted(watch.changed, wait=2000):
        pass


def test_stopped_presence_stays_stopped_when_a_late_call_state_resumes_it(qtbot, server, watches):
    watch = presence(server, (server.cert_sha256,), watches)
    watch.stop()
    watch.pause(False)  # e.g. FamilyController.call_state after its shutdown: a stop is final
    with qtbot.assertNotEmitted(watch.changed, wait=2000):
        pass


def test_power_watch_check_reports_the_reading(qtbot):
    readings = iter([Battery(42.0, False), None])
    watch = PowerWatch(lambda: next(readings))
    try:
        with qtbot.waitSignal(watch.reading) as signal:
            watch.check()
        assert signal.args == [Battery(42.0, False)]
        with qtbot.waitSignal(watch.reading) as signal:
            watch.check()
        assert signal.args == [None]
    finally:
        watch.stop()


def test_read_battery_gives_none_or_a_battery():
    reading = read_battery()
    assert reading is None or (isinstance(reading, Battery) and 0 <= reading.percent <= 100
                               and isinstance(reading.plugged, bool))


def test_network_watch_counts_unknown_as_online(qtbot):
    watch = NetworkWatch()
    assert isinstance(watch.online, bool)
    with qtbot.waitSignal(watch.online_changed) as signal:
        watch.online_changed.emit(False)
    assert signal.args == [False]
