"""Incidents, call figures, metrics, power, nightly restarts and reboots for updates: decisions without Qt or files."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.config import PowerOptions
from kiosk.health import (
    Battery, Health, PowerAction, in_time_window, last_call_end, next_restart_check, power_action, reboot_due, restart_due,
    usage_line,
)

T0 = datetime(2026, 11, 27, 14, 3, 12, tzinfo=timezone(timedelta(hours=1)))


def test_a_call_makes_a_usage_record_without_names():
    health = Health(device="ebh-01", home="erich-burger-heim")
    health.call_started(T0)
    assert health.seconds_in_call(T0 + timedelta(seconds=30)) == 30
    record = health.call_ended(T0 + timedelta(minutes=18, seconds=28), others_max=2)
    assert record == {"event": "call", "device": "ebh-01", "home": "erich-burger-heim",
                      "start": "2026-11-27T14:03:12+01:00", "end": "2026-11-27T14:21:40+01:00",
                      "duration_s": 1108.0, "others_max": 2, "alone": False, "version": record["version"]}
    assert json.loads(usage_line(record)) == record
    assert health.calls_total == 1 and health.call_seconds_total == 1108.0
    health.call_started(T0)
    assert health.call_ended(T0 + timedelta(minutes=10), others_max=0)["alone"] is True  # nobody came
    assert health.call_ended(T0, 0) is None  # no call running: nothing to record


def test_the_last_ten_incidents_are_kept_newest_first():
    health = Health()
    for i in range(12):
        health.incident(T0 + timedelta(minutes=i), "connect_failed" if i % 2 else "offline", f"#{i}")
    assert len(health.incidents) == 10 and health.incidents[0].detail == "#11"
    assert health.incident_counts == {"connect_failed": 6, "offline": 6}


def test_metrics_text_format():
    health = Health(device="ebh-01", home='Heim "Süd"')
    health.call_started(T0)
    health.call_ended(T0 + timedelta(seconds=90), 1)
    health.incident(T0, "renderer_crashed", "x")
    health.battery_percent, health.battery_plugged = 42.0, False
    text = health.metrics()
    assert 'palim_kiosk_up{device="ebh-01",home="Heim \\"Süd\\""} 1' in text
    assert 'palim_kiosk_calls_total{device="ebh-01",home="Heim \\"Süd\\""} 1' in text
    assert 'palim_kiosk_call_seconds_total{device="ebh-01",home="Heim \\"Süd\\""} 90' in text
    assert 'palim_kiosk_incidents_total{device="ebh-01",home="Heim \\"Süd\\"",kind="renderer_crashed"} 1' in text
    assert 'palim_kiosk_battery_percent{device="ebh-01",home="Heim \\"Süd\\""} 42' in text
    assert "# TYPE palim_kiosk_calls_total counter" in text
    assert f"palim_kiosk_last_call_timestamp_seconds{{device=\"ebh-01\",home=\"Heim \\\"Süd\\\"\"}} " \
           f"{(T0 + timedelta(seconds=90)).timestamp():.0f}\n" in text  # every second, not six digits


def test_metrics_say_when_the_kiosk_started_and_that_it_stopped():
    health = Health(device="ebh-01", home="ebh", started_at=T0)
    text = health.metrics()
    assert f'palim_kiosk_start_time_seconds{{device="ebh-01",home="ebh"}} {T0.timestamp():.0f}\n' in text
    assert 'palim_kiosk_up{device="ebh-01",home="ebh"} 1\n' in text
    health.running = False
    assert 'palim_kiosk_up{device="ebh-01",home="ebh"} 0\n' in health.metrics()
    assert "start_time_seconds" not in Health().metrics()  # not known: left out rather than 0 (a restart each time)


def test_the_last_call_is_read_back_from_the_end_of_the_usage_log():
    health = Health(device="ebh-01", home="ebh")
    health.call_started(T0)
    first = usage_line(health.call_ended(T0 + timedelta(minutes=5), 1))
    health.call_started(T0 + timedelta(hours=2))
    second = usage_line(health.call_ended(T0 + timedelta(hours=2, minutes=1), 0))  # alone: still a call, a tap
    assert last_call_end(first + "\n" + second + "\n") == T0 + timedelta(hours=2, minutes=1)
    # The log's end read from the middle of a line, and a line cut by a power cut: the last whole call counts.
    assert last_call_end(first[20:] + "\n" + second + "\n" + second[:30]) == T0 + timedelta(hours=2, minutes=1)
    assert last_call_end(first + "\n" + '{"event": "other"}\n' + "[1, 2]\n" + '{"event": "call", "end": 5}\n') \
        == T0 + timedelta(minutes=5)
    assert last_call_end('{"event": "call", "end": "2026-11-27T14:03:12"}\n') is None  # no zone: not a time
    assert last_call_end("") is None


def test_metrics_without_battery_leave_it_out():
    assert "battery" not in Health().metrics()


OPTIONS = PowerOptions()


@pytest.mark.parametrize("battery, in_call, expected", [
    (None, None, PowerAction.NONE),  # a desktop: no battery is normal
    (Battery(3, True), None, PowerAction.NONE),  # plugged in: never
    (Battery(50, False), None, PowerAction.NONE),
    (Battery(19.5, False), None, PowerAction.WARN),
    (Battery(20, False), None, PowerAction.NONE),
    (Battery(4.9, False), None, PowerAction.SHUTDOWN),
    (Battery(4.9, False), 30.0, PowerAction.WARN),  # never in the first minute of a call
    (Battery(4.9, False), 61.0, PowerAction.SHUTDOWN),
])
def test_power_decisions(battery, in_call, expected):
    assert power_action(battery, OPTIONS, in_call) is expected


def test_shutdown_can_be_turned_off():
    assert power_action(Battery(1, False), PowerOptions(shutdown=False), None) is PowerAction.WARN


def at(hour, minute, day=27):
    return datetime(2026, 11, day, hour, minute)


def test_restart_window():
    assert in_time_window(at(3, 30), "03:00-04:00") and not in_time_window(at(4, 0), "03:00-04:00")
    assert in_time_window(at(23, 30), "23:00-01:00") and in_time_window(at(0, 30), "23:00-01:00")
    assert next_restart_check(at(12, 0), "03:00-04:00") == at(3, 0, day=28)
    assert next_restart_check(at(2, 0), "03:00-04:00") == at(3, 0)


def test_restart_happens_once_per_night():
    assert restart_due(at(3, 10), started=at(9, 0, day=26), spec="03:00-04:00")
    assert not restart_due(at(3, 20), started=at(3, 10), spec="03:00-04:00")  # the restarted kiosk stays
    assert not restart_due(at(12, 0), started=at(9, 0, day=20), spec="03:00-04:00")
    assert restart_due(at(0, 30), started=at(20, 0, day=26), spec="23:00-01:00")
    assert not restart_due(at(0, 30), started=at(23, 10, day=26), spec="23:00-01:00")


# A kiosk running since yesterday morning; the update that needs a reboot was installed at 02:40 (an hour before the
# window, apt-daily-upgrade.timer).
RUNNING = at(9, 0, day=26)
UPDATED = at(2, 40)
WINDOW = "03:30-04:30"


def test_a_reboot_for_updates_is_due_at_the_nightly_restart_when_an_update_asks():
    assert reboot_due(at(3, 30), RUNNING, WINDOW, UPDATED, idle=True)
    assert not reboot_due(at(3, 30), RUNNING, WINDOW, None, idle=True)  # nothing asks: the plain restart
    assert restart_due(at(3, 30), RUNNING, WINDOW)


def test_never_in_a_call_nor_while_it_rings():
    # idle is the kiosk's own: no call, nothing ringing, no staff screen (tests/unit/kiosk/controllers/test_kiosk.py)
    assert not reboot_due(at(3, 30), RUNNING, WINDOW, UPDATED, idle=False)


@pytest.mark.parametrize("hour, minute", [(3, 29), (4, 30), (8, 0), (12, 0), (15, 45), (20, 0), (23, 59), (0, 0)])
def test_never_by_day_nor_outside_the_window(hour, minute):
    assert not reboot_due(at(hour, minute), RUNNING, WINDOW, UPDATED, idle=True)
    assert not reboot_due(at(hour, minute, day=28), RUNNING, WINDOW, UPDATED, idle=True)  # nor the day after


def test_an_update_that_finishes_after_the_nightly_restart_reboots_the_same_night():
    restarted = at(3, 30) + timedelta(seconds=5)
    late_update = at(3, 50)
    assert not reboot_due(at(3, 45), restarted, WINDOW, None, idle=True)
    assert reboot_due(at(3, 51), restarted, WINDOW, late_update, idle=True)
    assert not reboot_due(at(4, 31), restarted, WINDOW, late_update, idle=True)  # the window closed: tomorrow
    assert reboot_due(at(3, 30, day=28), restarted, WINDOW, late_update, idle=True)


def test_a_reboot_that_did_not_happen_never_restarts_the_kiosk_in_a_loop():
    # The kiosk quit for the reboot at 03:30; the reboot did not come (refused, failed) and systemd started a new
    # kiosk. That one asks again only tomorrow night, not every minute until 04:30.
    again = at(3, 30) + timedelta(seconds=7)
    for minute in range(31, 60):
        assert not reboot_due(at(3, minute), again, WINDOW, UPDATED, idle=True)
    assert reboot_due(at(3, 30, day=28), again, WINDOW, UPDATED, idle=True)


def test_a_window_across_midnight():
    spec = "23:30-00:30"
    assert reboot_due(at(23, 45, day=26), RUNNING, spec, at(22, 40, day=26), idle=True)
    assert reboot_due(at(0, 15), RUNNING, spec, at(22, 40, day=26), idle=True)
    assert not reboot_due(at(0, 30), RUNNING, spec, at(22, 40, day=26), idle=True)
    assert not reboot_due(at(12, 0), RUNNING, spec, at(22, 40, day=26), idle=True)
