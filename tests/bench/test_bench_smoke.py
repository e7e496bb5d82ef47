"""CI smoke of the benchmark harness (bench/run.py --quick): it runs end to end and prints its table. No timings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_quick_benchmark_prints_the_table(tmp_path):
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (./scripts/setup installs it): nothing to compare with")
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (./scripts/setup installs it): the harness taps with it")
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display: the harness needs Xvfb (./scripts/test starts one)")
    table = tmp_path / "table.md"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--markdown", str(table)],
                          cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-4000:]
    text = table.read_text(encoding="utf-8")
    assert "| figure | Palim kiosk median (min–max) | chromium --kiosk median (min–max) |" in text
    for row in ("start → home painted", "tap → videoConferenceJoined", "idle at home: tree PSS",
                "in call: CPU % of one core", "in call: tree PSS"):
        line = next(line for line in text.splitlines() if row in line)
        assert line.count("—") == 0, f"a figure is missing: {line}"
    assert text in done.stdout
