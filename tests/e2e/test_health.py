"""Offline, battery, crash loops, watchdog and nightly restart, through the real window."""

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psutil
from PyQt6.QtCore import QTimer

from kiosk import sdnotify
from kiosk.screen import Screen
from kiosk.config import config_from_text
from kiosk.health import Battery
from kiosk.controllers.watchers import NightlyRestart
from tests.e2e.helpers import close_kiosk, config_text, make_kiosk, tap

ROOT = Path(__file__).resolve().parents[2]


def test_offline_home_says_so_discreetly_and_the_button_explains(qtbot, kiosk):
    kiosk.health.network.online_changed.emit(False)
    assert kiosk.window.home.status.text() == "Gerade keine Internetverbindung"
    tap(qtbot, kiosk.window.home.call_button)
    assert kiosk.window.screen is Screen.TROUBLE
    assert kiosk.window.message.headline.text() == "Das Gerät ist gerade nicht mit dem Internet verbunden."
    tap(qtbot, kiosk.window.message.button)
    kiosk.health.network.online_changed.emit(True)
    assert kiosk.window.screen is Screen.HOME and not kiosk.window.home.status.isVisible()
    tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)


def test_low_battery_warns_and_an_empty_one_shuts_down(qtbot, server, tmp_path):
    readings = [Battery(15.0, False)]
    window = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml")
    window.health.power.read = lambda: readings[0]
    shutdowns = []
    window.health.run_shutdown = lambda: shutdowns.append(True)
    try:
        window.health.power.check()
        assert window.window.home.status.text() == "Bitte das Ladekabel einstecken"
        readings[0] = Battery(15.0, True)  # plugged in
        window.health.power.check()
        assert not window.window.home.status.isVisible()
        readings[0] = Battery(3.0, False)
        window.health.power.check()
        window.health.power.check()
        assert shutdowns == [True]  # once
        assert "battery_percent" in (tmp_path / "palim_kiosk.prom").read_text()
    finally:
        close_kiosk(window)


def test_no_battery_is_normal(qtbot, server, tmp_path):
    window = make_kiosk(qtbot, config_from_text(config_text(server, tmp_path)), tmp_path / "kiosk.yaml")
    window.health.power.read = lambda: None
    try:
        window.health.power.check()
        assert not window.window.home.status.isVisible()
        assert "battery" not in (tmp_path / "palim_kiosk.prom").read_text()
    finally:
        close_kiosk(window)


def kill_renderer(kiosk) -> None:
    psutil.Process(kiosk.calls.view.renderer_pid()).kill()


def test_three_quick_renderer_crashes_ask_systemd_for_a_clean_restart(qtbot, kiosk):
    exits = []
    kiosk.quit_requested.connect(exits.append)
    kill_renderer(kiosk)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.TROUBLE, timeout=10000)
    qtbot.waitUntil(lambda: kiosk.calls.view.is_ready, timeout=20000)
    tap(qtbot, kiosk.window.message.button)
    kill_renderer(kiosk)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.TROUBLE, timeout=10000)
    tap(qtbot, kiosk.window.message.button)
    tap(qtbot, kiosk.window.home.call_button)  # a person asking rebuilds at once
    qtbot.waitUntil(lambda: kiosk.calls.view.is_ready, timeout=20000)
    assert exits == []
    kill_renderer(kiosk)
    qtbot.waitUntil(lambda: exits == [70], timeout=10000)


def test_the_app_exits_with_its_crash_code(tmp_path):
    path = tmp_path / "kiosk.yaml"
    path.write_text("server: https://127.0.0.1:9\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\nresident: Erna Müller\n"
                    f"health: {{usage_log: '{tmp_path}/usage.jsonl', max_renderer_crashes: 1}}\n")
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(path), "--windowed"], cwd=ROOT,
                               stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in process.stderr:  # the kiosk names its renderer when the call page is ready
            lines.append(line)
            if "call page ready (renderer pid" in line:
                pid = int(line.rsplit("pid", 1)[1].strip(" )\n"))
                assert pid in [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
                psutil.Process(pid).kill()
                break
        stderr = "".join(lines) + process.communicate(timeout=30)[1]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 70, stderr
    assert "leaving so that systemd restarts the kiosk: 1 renderer crashes" in stderr


def test_watchdog_pings_come_from_the_gui_thread(qtbot, tmp_path, monkeypatch):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify"))
    listener.settimeout(0.05)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    received = []

    def drain():
        while True:
            try:
                received.append((time.monotonic(), listener.recv(256).decode()))
            except (TimeoutError, BlockingIOError, socket.timeout):
                return

    assert sdnotify.notify("READY=1\nSTATUS=home screen shown")
    watchdog = sdnotify.start_watchdog()
    assert watchdog is not None and watchdog.interval() == 200
    try:
        qtbot.wait(1000)
        drain()
        assert received[0][1] == "READY=1\nSTATUS=home screen shown"
        pings = [t for t, m in received if m == "WATCHDOG=1"]
        assert len(pings) >= 3
        # Block the event loop: a frozen GUI sends no pings, so systemd would restart it.
        received.clear()
        blocked_from = time.monotonic()
        QTimer.singleShot(0, lambda: time.sleep(1.2))
        qtbot.wait(1600)
        drain()
        pings = [t for t, m in received if m == "WATCHDOG=1"]
        gaps = [b - a for a, b in zip([blocked_from] + pings, pings)]
        assert max(gaps) >= 1.1
    finally:
        watchdog.stop()
        listener.close()


def test_no_watchdog_without_systemd(monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.start_watchdog() is None


def test_nightly_restart_waits_for_the_end_of_a_call(qtbot):
    night = datetime(2026, 11, 28, 3, 5)
    times = iter([datetime(2026, 11, 27, 9, 0)] + [night + timedelta(minutes=i) for i in range(10)])
    idle = [False]
    restart = NightlyRestart("03:00-04:00", lambda: idle[0], clock=lambda: next(times))
    restart.RETRY_MS = 50
    try:
        with qtbot.assertNotEmitted(restart.due, wait=300):
            restart._check()  # in a call: not now
        idle[0] = True
        with qtbot.waitSignal(restart.due, timeout=2000):
            pass
    finally:
        restart.stop()
