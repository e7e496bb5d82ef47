"""The real kiosk process (`python -m kiosk` under Xvfb) with hostile files where its config and token are: it
starts "not set up" or keeps what runs, says why in its journal, and its memory does not climb.

Figures (peak RSS of the kiosk process, sampled every 20 ms) are printed per case: `-s` shows them. The memory bound
is one no busy machine can break (reading /dev/zero climbed past 3 GiB in 10 s); no timing is asserted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from kiosk.core.files import write_atomic
from tests.e2e.helpers import config_text
from tests.e2e.test_config_change import wait_for

ROOT = Path(__file__).resolve().parents[2]
MEMORY_BOUND = 200 << 20


class Kiosk:
    """The kiosk as a process of its own, its journal in a file, its peak memory watched."""

    def __init__(self, path: Path, folder: Path):
        self.journal = folder / "kiosk.log"
        env = dict(os.environ, STATE_DIRECTORY=str(folder / "state"))
        self.process = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(path), "--windowed"],
                                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.journal.open("w"))
        self.peak = 0
        self.baseline = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        try:
            process = psutil.Process(self.process.pid)
            while not self._done.is_set():
                self.peak = max(self.peak, process.memory_info().rss)
                time.sleep(0.02)
        except psutil.NoSuchProcess:
            pass

    def wait_for(self, line: str, timeout: float = 30) -> str:
        return wait_for(self.journal, line, self.process, timeout)

    def mark(self) -> None:
        """From now on the peak counts against the memory the kiosk has now."""
        self.baseline = psutil.Process(self.process.pid).memory_info().rss
        self.peak = self.baseline

    def grown(self, name: str) -> float:
        grown = (self.peak - self.baseline) / (1 << 20)
        print(f"\n{name}: kiosk process peak RSS +{grown:.1f} MiB over {self.baseline / (1 << 20):.0f} MiB")
        return grown

    def stop(self) -> str:
        self._done.set()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        log = self.journal.read_text()
        assert self.process.returncode == 0 and "Traceback" not in log, log[-3000:]
        return log


def _fifo(path: Path) -> None:
    os.mkfifo(path)


# what is at the config's place when the kiosk starts -> its journal line (the screen: "not set up")
AT_START = [
    ("symlink-to-dev-zero", lambda p: p.symlink_to("/dev/zero"), "is a symbolic link, not the file itself"),
    ("fifo", _fifo, "is not a regular file (a device, pipe or socket)"),
    ("38-MB-of-keys", lambda p: p.write_bytes(b"".join(b"k%d: %d\n" % (i, i) for i in range(5_000_000))),
     "is larger than 64 KiB"),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in AT_START], ids=[c[0] for c in AT_START])
def test_started_on_a_hostile_config_the_kiosk_is_not_set_up_at_once(tmp_path, make, expected):
    path = tmp_path / "kiosk.yaml"
    make(path)
    kiosk = Kiosk(path, tmp_path)
    try:
        log = kiosk.wait_for("not set up")
        assert f"{path}:1:1: the config file cannot be used: {path} {expected}" in kiosk.wait_for(expected)
        assert "the device is not set up: 1 problem(s)" in log
        assert kiosk.peak < 1 << 30  # the whole kiosk, Qt and all; reading /dev/zero went past 3 GiB
    finally:
        kiosk.stop()


def test_a_token_file_that_is_a_fifo_never_holds_up_the_start(server, tmp_path):
    path = tmp_path / "kiosk.yaml"
    _fifo(tmp_path / "jwt")
    path.write_text(config_text(server, tmp_path) + f"jwt_file: {tmp_path / 'jwt'}\n")
    kiosk = Kiosk(path, tmp_path)
    try:
        kiosk.wait_for("home screen shown for Erna Müller")
        kiosk.wait_for("the server token file cannot be used")
    finally:
        log = kiosk.stop()
    assert "is not a regular file (a device, pipe or socket)" in log


# what replaces the running kiosk's config -> its journal line (the running config stays)
SWAPPED = [
    ("symlink-to-dev-zero", lambda p: p.symlink_to("/dev/zero"), "is a symbolic link, not the file itself"),
    ("fifo", _fifo, "is not a regular file (a device, pipe or socket)"),
    ("38-MB-of-keys", lambda p: p.write_bytes(b"".join(b"k%d: %d\n" % (i, i) for i in range(5_000_000))),
     "is larger than 64 KiB"),
]


def test_hostile_files_swapped_in_keep_the_running_config_and_the_watch_survives_its_folder(server, tmp_path):
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "kiosk.yaml"
    text = config_text(server, tmp_path)
    path.write_text(text)
    kiosk = Kiosk(path, tmp_path)
    try:
        kiosk.wait_for("home screen shown for Erna Müller (greeting Erna)")
        time.sleep(3)  # the watch's first look
        for name, make, expected in SWAPPED:
            beside = folder / ".swap"
            make(beside)
            kiosk.mark()
            beside.rename(path)  # atomically, as an attacker with the folder could
            kiosk.wait_for(expected)
            assert kiosk.grown(f"config swapped for {name}") * (1 << 20) < MEMORY_BOUND
            path.unlink()
        # The folder deleted and made again (a package purge, a careless rm -r): the watch finds it again.
        shutil.rmtree(folder)
        time.sleep(3)
        folder.mkdir()
        write_atomic(path, (text + "greeting_name: Oma Erna\n").encode(), 0o644)
        log = kiosk.wait_for("home screen shown for Erna Müller (greeting Oma Erna)", timeout=60)
        assert "watching it again" in log
        assert kiosk.process.poll() is None  # the same process: it reloaded
        for _, _, expected in SWAPPED:  # each said once, with what the kiosk did about it
            assert log.count(f"keeping the running config: {path} {expected}") == 1, expected
    finally:
        kiosk.stop()
