"""HealthController: battery readings, incidents, the usage log and metrics file, the network's state, and the marker
of a reboot for updates."""

from __future__ import annotations

import json

import pytest

from kiosk import texts
from kiosk.config import Brand, config_from_text
from kiosk.controllers.health import HealthController, leave_reboot_marker
from kiosk.core.style import Metrics
from kiosk.health import REBOOT_MARKER, Battery
from kiosk.ui.screens import HomeScreen
from tests.unit.kiosk.helpers import standin_config_text as config_text


class Rig:
    """A health controller with a real home screen and a battery that reads whatever the test sets."""

    def __init__(self, server, tmp_path, battery: Battery | None = None):
        self.config = config_from_text(config_text(server, tmp_path))
        self.battery = battery
        self.home = HomeScreen(Metrics(1280, 800), "Erna", brand=Brand())
        self.shutdowns = 0
        self.health = HealthController(self.config, self.home, lambda: True, battery=lambda: self.battery)
        self.health.run_shutdown = self.power_off
        self.metrics = tmp_path / "palim_kiosk.prom"
        self.usage = tmp_path / "usage.jsonl"

    def power_off(self) -> None:
        self.shutdowns += 1

    def read(self, battery: Battery | None) -> None:
        self.battery = battery
        self.health.power.check()

    def kinds(self) -> list[str]:
        return [incident.kind for incident in self.health.figures.incidents]


@pytest.fixture
def rig(server, tmp_path):
    rig = Rig(server, tmp_path)
    yield rig
    rig.health.shutdown()
    rig.health.deleteLater()
    rig.home.deleteLater()


def test_the_first_reading_comes_by_itself_once_the_event_loop_runs(qtbot, server, tmp_path):
    rig = Rig(server, tmp_path, Battery(50.0, False))
    try:
        qtbot.waitUntil(lambda: rig.health.figures.battery_percent == 50.0)
    finally:
        rig.health.shutdown()


def test_a_low_battery_shows_at_home_and_counts_one_incident_per_change(rig):
    rig.read(Battery(15.0, False))
    assert rig.home.status.text() == texts.HOME_BATTERY
    rig.read(Battery(14.0, False))  # still low: no new incident
    assert rig.kinds() == ["battery_warn"]
    rig.read(Battery(14.0, True))  # plugged in
    assert rig.home.status.isHidden()
    rig.read(Battery(13.0, False))
    assert rig.kinds() == ["battery_warn", "battery_warn"]
    assert 'battery_percent' in rig.metrics.read_text()


def test_an_empty_battery_shuts_down_once(rig):
    rig.read(Battery(3.0, False))
    rig.read(Battery(2.0, False))
    assert rig.shutdowns == 1
    assert rig.kinds() == ["battery_shutdown"]


def test_a_plugged_in_battery_never_shuts_down(rig):
    rig.read(Battery(1.0, True))
    assert rig.shutdowns == 0 and rig.kinds() == [] and rig.home.status.isHidden()


def test_no_battery_is_calm(rig):
    rig.read(None)
    assert rig.home.status.isHidden() and rig.kinds() == []
    assert "battery_percent" not in rig.metrics.read_text()


def test_incidents_text_lists_the_newest_first(rig):
    assert rig.health.incidents_text() == texts.SERVICE_NO_INCIDENTS
    rig.health.incident("connect_failed", "first")
    rig.health.incident("camera_error", "second")
    lines = rig.health.incidents_text().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == ["camera_error: second", "connect_failed: first"]
    assert "connect_failed" in rig.metrics.read_text()


def test_a_finished_call_writes_a_nameless_usage_line_and_the_metrics(rig):
    rig.health.call_started()
    rig.health.call_ended(2)
    line = json.loads(rig.usage.read_text().splitlines()[-1])
    assert line["event"] == "call" and line["others_max"] == 2 and line["device"] == "ebh-01"
    text = rig.usage.read_text()
    assert rig.config.room not in text and "Erna" not in text and "Müller" not in text
    assert "palim_kiosk_calls_total{" in rig.metrics.read_text()
    assert any(line.startswith("palim_kiosk_calls_total{") and line.endswith(" 1")
               for line in rig.metrics.read_text().splitlines())


def test_the_last_call_survives_a_restart_through_the_usage_log(server, tmp_path):
    first = Rig(server, tmp_path)
    first.health.call_started()
    first.health.call_ended(1)
    ended = first.health.figures.last_call_end
    first.health.shutdown()
    # The same device after its nightly restart, and again after the log was rotated to usage.jsonl.1.
    for step in ("restart", "rotated"):
        if step == "rotated":
            first.usage.rename(tmp_path / "usage.jsonl.1")
            first.usage.write_text("")
        again = Rig(server, tmp_path)
        try:
            assert again.health.figures.last_call_end == ended.replace(microsecond=0)
            line = next(l for l in again.metrics.read_text().splitlines()
                        if l.startswith("palim_kiosk_last_call_timestamp_seconds{"))
            assert line.endswith(f" {int(ended.timestamp())}")
        finally:
            again.health.shutdown()


def test_a_kiosk_without_usage_log_knows_no_last_call(server, tmp_path):
    rig = Rig(server, tmp_path)
    rig.usage.write_text('{"event": "call", "end": "2026-11-27T14:03:12+01:00"}\n')
    rig.health.shutdown()
    config = rig.config.model_copy(update={"health": rig.config.health.model_copy(update={"usage_log": None})})
    health = HealthController(config, rig.home, lambda: True, battery=lambda: None)
    try:
        assert health.figures.last_call_end is None
    finally:
        health.shutdown()


def test_stopping_says_so_in_the_metrics(rig):
    assert 'palim_kiosk_up{device="ebh-01",home="erich-burger-heim"} 1' in rig.metrics.read_text()
    assert "palim_kiosk_start_time_seconds{" in rig.metrics.read_text()
    rig.health.shutdown()
    assert 'palim_kiosk_up{device="ebh-01",home="erich-burger-heim"} 0' in rig.metrics.read_text()


def test_a_call_end_without_a_start_writes_no_usage_line(rig):
    rig.health.call_ended(1)
    assert not rig.usage.exists()


def test_the_network_going_and_coming_shows_at_home_and_is_passed_on(qtbot, rig):
    with qtbot.waitSignal(rig.health.online_changed) as signal:
        rig.health.network.online_changed.emit(False)  # what the OS's network backend reports
    assert signal.args == [False] and not rig.health.online
    assert rig.home.status.text() == texts.HOME_OFFLINE
    rig.read(Battery(15.0, False))
    assert rig.home.status.text() == f"{texts.HOME_BATTERY}  ·  {texts.HOME_OFFLINE}"
    with qtbot.waitSignal(rig.health.online_changed) as signal:
        rig.health.network.online_changed.emit(True)
    assert signal.args == [True] and rig.health.online
    assert rig.home.status.text() == texts.HOME_BATTERY


def test_a_reboot_for_updates_leaves_the_marker_the_kiosk_unit_reboots_on(tmp_path):
    run = tmp_path / "run" / "palim-kiosk"  # the unit's RuntimeDirectory=palim-kiosk
    run.mkdir(parents=True)
    assert leave_reboot_marker({"RUNTIME_DIRECTORY": str(run)})
    assert (run / REBOOT_MARKER).read_bytes() == b""
    assert [p.name for p in run.iterdir()] == [REBOOT_MARKER]  # no temporary file left beside it


def test_outside_the_kiosk_unit_there_is_no_marker_and_it_says_so(tmp_path, caplog):
    assert not leave_reboot_marker({})
    assert "reboot for updates: not started by the kiosk unit (no RUNTIME_DIRECTORY), restarting only" in \
        caplog.messages
    (tmp_path / "file").write_text("")
    assert not leave_reboot_marker({"RUNTIME_DIRECTORY": str(tmp_path / "file")})  # cannot be written: logged


def test_the_nightly_watch_asks_for_the_reboot_through_the_controller(qtbot, server, tmp_path):
    rig = Rig(server, tmp_path)
    rig.health.shutdown()
    config = rig.config.model_copy(update={"health": rig.config.health.model_copy(
        update={"nightly_restart": "03:30-04:30"})})
    health = HealthController(config, rig.home, lambda: True, battery=lambda: None)
    try:
        assert health.nightly is not None and health.is_idle()
        with qtbot.waitSignal(health.reboot_due), qtbot.assertNotEmitted(health.restart_due, wait=0):
            health.nightly.reboot_due.emit()
        with qtbot.waitSignal(health.restart_due):
            health.nightly.due.emit()
    finally:
        health.shutdown()
        health.deleteLater()
    assert rig.health.nightly is None  # no window in the config: no nightly restart, no reboot
