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


@pytest.mark.parametrize(("pins", "weak_ok", "code", "out", "err"), [
    (["730518", "730518"], False, 0, "admin_pin_hash: 'scrypt$16384$8$1$", ""),
    (["730518", "730519"], False, 2, "", "the two PINs differ; nothing printed"),
    (["345678", "345678"], False, 2, "", "the PIN counts up or down (like 123456 or 654321): choose 6 to 12 digits"),
    (["2468", "2468"], False, 2, "", "the PIN has fewer than 6 digits"),
    (["2468", "2468"], True, 0, "admin_pin_hash: 'scrypt$", "warning: the PIN has fewer than 6 digits"),
    (["12ab56", "12ab56"], True, 2, "", "the PIN must be 6 to 12 digits"),
])
def test_hash_pin_asks_twice_and_refuses_weak_pins_unless_told(monkeypatch, capsys, pins, weak_ok, code, out, err):
    from kiosk.app import hash_pin_interactively

    answers = iter(pins)
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))  # the terminal's part: no tty in a test
    assert hash_pin_interactively(weak_ok) == code
    captured = capsys.readouterr()
    assert captured.out.startswith(out) if out else captured.out == ""
    assert err in captured.err
    assert pins[0] not in captured.out + captured.err  # the PIN itself is never printed


def test_weak_pin_ok_alone_is_a_usage_error(capsys):
    from kiosk.app import main

    assert main(["--weak-pin-ok"]) == 2
    assert "--weak-pin-ok goes with --hash-pin" in capsys.readouterr().err
