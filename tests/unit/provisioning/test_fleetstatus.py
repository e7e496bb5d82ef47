"""The status page's rows from Prometheus' answers, and their words (provisioning/fleetstatus.py), without a server;
tests/unit/provisioning/test_status.py asks a real Prometheus."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from provisioning.fleetstatus import cells, fleet_status, html_page, shown, text_page

NOW = datetime(2026, 12, 6, 19, 0, tzinfo=timezone.utc)
T = NOW.timestamp()


def sample(device: str, value: float, **labels: str) -> dict:
    return {"metric": {"job": "palim-devices", "device": device, "home": "ebh", **labels}, "value": [T, str(value)]}


def test_words_for_long_uptimes_expired_tokens_and_what_is_not_known():
    results = {
        "up": [sample("a", 1), sample("b", 0), sample("c", 1)],
        "first_seen": [sample("a", T - 14 * 86400), sample("c", T - 3600)],
        "last_up": [sample("b", T - 20 * 86400)],
        "token": [sample("a", T - 10), sample("c", T + 86400 + 60)],
        "last_call": [sample("a", 0)],
        "release": [sample("a", T - 900, version="1.3"), sample("a", T - 60, version="1.4"), sample("c", "NaN",
                                                                                                  version="x")],
    }
    status = fleet_status("http://hub:9090", results, [], NOW)
    a, b, c = (cells(row, NOW, timezone.utc) for row in status.homes["ebh"])
    assert a == ("a", "online for over 14 days", "1.4", "none yet", "EXPIRED", "-")
    assert b == ("b", "OFFLINE for over 14 days", "unknown", "unknown", "-", "-")
    assert c == ("c", "online since 06.12.2026 18:00", "unknown", "unknown", "1 day left", "-")


def test_only_firing_alerts_of_a_device_count():
    alerts = [{"labels": {"alertname": "PalimKioskDown", "device": "a"}, "annotations": {"summary": "down"},
               "state": "firing"},
              {"labels": {"alertname": "PalimClockWrong", "device": "a"}, "state": "pending"},
              {"labels": {"alertname": "Watchdog"}, "state": "firing"}]
    status = fleet_status("http://hub:9090", {"up": [sample("a", 1)]}, alerts, NOW)
    [row] = status.homes["ebh"]
    assert [(x.name, x.summary) for x in row.alerts] == [("PalimKioskDown", "down")]
    assert "ebh: 1 device, 1 open alert\n" in text_page(status, timezone.utc)


def test_no_devices_says_where_to_look():
    text = text_page(fleet_status("http://hub:9090", {"up": []}, [], NOW), timezone.utc)
    assert "Prometheus scrapes no devices yet" in text


def test_control_characters_from_a_device_are_written_out():
    assert shown("ebh\x1b[2J\n") == "ebh\\x1b[2J\\x0a"
    assert shown("Zimmer 12 · Süd") == "Zimmer 12 · Süd"


def test_the_same_in_german():
    results = {"up": [sample("a", 1), sample("b", 0)], "first_seen": [sample("a", T - 3600)],
               "token": [sample("a", T + 86400 + 60), sample("b", 0)]}
    alerts = [{"labels": {"alertname": "PalimBatteryLow", "device": "a"}, "state": "firing",
               "annotations": {"summary": "a (ebh) runs on its battery", "staff_summary": "a (ebh): Akku fast leer"}}]
    status = fleet_status("http://hub:9090", results, alerts, NOW)
    a, b = (cells(row, NOW, timezone.utc, "de") for row in status.homes["ebh"])
    assert a == ("a", "erreichbar seit 06.12.2026 18:00", "unbekannt", "unbekannt", "noch 1 Tag", "PalimBatteryLow")
    assert b == ("b", "NICHT ERREICHBAR seit über 14 Tagen", "unbekannt", "unbekannt", "UNLESBAR", "-")
    assert "ebh: 2 Geräte, 1 nicht erreichbar, 1 offene Meldung\n" in text_page(status, timezone.utc, "de")
    html = html_page(status, timezone.utc, "de")
    assert "a (ebh): Akku fast leer" in html and "runs on its battery" not in html
    assert "runs on its battery" in html_page(status, timezone.utc, "en")
