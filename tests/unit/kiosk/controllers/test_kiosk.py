"""Kiosk: the window and the four controllers wired together, or the setup screen alone."""

from __future__ import annotations

import logging

from kiosk.callflow import Trouble
from kiosk.config import config_from_text
from kiosk.controllers.calls import CallController
from kiosk.controllers.family import FamilyController
from kiosk.controllers.health import HealthController
from kiosk.controllers.kiosk import Kiosk
from kiosk.controllers.staff import StaffController
from kiosk.core.style import Metrics
from kiosk.health import REBOOT_EXIT_CODE, REBOOT_MARKER
from kiosk.screen import Screen
from kiosk import texts
from tests.e2e.helpers import close_kiosk, make_kiosk
from tests.unit.kiosk.helpers import standin_config_text as config_text



def test_a_configured_kiosk_has_its_four_controllers_and_shows_home(qtbot, server, tmp_path):
    kiosk = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml",
                       battery=lambda: None)
    try:
        assert isinstance(kiosk.calls, CallController) and isinstance(kiosk.family, FamilyController)
        assert isinstance(kiosk.health, HealthController) and isinstance(kiosk.staff, StaffController)
        assert kiosk.window.screen is Screen.HOME
        with qtbot.waitSignal(kiosk.home_shown, timeout=5000):
            pass
    finally:
        close_kiosk(kiosk)


def test_the_home_screen_log_line_names_the_resident_and_the_greeting(qtbot, server, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="kiosk")
    text = config_text(server, tmp_path, greeting_name="Oma Erna")
    kiosk = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml", battery=lambda: None)
    try:
        with qtbot.waitSignal(kiosk.home_shown, timeout=5000):
            pass
        assert "home screen shown for Erna Müller (greeting Oma Erna)" in [r.getMessage() for r in caplog.records]
        assert "Oma Erna" in kiosk.window.home.greeting.text()  # the same name the resident reads
    finally:
        close_kiosk(kiosk)


def test_without_a_config_only_the_setup_screen_shows(qtbot, tmp_path):
    kiosk = Kiosk(Metrics(1280, 800), None, tmp_path / "kiosk.yaml", support_contact="Frau Kaya")
    try:
        assert (kiosk.calls, kiosk.family, kiosk.health, kiosk.staff) == (None, None, None, None)
        assert kiosk.window.screen is Screen.SETUP
        assert kiosk.window.message.hint.text() == texts.SETUP_CONTACT.format(contact="Frau Kaya")
        with qtbot.assertNotEmitted(kiosk.home_shown, wait=300):
            pass
    finally:
        close_kiosk(kiosk)


def test_presence_from_the_family_controller_makes_it_ring(qtbot, server, tmp_path):
    kiosk = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml",
                       battery=lambda: None)
    try:
        kiosk.family.presence_changed.emit(2, False)
        assert kiosk.window.screen is Screen.RINGING
        assert kiosk.family.ringing_sound_on  # calls.ring reaches family.ring
        kiosk.family.presence_changed.emit(0, False)
        assert kiosk.window.screen is Screen.HOME and not kiosk.family.ringing_sound_on
    finally:
        close_kiosk(kiosk)


def test_network_loss_reaches_the_flow_and_becomes_an_incident(qtbot, server, tmp_path):
    kiosk = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml",
                       battery=lambda: None)
    try:
        kiosk.health.network.online_changed.emit(False)
        kiosk.calls.call_tapped()
        assert kiosk.window.screen is Screen.TROUBLE
        assert kiosk.window.message.headline.text() == texts.TROUBLE[Trouble.OFFLINE][0]
        assert "offline" in kiosk.health.incidents_text()  # calls.incident reaches health.incident
    finally:
        close_kiosk(kiosk)


def test_staff_quitting_asks_the_kiosk_to_quit(qtbot, server, tmp_path):
    kiosk = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml",
                       battery=lambda: None)
    try:
        kiosk.staff.open_service()
        with qtbot.waitSignal(kiosk.quit_requested) as signal:
            kiosk.window.service.quit_tapped.emit()
        assert signal.args == [0]
        with qtbot.waitSignal(kiosk.reload_requested):
            kiosk.window.service.reload_tapped.emit()
    finally:
        close_kiosk(kiosk)


def _nightly_config(server, tmp_path):
    config = config_from_text(config_text(server, tmp_path))
    return config.model_copy(update={"health": config.health.model_copy(update={"nightly_restart": "03:30-04:30"})})


def test_the_nightly_restart_and_reboot_wait_while_it_rings_or_staff_are_at_it(qtbot, server, tmp_path):
    kiosk = make_kiosk(qtbot, _nightly_config(server, tmp_path), tmp_path / "kiosk.yaml", battery=lambda: None)
    try:
        assert kiosk.health.nightly is not None and kiosk.health.is_idle()
        kiosk.family.presence_changed.emit(2, False)
        assert kiosk.window.screen is Screen.RINGING and not kiosk.health.is_idle()
        kiosk.family.presence_changed.emit(0, False)
        assert kiosk.health.is_idle()
        kiosk.staff.open_service()
        assert not kiosk.health.is_idle()
    finally:
        close_kiosk(kiosk)


def test_a_reboot_for_updates_leaves_the_marker_and_quits_with_75(qtbot, server, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path / "run"))
    kiosk = make_kiosk(qtbot, _nightly_config(server, tmp_path), tmp_path / "kiosk.yaml", battery=lambda: None)
    try:
        with qtbot.waitSignal(kiosk.quit_requested) as signal:
            kiosk.health.nightly.reboot_due.emit()  # what NightlyRestart decides (test_watchers.py)
        assert signal.args == [REBOOT_EXIT_CODE] == [75]
        assert (tmp_path / "run" / REBOOT_MARKER).is_file()
        with qtbot.waitSignal(kiosk.quit_requested) as signal:
            kiosk.health.nightly.due.emit()  # the plain nightly restart
        assert signal.args == [0]
    finally:
        close_kiosk(kiosk)


def test_a_reboot_outside_the_kiosk_unit_is_a_plain_restart(qtbot, server, tmp_path, monkeypatch):
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    kiosk = make_kiosk(qtbot, _nightly_config(server, tmp_path), tmp_path / "kiosk.yaml", battery=lambda: None)
    try:
        with qtbot.waitSignal(kiosk.quit_requested) as signal:
            kiosk.health.reboot_due.emit()
        assert signal.args == [0]
    finally:
        close_kiosk(kiosk)


def test_shutdown_twice_is_safe_and_the_window_may_close(qtbot, server, tmp_path):
    kiosk = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml",
                       battery=lambda: None)
    kiosk.shutdown()
    kiosk.shutdown()
    assert kiosk.window.close()
    assert kiosk.calls.view.page is None
    close_kiosk(kiosk)


def test_shutdown_of_the_setup_kiosk_is_safe(qtbot, tmp_path):
    kiosk = Kiosk(Metrics(1280, 800), None, tmp_path / "kiosk.yaml")
    kiosk.shutdown()
    kiosk.shutdown()
    assert kiosk.window.close()
    close_kiosk(kiosk)
