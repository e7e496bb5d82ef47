"""Start-up pieces that need no window: arguments and the journal-friendly log format."""

import logging

import pytest

from kiosk.app import JournalFormatter, parse_args


def record(level, message):
    return logging.LogRecord("kiosk.flow", level, __file__, 1, message, None, None)


def test_journal_lines_carry_the_priority():
    assert JournalFormatter(journal=True).format(record(logging.WARNING, "call 1: x")) == \
        "<4>kiosk.flow: WARNING: call 1: x"
    assert JournalFormatter(journal=True).format(record(logging.ERROR, "a\nb")) == "<3>kiosk.flow: ERROR: a | b"
    assert JournalFormatter(journal=False).format(record(logging.INFO, "hi")) == "kiosk.flow: INFO: hi"


def test_arguments():
    args = parse_args(["--config", "x.yaml", "--windowed", "--size", "1024x600"])
    assert (str(args.config), args.windowed, args.width, args.height) == ("x.yaml", True, 1024, 600)


@pytest.mark.parametrize("size", ["big", "10x10", "1280", "1280x800x2"])
def test_bad_sizes_are_refused_with_a_message(size, capsys):
    with pytest.raises(SystemExit) as info:
        parse_args(["--size", size])
    assert info.value.code == 2
    assert "--size must look like 1280x800" in capsys.readouterr().err


def test_watchdog_pid_of_cage_counts_for_its_child(monkeypatch):
    import os

    from kiosk import sdnotify

    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getppid()))  # under cage, systemd's main pid is our parent
    assert sdnotify.watchdog_interval_ms() == 15000
    monkeypatch.setenv("WATCHDOG_PID", "1")  # somebody else's watchdog
    assert sdnotify.watchdog_interval_ms() == 0
