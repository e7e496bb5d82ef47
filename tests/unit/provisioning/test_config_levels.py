"""The kiosk config a device gets: device id and home from the list; health and power merged like jitsi."""

import textwrap

import pytest

from kiosk.config import config_from_text
from provisioning.bundle import render_bundle
from provisioning.devicelist import DeviceListError, load_text

from .helpers import VALID

LEVELS = textwrap.dedent("""\
    version: 1
    defaults:
      server: https://konferenz.example.org
      health: {nightly_restart: "03:00-04:00", max_renderer_crashes: 5}
      power: {warn_percent: 30}
    homes:
      ebh:
        name: EBH
        health: {metrics_file: /var/lib/prometheus/node-exporter/palim.prom}
        power: {shutdown: false}
    devices:
      - id: ebh-01
        home: ebh
        resident: Erna Müller
        room: palim-l2hdeebeoie5kzya3mw4pgrmnb
        match: {mac: "3c:52:82:1a:2b:3c"}
        address: 10.20.0.11
        health: {max_renderer_crashes: 2}
        power: {shutdown_percent: 10}
    """)


def test_device_id_and_home_key_reach_the_kiosk_config():
    target = load_text(VALID, "devices.yaml").targets[1]
    assert (target.config.device_id, target.config.home) == ("ebh-02", "ebh")
    text = {f.path: f for f in render_bundle(target, "x" * 12).files}["/etc/palim-kiosk/kiosk.yaml"].content.decode()
    assert "device_id: ebh-02\n" in text and "home: ebh\n" in text
    assert config_from_text(text).device_id == "ebh-02"


def test_health_and_power_merge_key_by_key_device_over_home_over_defaults():
    target = load_text(LEVELS, "devices.yaml").targets[0]
    health, power = target.config.health, target.config.power
    assert health.nightly_restart == "03:00-04:00"  # defaults
    assert health.metrics_file == "/var/lib/prometheus/node-exporter/palim.prom"  # home
    assert health.max_renderer_crashes == 2  # device over defaults
    assert health.usage_log == "/var/lib/palim-kiosk/usage.jsonl"  # the model's default
    assert (power.warn_percent, power.shutdown_percent, power.shutdown) == (30, 10, False)
    assert target.device.address == "10.20.0.11"


def test_a_merge_that_breaks_a_rule_points_at_the_deepest_level_that_set_it():
    text = LEVELS.replace("power: {shutdown_percent: 10}", "power: {shutdown_percent: 40}")
    with pytest.raises(DeviceListError) as info:
        load_text(text, "devices.yaml")
    [problem] = info.value.problems
    assert "must be below warn_percent" in problem.message
    assert problem.line == text.splitlines().index("    power: {shutdown_percent: 40}") + 1


@pytest.mark.parametrize("line, message", [
    ("    health: {usage_log: usage.jsonl}", "must be an absolute path"),
    ("    health: {nightly_restart: tonight}", "time window like '03:00-04:00'"),
    ("    address: ebh 01", "host name or an IP address"),
])
def test_bad_options_on_a_device_are_reported_at_their_line(line, message):
    text = LEVELS.replace("    health: {max_renderer_crashes: 2}", line) if "health" in line else \
        LEVELS.replace("    address: 10.20.0.11", line)
    with pytest.raises(DeviceListError) as info:
        load_text(text, "devices.yaml")
    [problem] = info.value.problems
    assert message in problem.message
    assert problem.line == text.splitlines().index(line) + 1


def test_night_per_home_and_call_volume_and_wait_per_device_reach_the_kiosk_config():
    text = (LEVELS.replace("    power: {shutdown: false}\n",
                           "    power: {shutdown: false}\n    night: {dark_hours: ['21:30-07:00']}\n")
            .replace("    power: {shutdown_percent: 10}\n",
                     "    power: {shutdown_percent: 10}\n    audio: {call_volume: 90}\n"
                     "    family: {wait_minutes: 5}\n"))
    target = load_text(text, "devices.yaml").targets[0]
    assert target.config.night.dark_hours == ("21:30-07:00",)
    assert (target.config.audio.call_volume, target.config.family.wait_minutes) == (90, 5)
    written = {f.path: f for f in render_bundle(target, "x" * 12).files}["/etc/palim-kiosk/kiosk.yaml"].content
    assert config_from_text(written.decode()).night.dark_hours == ("21:30-07:00",)


def test_a_bad_dark_hours_window_is_refused_at_its_line():
    text = LEVELS.replace("    power: {shutdown: false}\n",
                          "    power: {shutdown: false}\n    night: {dark_hours: ['25:00-07:00']}\n")
    with pytest.raises(DeviceListError) as caught:
        load_text(text, "devices.yaml")
    assert "devices.yaml:11:" in str(caught.value)
