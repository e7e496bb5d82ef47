"""Whatever breaks, the resident gets a calm screen and a working kiosk back."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from kiosk.screen import Screen
from kiosk.app import read_config
from kiosk.core.style import Metrics
from kiosk.controllers.kiosk import Kiosk
from tests.e2e.helpers import close_kiosk, tap, wait_report

ROOT = Path(__file__).resolve().parents[2]


def kill_renderer(qtbot, window) -> int:
    pid = window.calls.view.renderer_pid()
    assert pid > 0
    process = psutil.Process(pid)
    assert "QtWebEngineProcess" in process.name() or "QtWebEngineProcess" in " ".join(process.cmdline()[:1])
    assert process.ppid() == os.getpid() or psutil.Process(process.ppid()).ppid() == os.getpid()
    process.kill()
    return pid


def test_renderer_killed_at_home_recovers_to_a_working_kiosk(qtbot, kiosk, server):
    old = kill_renderer(qtbot, kiosk)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.TROUBLE, timeout=10000)
    assert kiosk.window.message.headline.text() == "Eine kurze Störung."
    qtbot.waitUntil(lambda: kiosk.calls.view.is_ready, timeout=20000)
    assert kiosk.calls.view.renderer_pid() not in (0, old)
    tap(qtbot, kiosk.window.message.button)  # "Zurück"
    assert kiosk.window.screen is Screen.HOME
    tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    wait_report(qtbot, server, "joined", room=kiosk.config.room)


def test_renderer_killed_in_a_call_recovers_and_returns_home_by_itself(qtbot, kiosk, server):
    kiosk.calls.flow.timing = type(kiosk.calls.flow.timing)(message=1.0)
    tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    kill_renderer(qtbot, kiosk)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.TROUBLE, timeout=10000)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.HOME, timeout=10000)
    qtbot.waitUntil(lambda: kiosk.calls.view.is_ready, timeout=20000)


def test_crash_loop_is_rate_limited(qtbot, kiosk):
    kill_renderer(qtbot, kiosk)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.TROUBLE, timeout=10000)
    qtbot.waitUntil(lambda: kiosk.calls.view.is_ready, timeout=20000)
    tap(qtbot, kiosk.window.message.button)
    kill_renderer(qtbot, kiosk)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.TROUBLE, timeout=10000)
    qtbot.wait(1500)
    # The second crash within a minute waits for the rebuild timer instead of rebuilding at once.
    assert not kiosk.calls.view.is_ready
    assert kiosk.calls.flow.rebuild_pending
    assert kiosk.calls.timer_running("rebuild")


@pytest.mark.parametrize("text", ["server: http://x.example\nsupport_contact: 'Stadt IT, 07223 935-000'\n",
                                  "{{{{ not yaml", ""])
def test_broken_config_shows_the_setup_screen(qtbot, tmp_path, caplog, text):
    path = tmp_path / "kiosk.yaml"
    path.write_text(text)
    config, contact = read_config(path)
    assert config is None
    window = Kiosk(Metrics(1280, 800), config, path, contact)
    window.window.resize(1280, 800)
    window.window.show()
    try:
        assert window.window.screen is Screen.SETUP
        assert window.window.message.headline.text() == "Dieses Gerät ist noch nicht eingerichtet."
        if "support_contact" in text:
            assert "Stadt IT, 07223 935-000" in window.window.message.hint.text()
            assert any(f"{path}:1:9: server: must use https" in r.message for r in caplog.records)
        assert not window.window.message.button.isVisible()
    finally:
        close_kiosk(window)


def test_the_app_survives_a_broken_config_and_stops_cleanly_on_sigterm(tmp_path):
    path = tmp_path / "kiosk.yaml"
    path.write_text("server: https://konferenz.example.org\nroom: palim-x\nresidnet: Erna\n")
    env = dict(os.environ)
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(path), "--windowed"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4)
        assert process.poll() is None, process.stderr.read()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert f"{path}:3:1: residnet: unknown key 'residnet' (check the spelling)" in stderr
    assert f"{path}:1:1: 'resident' is missing" in stderr
    assert "Traceback" not in stderr


def test_sigusr1_saves_a_support_screenshot_of_home(tmp_path):
    path = tmp_path / "kiosk.yaml"
    path.write_text("server: https://127.0.0.1:9\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\nresident: Erna Müller\n"
                    f"health: {{usage_log: '{tmp_path}/usage.jsonl'}}\n")
    env = dict(os.environ, STATE_DIRECTORY=str(tmp_path / "state"))
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(path), "--windowed"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shot = tmp_path / "state" / "screenshot.png"
    try:
        time.sleep(1.5)
        deadline = time.monotonic() + 30
        while not shot.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
            process.send_signal(signal.SIGUSR1)
        assert shot.exists(), "no screenshot"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    from PyQt6.QtGui import QImage

    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1280, 800)
    # The home screen: the green call button covers the centre, the paper background the corner.
    assert image.pixelColor(640, 400).name() == "#17592f"
    assert image.pixelColor(1270, 790).name() == "#f7f3ea"
    assert "support screenshot saved" in stderr and "(home screen)" in stderr
