"""Incidents, call figures, metrics, power and nightly restarts: decisions without Qt or files."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.config import PowerOptions
from kiosk.health import (
    Battery, Health, PowerAction, in_time_window, next_restart_check, power_action, restart_due, usage_line,
)

T0 = datetime(2026, 11, 27, 14, 3, 12, tzinfo=timezone(timedelta(hours=1)))


def test_a_call_makes_a_usage_record_without_names():
    health = Health(device="ebh-01", home="erich-burger-heim")
    health.call_started(T0)
    assert health.seconds_in_call(T0 + timedelta(seconds=30)) == 30
    record = health.call_ended(T0 + timedelta(minutes=18, seconds=28), others_max=2)
    assert record == {"event": "call", "device": "ebh-01", "home": "erich-burger-heim",
                      "start": "2026-11-27T14:03:12+01:00", "end": "2026-11-27T14:21:40+01:00",
                      "duration_s": 1108.0, "others_max": 2, "version": record["version"]}
    assert json.loads(usage_line(record)) == record
    assert health.calls_total == 1 and health.call_seconds_total == 1108.0
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
