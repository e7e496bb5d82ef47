"""StaffController: the hidden corner, the PIN pad, the service screen and its server check, the idle return."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent, QPoint, Qt
from PyQt6.QtWidgets import QWidget

from jitsi_standin import StandinServer
from kiosk import __version__, texts
from kiosk.config import config_from_text
from kiosk.controllers import staff
from kiosk.controllers.staff import StaffController
from kiosk.core.style import Metrics
from kiosk.screen import Screen
from kiosk.ui.window import KioskWindow
from tests.unit.kiosk.helpers import STAFF_PIN, standin_config_text as config_text

SIZE = (1280, 800)


class Rig:
    """A staff controller on a real window (no call view needed), with may_open switchable."""

    def __init__(self, qtbot, server, tmp_path, text: str | None = None):
        self.config = config_from_text(text or config_text(server, tmp_path))
        self.window = KioskWindow(Metrics(*SIZE), self.config, QWidget())
        self.window.resize(*SIZE)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.may_open = True
        self.staff = StaffController(self.config, tmp_path / "kiosk.yaml", self.window, lambda: self.may_open,
                                     lambda: "12.03. 10:00  connect_failed: x")
        self.window.show_screen(Screen.HOME)
        self.qtbot = qtbot

    def tap_at(self, point: QPoint) -> None:
        target = self.window.childAt(point) or self.window
        self.qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=target.mapFrom(self.window, point))

    def corner_taps(self, count: int = 5) -> None:
        for _ in range(count):
            self.tap_at(QPoint(10, 10))

    def enter(self, pin: str) -> None:
        self.window.pin_pad.submitted.emit(pin)  # what the pad sends on OK

    def close(self) -> None:
        # A server check still under way writes to the service screen when it ends: let it end first.
        reachable = self.window.service.values[texts.SERVICE_REACHABLE]
        self.qtbot.waitUntil(lambda: reachable.text() != texts.SERVICE_CHECKING, timeout=15000)
        self.staff.shutdown()
        self.window.shutdown()
        self.window.close()
        self.staff.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        self.window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


@pytest.fixture
def rig(qtbot, server, tmp_path):
    rig = Rig(qtbot, server, tmp_path)
    yield rig
    rig.close()


def test_five_presses_in_the_corner_open_the_pin_pad(rig):
    rig.corner_taps(4)
    assert rig.window.screen is Screen.HOME
    rig.corner_taps(1)
    assert rig.window.screen is Screen.PIN and rig.window.pin_pad.message.text() == ""


def test_a_press_outside_the_corner_starts_the_count_again(rig):
    rig.corner_taps(4)
    corner = rig.window.corner_rect(staff.CORNER_PERCENT)
    rig.tap_at(QPoint(corner.right() + 5, 10))  # just outside
    rig.corner_taps(4)
    assert rig.window.screen is Screen.HOME
    rig.corner_taps(1)
    assert rig.window.screen is Screen.PIN


def test_corner_presses_count_only_at_home(rig):
    rig.window.show_screen(Screen.TROUBLE)
    rig.corner_taps(5)
    assert rig.window.screen is Screen.TROUBLE


def test_no_pin_pad_while_a_call_runs(rig):
    rig.may_open = False
    rig.corner_taps(5)
    assert rig.window.screen is Screen.HOME


def test_no_pin_configured_means_no_pin_pad_ever(qtbot, server, tmp_path):
    text = "\n".join(line for line in config_text(server, tmp_path).splitlines()
                     if not line.startswith("admin_pin_hash"))
    rig = Rig(qtbot, server, tmp_path, text)
    try:
        rig.staff.open_pin_pad()
        rig.corner_taps(5)
        assert rig.window.screen is Screen.HOME
    finally:
        rig.close()


def test_the_right_pin_opens_service_with_its_values(rig, server, tmp_path):
    rig.corner_taps(5)
    rig.enter(STAFF_PIN)
    assert rig.window.screen is Screen.SERVICE
    values = {key: label.text() for key, label in rig.window.service.values.items()}
    assert values[texts.SERVICE_VERSION] == __version__
    assert values[texts.SERVICE_CONFIG] == str(tmp_path / "kiosk.yaml")
    assert values[texts.SERVICE_SERVER] == server.url
    assert values[texts.SERVICE_ROOM] == rig.config.room
    assert values[texts.SERVICE_INCIDENTS] == "12.03. 10:00  connect_failed: x"


def test_a_wrong_pin_says_so_and_five_lock_the_pad(rig):
    rig.corner_taps(5)
    rig.enter("0000")
    assert rig.window.screen is Screen.PIN and rig.window.pin_pad.message.text() == texts.PIN_WRONG
    for _ in range(4):
        rig.enter("0000")
    assert rig.window.pin_pad.message.text() == texts.PIN_LOCKED.format(minutes=5)
    rig.enter(STAFF_PIN)
    assert rig.window.screen is Screen.PIN  # locked: even the right PIN is refused
    rig.staff.leave()
    rig.staff.open_pin_pad()  # opened again while locked: the pad says so at once
    assert rig.window.pin_pad.message.text() == texts.PIN_LOCKED.format(minutes=5)


def test_leave_returns_home_from_staff_screens_only(rig):
    rig.staff.open_pin_pad()
    rig.staff.leave()
    assert rig.window.screen is Screen.HOME
    rig.window.show_screen(Screen.IN_CALL)
    rig.staff.leave()
    assert rig.window.screen is Screen.IN_CALL


def test_the_service_buttons_reach_their_signals(qtbot, rig):
    rig.staff.open_service()
    with qtbot.waitSignal(rig.staff.quit_requested) as signal:
        rig.window.service.quit_tapped.emit()
    assert signal.args == [0]
    with qtbot.waitSignal(rig.staff.reload_requested):
        rig.window.service.reload_tapped.emit()
    rig.window.service.back_tapped.emit()
    assert rig.window.screen is Screen.HOME


def test_a_staff_screen_left_alone_returns_home(qtbot, server, tmp_path, monkeypatch):
    monkeypatch.setattr(staff, "STAFF_IDLE_MS", 300)
    rig = Rig(qtbot, server, tmp_path)
    try:
        rig.staff.open_pin_pad()
        assert rig.window.screen is Screen.PIN
        qtbot.waitUntil(lambda: rig.window.screen is Screen.HOME, timeout=5000)
    finally:
        rig.close()


def test_the_server_check_says_yes_for_the_pinned_stand_in(qtbot, rig):
    rig.staff.open_service()
    reachable = rig.window.service.values[texts.SERVICE_REACHABLE]
    assert reachable.text() == texts.SERVICE_CHECKING
    qtbot.waitUntil(lambda: reachable.text() != texts.SERVICE_CHECKING, timeout=10000)
    # The stand-in is set up as docs/jitsi-server.md says: every check of palim-provision server-check is ok.
    assert reachable.text() == f"{texts.SERVICE_YES} (12 ok)"


def test_the_server_check_names_the_failure_and_logs_every_finding(qtbot, tmp_path, caplog):
    with StandinServer(server_config="bad") as own:
        rig = Rig(qtbot, own, tmp_path)
        try:
            with caplog.at_level("INFO", logger="kiosk.controllers.staff"):
                rig.staff.open_service()
                reachable = rig.window.service.values[texts.SERVICE_REACHABLE]
                qtbot.waitUntil(lambda: reachable.text() != texts.SERVICE_CHECKING, timeout=15000)
            assert reachable.text().startswith(texts.SERVICE_NO.format(reason="tokens: rooms need a token"))
            assert len(reachable.text()) <= len(texts.SERVICE_NO.format(reason="")) + staff.SERVER_CHECK_SHOWN
            logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("server check: ")]
            assert len(logged) == 12 and any("fix: set interfaceConfig.MOBILE_APP_PROMO = false" in line for line in logged)
        finally:
            rig.close()


def test_the_server_check_says_no_when_the_server_is_gone(qtbot, tmp_path):
    own = StandinServer().start()
    try:
        rig = Rig(qtbot, own, tmp_path)
    finally:
        own.stop()
    try:
        rig.staff.open_service()
        reachable = rig.window.service.values[texts.SERVICE_REACHABLE]
        qtbot.waitUntil(lambda: reachable.text() != texts.SERVICE_CHECKING, timeout=15000)
        assert reachable.text().startswith(texts.SERVICE_NO.format(reason=""))
    finally:
        rig.close()


def test_the_server_check_says_no_for_an_unpinned_certificate(qtbot, server, tmp_path):
    text = config_text(server, tmp_path).replace(server.cert_sha256, "0" * 64)
    rig = Rig(qtbot, server, tmp_path, text)
    try:
        rig.staff.open_service()
        reachable = rig.window.service.values[texts.SERVICE_REACHABLE]
        qtbot.waitUntil(lambda: reachable.text() != texts.SERVICE_CHECKING, timeout=15000)
        assert reachable.text().startswith(texts.SERVICE_NO.format(reason=""))
    finally:
        rig.close()


def test_a_server_check_still_running_at_shutdown_is_dropped_unseen(qtbot, tmp_path):
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there: the check fails fast, once the event loop runs again
    config = config_from_text(f"server: https://127.0.0.1:{port}\n"
                              "room: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\nresident: Erna Müller\n")
    window = KioskWindow(Metrics(*SIZE), config, QWidget())
    controller = StaffController(config, tmp_path / "kiosk.yaml", window, lambda: True, lambda: "")
    controller.open_service()
    assert window.service.values[texts.SERVICE_REACHABLE].text() == texts.SERVICE_CHECKING
    controller.shutdown()
    window.shutdown()
    window.deleteLater()  # the window goes first, as when the kiosk closes
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    qtbot.wait(500)  # a refused check that still reported now would write into the deleted screen (a crash)
    controller.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
