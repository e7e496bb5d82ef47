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


def _swap_in(rig, make) -> None:
    """Put something else where the config is, as an attacker with the folder could: made beside, renamed over."""
    beside = rig.path.parent / ".swap"
    make(beside)
    beside.rename(rig.path)


def _fifo(path: Path) -> None:
    import os

    os.mkfifo(path)


# what replaces the config -> the journal line that says why the running config stays
HOSTILE_FILES = [
    (lambda p: p.symlink_to("/dev/zero"), "is a symbolic link, not the file itself"),
    (_fifo, "is not a regular file (a device, pipe or socket)"),
    (lambda p: p.write_bytes(b"".join(b"k%d: %d\n" % (i, i) for i in range(5_000_000))), "is larger than 64 KiB"),
    (lambda p: p.mkdir(), "is a folder, not a file"),
    (lambda p: p.write_bytes(b"\xff\xfe" * 100), "the config file is not UTF-8 text"),
    (lambda p: p.write_bytes(b"".join(b"k%d: %d\n" % (i, i) for i in range(6000))[:60_000]), "unknown key 'k0'"),
]


@pytest.mark.parametrize(("make", "expected"), HOSTILE_FILES, ids=["symlink-to-dev-zero", "fifo", "38-MB-of-keys",
                                                                   "folder", "not-utf8", "60-kB-of-keys"])
def test_a_hostile_file_in_the_configs_place_keeps_the_running_config_with_a_journal_line(qtbot, rig, caplog, make,
                                                                                          expected):
    import time

    from PyQt6.QtCore import QTimer

    running = rig.kiosk.config
    stalls, last = [0.0], [time.monotonic()]

    def tick():
        now = time.monotonic()
        stalls[0] = max(stalls[0], now - last[0] - 0.01)
        last[0] = now

    if rig.path.exists():
        rig.path.unlink()
    _swap_in(rig, make)  # the watch looks DEBOUNCE_MS later: the stall measured from here is the watch's alone
    last[0] = time.monotonic()
    ticker = QTimer(interval=10)
    ticker.timeout.connect(tick)
    ticker.start()
    qtbot.waitUntil(lambda: bool(messages(caplog, expected)), timeout=5000)
    ticker.stop()
    print(f"\nconfig replaced ({expected}): longest GUI stall {stalls[0] * 1000:.0f} ms")
    assert rig.reloads == [] and rig.kiosk.config is running and rig.kiosk.window.screen is Screen.HOME
    assert messages(caplog, "keeping the running config")


def test_the_watch_survives_its_folder_deleted_and_made_again(qtbot, rig, caplog):
    import shutil

    rig.kiosk.config_watch._rescan.setInterval(200)  # the test's pace; RESCAN_MS on a device
    shutil.rmtree(rig.path.parent)
    rig.settle()
    assert rig.reloads == []
    rig.path.parent.mkdir()
    rig.path.write_text(rig.text + "greeting_name: Oma Erna\n")
    qtbot.waitUntil(lambda: rig.reloads == [1], timeout=10000)
    assert messages(caplog, "is back, watching it again")
    rig.rewrite(rig.text + "greeting_name: Opa Kurt\n")  # and changes after that are seen too
    qtbot.waitUntil(lambda: len(rig.reloads) == 2, timeout=10000)
