"""The fleet hub's alert rules (provisioning/alerts): promtool's own tests of every rule, the homes' local time
checked against the time zone database in a real Prometheus, and what the alerts may name."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from provisioning.monitoring import RULES_FILE, prometheus_config, shortened_rules
from tests.realprometheus import start_prometheus
from tests.requirements import need_tool

TESTS = Path(__file__).parent / "alerts"
BERLIN = ZoneInfo("Europe/Berlin")


def rules() -> dict:
    return yaml.safe_load(RULES_FILE.read_text())


def alert_rules() -> list[dict]:
    return [rule for group in rules()["groups"] for rule in group["rules"] if "alert" in rule]


def recorded(name: str) -> str:
    return next(rule["expr"] for group in rules()["groups"] for rule in group["rules"] if rule.get("record") == name)


@pytest.mark.parametrize("test_file", sorted(TESTS.glob("*.test.yml")), ids=lambda p: p.name)
def test_promtool_tests_of_the_rules_pass(test_file):
    promtool = need_tool("promtool", apt="prometheus")
    result = subprocess.run([promtool, "test", "rules", test_file.name], cwd=TESTS, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet():
    firing, quiet = set(), set()
    for test_file in TESTS.glob("*.test.yml"):
        for case in yaml.safe_load(test_file.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - firing == set(), "alerts no promtool test sees firing"
    assert names - quiet == set(), "alerts no promtool test sees quiet"
    assert len(names) >= 11


def test_the_rules_and_their_shortened_form_are_valid(tmp_path):
    promtool = need_tool("promtool", apt="prometheus")
    short = tmp_path / "short.rules.yml"
    short.write_text(shortened_rules(RULES_FILE.read_text(), 5))
    for path in (RULES_FILE, short):
        result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
    fors = {rule["alert"]: rule.get("for") for group in yaml.safe_load(short.read_text())["groups"]
            for rule in group["rules"] if "alert" in rule}
    assert fors["PalimDeviceUnreachable"] == "5s" and fors["PalimKioskRestarting"] is None  # none stays none
    assert yaml.safe_load(short.read_text())["groups"][1]["rules"][0]["expr"] == alert_rules()[0]["expr"]


def test_alerts_name_the_device_and_home_and_never_a_resident():
    allowed = {"device", "home", "mountpoint", "power_supply"}
    for rule in alert_rules():
        text = yaml.safe_dump(rule["annotations"]) + yaml.safe_dump(rule["labels"])
        used = set(re.findall(r"\$labels\.(\w+)", text))
        assert {"device", "home"} <= used, rule["alert"]
        assert used <= allowed, rule["alert"]
        assert "resident" not in rule["expr"] and "resident" not in rule["labels"], rule["alert"]
        assert rule["labels"]["audience"] in ("staff", "it") and rule["labels"]["severity"] in ("info", "warning",
                                                                                               "critical")
        assert re.search(r'docs/fleet\.md, "[^"]+"', rule["annotations"]["description"]), rule["alert"]
    staff = {rule["alert"] for rule in alert_rules() if rule["labels"]["audience"] == "staff"}
    assert {"PalimNoCallFor14Days", "PalimDeviceUnreachable", "PalimBatteryLow"} <= staff


def test_every_alert_has_its_section_in_the_fleet_docs():
    docs = (Path(__file__).parents[3] / "docs" / "fleet.md").read_text()
    headings = set(re.findall(r"^#+ (.+)$", docs, re.M))
    for rule in alert_rules():
        section = re.search(r'docs/fleet\.md, "([^"]+)"', rule["annotations"]["description"])[1]
        assert section in headings, (rule["alert"], section)
        assert f"`{rule['alert']}`" in docs, rule["alert"]


def _hours(start_year: int, end_year: int, minute_second: int) -> tuple[float, float]:
    start = datetime(start_year, 1, 1, tzinfo=timezone.utc).timestamp() + minute_second
    return start, datetime(end_year, 1, 1, tzinfo=timezone.utc).timestamp() + minute_second - 3600


def test_the_homes_local_time_follows_berlin_summer_time_in_a_real_prometheus(tmp_path):
    """The recording rules' offset and daytime, evaluated by Prometheus itself each hour (on the hour and a second
    before the next) of 2026 to 2031, against Python's time zone database."""
    offset = recorded("palim:europe_berlin_utc_offset_hours")
    daytime = recorded("palim:daytime").replace("palim:europe_berlin_utc_offset_hours", f"({offset})")
    (tmp_path / "devices.json").write_text("[]")
    with start_prometheus(tmp_path, prometheus_config([str(tmp_path / "devices.json")], [])) as prometheus:
        checked = 0
        for year in range(2026, 2032):
            for second in (0, 3599):
                start, end = _hours(year, year + 1, second)
                for expr, expected in ((offset, lambda t: t.utcoffset().total_seconds() / 3600),
                                       (daytime, lambda t: 1.0 if 8 <= t.hour < 20 else 0.0)):
                    [series] = prometheus.query_range(expr, start, end, 3600)
                    assert len(series["values"]) >= 8760
                    for at, value in series["values"]:
                        local = datetime.fromtimestamp(at, BERLIN)
                        assert float(value) == expected(local), (expr[:40], local.isoformat())
                        checked += 1
        assert checked > 6 * 2 * 2 * 8700
