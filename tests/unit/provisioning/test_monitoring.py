"""The hub's Prometheus and Alertmanager configs rendered from the device list (provisioning/monitoring.py), checked
by promtool and amtool, and the settings they come from (defaults.alerts, a home's alert_email)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from provisioning.devicelist import DeviceListError, load_text
from provisioning.monitoring import (
    RULES_FILE, alertmanager_config, file_sd_json, prometheus_config, scrape_targets,
)
from tests.requirements import need_tool
from tests.unit.provisioning.helpers import VALID

ALERTS = """\
  alerts:
    it_email: it@stadt.example.org
    smtp_host: smtp.stadt.example.org
    sender: palim-hub@stadt.example.org
    user: palim-hub
    password_file: /etc/prometheus/alertmanager-smtp-password
"""
WITH_ALERTS = VALID.replace("  server: https://konferenz.example.org\n",
                            "  server: https://konferenz.example.org\n" + ALERTS) \
    .replace("    name: EBH\n", "    name: EBH\n    alert_email: pflege@ebh.example.org\n") \
    .replace("devices:\n", "  sonnenhang:\n    name: Haus am Sonnenhang\ndevices:\n")
ADDRESSES = {"ebh-01": "10.77.0.2", "ebh-02": "fd7a:115c::3"}


def loaded(text: str = WITH_ALERTS):
    return load_text(text, "devices.yaml")


def test_targets_are_the_tunnel_addresses_labelled_with_device_and_home_only():
    text = file_sd_json(loaded().targets, ADDRESSES)
    assert json.loads(text) == [
        {"targets": ["10.77.0.2:9100"], "labels": {"device": "ebh-01", "home": "ebh"}},
        {"targets": ["[fd7a:115c::3]:9100"], "labels": {"device": "ebh-02", "home": "ebh"}},
    ]
    assert "Erna" not in text and "Bauer" not in text  # the residents
    with pytest.raises(ValueError, match="no tunnel address for ebh-02"):
        scrape_targets(loaded().targets, {"ebh-01": "10.77.0.2"})


def test_prometheus_config_passes_promtool(tmp_path):
    promtool = need_tool("promtool", apt="prometheus")
    (tmp_path / "devices.json").write_text(file_sd_json(loaded().targets, ADDRESSES))
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config([str(tmp_path / "devices.json")], [str(RULES_FILE)],
                                        scrape_interval_s=5, evaluation_interval_s=2))
    result = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    data = yaml.safe_load(config.read_text())
    assert data["global"] == {"scrape_interval": "5s", "scrape_timeout": "5s", "evaluation_interval": "2s"}
    assert data["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]
    with pytest.raises(ValueError, match="whole number of seconds"):
        prometheus_config([], [], scrape_interval_s=0)


def test_alertmanager_mails_it_everything_and_a_home_what_its_staff_can_act_on(tmp_path):
    amtool = need_tool("amtool", apt="prometheus-alertmanager")
    text = alertmanager_config(loaded().model, group_wait_s=1, group_interval_s=2, repeat_interval_s=60)
    config = tmp_path / "alertmanager.yml"
    config.write_text(text)
    result = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    data = yaml.safe_load(text)
    assert data["global"]["smtp_auth_password_file"] == "/etc/prometheus/alertmanager-smtp-password"
    assert data["global"]["smtp_require_tls"] is True
    receivers = {r["name"]: r["email_configs"][0]["to"] for r in data["receivers"]}
    assert receivers == {"city-it": "it@stadt.example.org", "home-ebh": "pflege@ebh.example.org, it@stadt.example.org"}
    # Which receiver an alert reaches, as Alertmanager itself decides it (amtool config routes test).
    def route(*labels: str) -> str:
        result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}", *labels],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.strip()
    assert route("alertname=PalimNoCallFor14Days", "home=ebh", "device=ebh-01", "audience=staff") == "home-ebh"
    assert route("alertname=PalimClockWrong", "home=ebh", "device=ebh-01", "audience=it") == "city-it"
    # A home without alert_email: its staff's alerts reach IT.
    assert route("alertname=PalimNoCallFor14Days", "home=sonnenhang", "device=x", "audience=staff") == "city-it"


def test_without_alert_settings_there_is_no_alertmanager_config():
    with pytest.raises(ValueError, match="defaults.alerts"):
        alertmanager_config(loaded(VALID).model)


@pytest.mark.parametrize(("change", "where", "message"), [
    (("it_email: it@stadt.example.org", "it_email: IT <it@stadt.example.org>"), "it_email", "plain e-mail"),
    (("    name: EBH\n    alert_email: pflege@ebh.example.org",
      "    name: EBH\n    alert_email: a@x.org, b@x.org"), "alert_email", "plain e-mail"),
    (("password_file: /etc/prometheus/alertmanager-smtp-password", "password_file: geheim"), "password_file",
     "absolute path"),
    (("smtp_host: smtp.stadt.example.org", "smtp_host: smtp stadt"), "smtp_host", "host name"),
    (("    user: palim-hub\n", "    password: hunter2\n"), "password", "not allowed|unknown"),
])
def test_bad_alert_settings_are_refused_with_their_position(change, where, message):
    text = WITH_ALERTS.replace(*change)
    assert text != WITH_ALERTS
    with pytest.raises(DeviceListError) as caught:
        loaded(text)
    [problem] = caught.value.problems
    line = next(number for number, row in enumerate(text.splitlines(), 1) if row.strip().startswith(where + ":"))
    assert problem.line == line
    assert re.search(message, problem.message), problem.message
