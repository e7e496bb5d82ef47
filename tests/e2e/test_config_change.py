"""The real kiosk process picks up a config that palim-provision apply replaced on disk, by itself."""

import os
import subprocess
import sys
import time
from pathlib import Path

from kiosk.core.files import write_atomic
from tests.e2e.helpers import config_text

ROOT = Path(__file__).resolve().parents[2]


def wait_for(journal: Path, line: str, process: subprocess.Popen, timeout: float = 30) -> str:
    """The kiosk's log once `line` is in it; fails with the log's end when it never comes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = journal.read_text()
        if line in text:
            return text
        assert process.poll() is None, f"the kiosk ended ({process.returncode}): {text[-3000:]}"
        time.sleep(0.2)
    raise AssertionError(f"no {line!r} in the kiosk's log: {journal.read_text()[-3000:]}")


def test_a_config_replaced_on_disk_shows_its_new_greeting_without_a_restart(server, tmp_path):
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "kiosk.yaml"
    text = config_text(server, tmp_path)
    path.write_text(text)
    journal = tmp_path / "kiosk.log"
    environment = dict(os.environ, STATE_DIRECTORY=str(tmp_path / "state"))
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(path), "--windowed"], cwd=ROOT,
                               env=environment, stdout=subprocess.DEVNULL, stderr=journal.open("w"), text=True)
    try:
        wait_for(journal, "home screen shown for Erna Müller (greeting Erna)", process)
        time.sleep(3)  # the watch's first look at start finds the file as the kiosk read it: no reload
        assert "config changed on disk" not in journal.read_text()
        write_atomic(path, (text + "greeting_name: Oma Erna\n").encode(), 0o644)  # as apply replaces it
        log = wait_for(journal, "home screen shown for Erna Müller (greeting Oma Erna)", process)
        assert log.count("config changed on disk: reloading") == 1
        assert log.index("config changed on disk: reloading") < log.index("(greeting Oma Erna)")
        assert process.poll() is None  # the same process: reloaded, not restarted
    finally:
        process.terminate()
        process.wait(timeout=30)
    log = journal.read_text()
    assert process.returncode == 0, log[-3000:]
    assert "Traceback" not in log
