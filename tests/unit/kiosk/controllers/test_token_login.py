"""Token login in the controllers: the health controller's expiry figures and daily incident, the service screen's
line on the token (the join and the refusal: tests/e2e/test_token_login.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest
from PyQt6.QtCore import QCoreApplication, QEvent
from PyQt6.QtWidgets import QWidget

from kiosk import texts
from kiosk.config import Brand, config_from_text
from kiosk.controllers.health import HealthController
from kiosk.controllers.staff import StaffController, token_text
from kiosk.core.style import Metrics
from kiosk.screen import Screen
from kiosk.ui.screens import HomeScreen
from kiosk.ui.window import KioskWindow
from tests.unit.kiosk.helpers import standin_config_text as config_text

NOW = datetime.now(timezone.utc)


def write_token(path, expires: datetime) -> str:
    token = jwt.encode({"room": "r", "exp": int(expires.timestamp())}, "a-city-secret-of-32-bytes-or-more!",
                       algorithm="HS256")
    path.write_text(token + "\n")
    return token


@pytest.fixture
def health(qtbot, server, tmp_path):
    made = []

    def make(expires: datetime | None):
        if expires is not None:
            write_token(tmp_path / "jwt", expires)
        config = config_from_text(config_text(server, tmp_path, jwt_file=str(tmp_path / "jwt")))
        home = HomeScreen(Metrics(1280, 800), "Erna", brand=Brand())
        controller = HealthController(config, home, lambda: True, battery=lambda: None)
        made.append((controller, home))
        return controller

    yield make
    for controller, home in made:
        controller.shutdown()
        controller.deleteLater()
        home.deleteLater()


def kinds(controller) -> list[str]:
    return [i.kind for i in controller.figures.incidents]


def test_far_from_expiry_the_metrics_say_when_and_nobody_is_bothered(health, tmp_path):
    expires = NOW + timedelta(days=200)
    controller = health(expires)
    assert kinds(controller) == []
    metrics = (tmp_path / "palim_kiosk.prom").read_text()
    line = next(l for l in metrics.splitlines() if l.startswith("palim_kiosk_token_expiry_timestamp_seconds{"))
    assert float(line.split()[-1]) == int(expires.timestamp())
    assert "eyJ" not in metrics


def test_from_30_days_before_expiry_an_incident_every_day(health):
    controller = health(NOW + timedelta(days=20))
    assert kinds(controller) == ["token_expiring"]
    assert "in 19 days" in controller.figures.incidents[0].detail or "in 20 days" in controller.figures.incidents[0].detail
    controller.check_token(NOW + timedelta(days=1))  # the daily timer
    controller.check_token(NOW + timedelta(days=25))
    assert kinds(controller) == ["token_expiring"] * 3
    assert "expired" in controller.figures.incidents[0].detail
    assert controller._token_timer.isActive() and controller._token_timer.interval() == 24 * 3600 * 1000


def test_an_unreadable_token_file_is_an_incident_and_expiry_0(health, tmp_path):
    controller = health(None)
    assert kinds(controller) == ["token_expiring"] and "cannot be read" in controller.figures.incidents[0].detail
    assert "palim_kiosk_token_expiry_timestamp_seconds{device=\"ebh-01\",home=\"erich-burger-heim\"} 0" in \
        (tmp_path / "palim_kiosk.prom").read_text()


def test_the_service_screen_line_on_the_token(tmp_path):
    texts.use("de")
    now = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    assert token_text(None, now) == "–"
    assert token_text(str(tmp_path / "missing"), now) == "nicht lesbar"
    write_token(tmp_path / "jwt", now + timedelta(days=45, hours=1))
    assert token_text(str(tmp_path / "jwt"), now) == "gültig bis 14.01.2027 (Tage bis zum Ablauf: 45)"
    write_token(tmp_path / "jwt", now - timedelta(days=2))
    assert token_text(str(tmp_path / "jwt"), now) == "abgelaufen (28.11.2026)"


def test_open_service_shows_the_token_line(qtbot, server, tmp_path):
    write_token(tmp_path / "jwt", NOW + timedelta(days=100, hours=1))
    config = config_from_text(config_text(server, tmp_path, jwt_file=str(tmp_path / "jwt")))
    window = KioskWindow(Metrics(1280, 800), config, QWidget())
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    staff = StaffController(config, tmp_path / "kiosk.yaml", window, lambda: True, lambda: "")
    try:
        staff.open_service()
        assert window.screen is Screen.SERVICE
        assert window.service.values[texts.SERVICE_TOKEN].text().endswith("(Tage bis zum Ablauf: 100)")
        reachable = window.service.values[texts.SERVICE_REACHABLE]
        qtbot.waitUntil(lambda: reachable.text() != texts.SERVICE_CHECKING, timeout=15000)
    finally:
        staff.shutdown()
        window.shutdown()
        window.close()
        staff.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
