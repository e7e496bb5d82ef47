"""systemd's notify protocol: datagrams to a real unix socket (path or abstract), and the watchdog interval."""

import os
import socket

import pytest

from kiosk import sdnotify


@pytest.fixture
def listener():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.settimeout(5)  # only a bound on a broken test: the datagram is already queued when notify returns
    yield sock
    sock.close()


def test_ready_reaches_the_socket_named_by_notify_socket(listener, tmp_path, monkeypatch):
    path = tmp_path / "notify"
    listener.bind(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    assert sdnotify.notify("READY=1") is True
    assert sdnotify.notify("STATUS=home screen shown\nWATCHDOG=1") is True
    assert listener.recv(256) == b"READY=1"
    assert listener.recv(256) == b"STATUS=home screen shown\nWATCHDOG=1"  # one message, one datagram


def test_an_abstract_socket_name_starts_with_an_at_sign(listener, monkeypatch):
    name = f"palim-test-{os.getpid()}-{id(listener)}"
    listener.bind("\0" + name)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    assert sdnotify.notify("READY=1") is True
    assert listener.recv(256) == b"READY=1"


@pytest.mark.parametrize("value", [None, ""])
def test_without_notify_socket_nothing_is_sent(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    else:
        monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert sdnotify.notify("READY=1") is False


def test_a_socket_nobody_listens_on_is_false_and_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sdnotify.notify("READY=1") is False
    assert "could not notify systemd" in caplog.text


@pytest.mark.parametrize("usec, expected", [("30000000", 15000), ("400000", 200), ("1000", 100), ("1", 100)])
def test_the_watchdog_is_pinged_at_half_its_timeout_and_never_faster_than_every_100_ms(monkeypatch, usec, expected):
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval_ms() == expected
    monkeypatch.delenv("WATCHDOG_PID")  # systemd may leave it out: then the watchdog is ours
    assert sdnotify.watchdog_interval_ms() == expected


@pytest.mark.parametrize("usec, pid", [
    (None, None), ("0", None), ("-5", None), ("soon", None), ("", None), ("1.5e6", None),
    ("30000000", "not-a-pid"), ("30000000", ""),
])
def test_no_watchdog_or_garbage_values_mean_no_pings(monkeypatch, usec, pid):
    for name, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert sdnotify.watchdog_interval_ms() == 0
