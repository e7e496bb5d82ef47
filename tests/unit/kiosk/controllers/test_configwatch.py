"""ConfigWatch in a real kiosk: a changed config file on disk reloads the kiosk, but only a usable one and only when
nobody uses it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kiosk.config import config_from_text
from kiosk.controllers import configwatch
from kiosk.controllers.kiosk import Kiosk
from kiosk.core.files import write_atomic
from kiosk.core.style import Metrics
from kiosk.screen import Screen
from tests.e2e.helpers import close_kiosk, make_kiosk
from tests.unit.kiosk.helpers import standin_config_text as config_text

DEBOUNCE_MS = 200
SETTLE_MS = 5 * DEBOUNCE_MS  # long enough for several looks at the file: nothing more happens after it


@pytest.fixture(autouse=True)
def quick_debounce(monkeypatch, caplog):
    """A short debounce, and the watch's log lines recorded."""
    monkeypatch.setattr(configwatch, "DEBOUNCE_MS", DEBOUNCE_MS)
    caplog.set_level(logging.INFO, logger="kiosk")


class Rig:
    """A kiosk running the config of a file in a folder of its own, and every reload it asked for."""

    def __init__(self, qtbot, tmp_path: Path, text: str | None, kiosk_for):
        self.qtbot = qtbot
        folder = tmp_path / "etc"
        folder.mkdir()
        self.path = folder / "kiosk.yaml"
        self.text = text
        if text is not None:
            self.path.write_text(text)
        self.kiosk: Kiosk = kiosk_for(self.path)
        self.reloads: list[int] = []
        self.kiosk.reload_requested.connect(lambda: self.reloads.append(1))

    def rewrite(self, text: str) -> None:
        """Replace the file as palim-provision apply does: a temp file beside it, renamed over it."""
        write_atomic(self.path, text.encode(), 0o644)

    def settle(self) -> None:
        self.qtbot.wait(SETTLE_MS)

    def close(self) -> None:
        close_kiosk(self.kiosk)


@pytest.fixture
def rig(qtbot, server, tmp_path):
    server.clear()
    text = config_text(server, tmp_path)
    rig = Rig(qtbot, tmp_path, text,
              lambda path: make_kiosk(qtbot, config_from_text(text), path, battery=lambda: None))
    rig.settle()  # the watch's first look, at start, finds the file as the kiosk read it
    assert rig.reloads == []
    yield rig
    rig.close()


def messages(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_a_changed_greeting_at_home_reloads_once(qtbot, rig, caplog):
    rig.rewrite(rig.text + "greeting_name: Oma Erna\n")
    qtbot.waitUntil(lambda: rig.reloads == [1], timeout=5000)
    rig.settle()
    assert rig.reloads == [1]
    assert messages(caplog, "config changed on disk: reloading") == ["config changed on disk: reloading"]
    assert messages(caplog, "waiting until no call runs") == []


def test_the_same_bytes_written_again_reload_nothing(rig, caplog):
    rig.rewrite(rig.text)
    rig.settle()
    rig.rewrite(rig.text)
    rig.settle()
    assert rig.reloads == []
    assert messages(caplog, "config changed on disk") == []


def test_a_change_during_a_call_waits_until_the_call_ends(qtbot, rig, caplog):
    kiosk = rig.kiosk
    qtbot.waitUntil(lambda: kiosk.calls.view.is_ready, timeout=20000)
    kiosk.calls.call_tapped()
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    rig.rewrite(rig.text + "greeting_name: Oma Erna\n")
    qtbot.waitUntil(lambda: bool(messages(caplog, "waiting until no call runs")), timeout=5000)
    rig.settle()
    assert rig.reloads == [] and kiosk.window.screen is Screen.IN_CALL  # the call goes on
    kiosk.calls.hangup_tapped()
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.HOME, timeout=15000)
    assert rig.reloads == [1]  # as soon as the kiosk is home again, not a moment before
    rig.settle()
    assert rig.reloads == [1]
    assert len(messages(caplog, "waiting until no call runs")) == 1


def test_a_change_while_it_rings_waits_until_the_ringing_stops(qtbot, rig):
    rig.kiosk.family.presence_changed.emit(2, False)
    assert rig.kiosk.window.screen is Screen.RINGING
    rig.rewrite(rig.text + "greeting_name: Oma Erna\n")
    rig.settle()
    assert rig.reloads == []
    rig.kiosk.family.presence_changed.emit(0, False)  # the family left the room
    assert rig.kiosk.window.screen is Screen.HOME
    assert rig.reloads == [1]


def test_a_change_while_staff_are_in_does_not_throw_them_out(qtbot, rig):
    rig.kiosk.staff.open_pin_pad()
    assert rig.kiosk.window.screen is Screen.PIN and rig.kiosk.calls.idle  # no call, yet not idle for a reload
    rig.rewrite(rig.text + "greeting_name: Oma Erna\n")
    rig.settle()
    assert rig.reloads == [] and rig.kiosk.window.screen is Screen.PIN
    rig.kiosk.staff.leave()
    assert rig.reloads == [1]


def test_a_change_undone_before_the_call_ends_reloads_nothing(qtbot, rig):
    rig.kiosk.family.presence_changed.emit(2, False)
    rig.rewrite(rig.text + "greeting_name: Oma Erna\n")
    rig.settle()
    assert rig.kiosk.config_watch.pending
    rig.rewrite(rig.text)
    rig.settle()
    rig.kiosk.family.presence_changed.emit(0, False)
    assert rig.kiosk.window.screen is Screen.HOME
    assert rig.reloads == []


def test_an_unusable_new_file_keeps_the_running_config_with_one_warning(qtbot, rig, caplog):
    running = rig.kiosk.config
    rig.rewrite(rig.text.replace("resident:", "residnet:"))
    rig.settle()
    (rig.path.parent / "other-file").write_text("apply writes more files into the folder")
    rig.settle()
    rig.rewrite(rig.text.replace("resident:", "residnet:"))  # the same broken content once more
    rig.settle()
    assert rig.reloads == []
    assert rig.kiosk.config is running and rig.kiosk.window.screen is Screen.HOME
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "config changed on disk" in r.message]
    assert len(warnings) == 1, [r.message for r in warnings]
    assert "keeping the running config" in warnings[0].message
    assert f"{rig.path}:3:1: residnet: unknown key 'residnet'" in warnings[0].message
    assert warnings[0].exc_info is None
    rig.rewrite(rig.text + "greeting_name: Oma Erna\n")  # fixed by the next apply: now it reloads
    qtbot.waitUntil(lambda: rig.reloads == [1], timeout=5000)


def test_a_deleted_file_keeps_the_running_config(rig, caplog):
    rig.path.unlink()
    rig.settle()
    assert rig.reloads == []
    assert messages(caplog, "is missing, empty or cannot be read")


def test_a_kiosk_not_set_up_heals_itself_when_a_usable_config_appears(qtbot, server, tmp_path, caplog):
    rig = Rig(qtbot, tmp_path, None, lambda path: Kiosk(Metrics(1280, 800), None, path))
    try:
        assert rig.kiosk.window.screen is Screen.SETUP
        rig.rewrite("server: https://konferenz.example.org\n")  # still unusable: no reload, one warning
        rig.settle()
        assert rig.reloads == []
        assert messages(caplog, "the device stays not set up")
        rig.rewrite(config_text(server, tmp_path))
        qtbot.waitUntil(lambda: rig.reloads == [1], timeout=5000)
        rig.settle()
        assert rig.reloads == [1]
    finally:
        rig.close()


def test_a_change_while_the_kiosk_starts_is_seen_at_the_first_look(qtbot, server, tmp_path):
    old = config_text(server, tmp_path)
    new = old + "greeting_name: Oma Erna\n"
    # The app read `old`, then the file changed before the watch began: it compares with what was read.
    rig = Rig(qtbot, tmp_path, new, lambda path: make_kiosk(qtbot, config_from_text(old), path,
                                                            battery=lambda: None, loaded=old.encode()))
    try:
        qtbot.waitUntil(lambda: rig.reloads == [1], timeout=5000)
    finally:
        rig.close()


def test_a_shut_down_kiosk_asks_for_no_reload(qtbot, rig):
    rig.kiosk.shutdown()
    rig.rewrite(rig.text + "greeting_name: Oma Erna\n")
    rig.settle()
    assert rig.reloads == []
