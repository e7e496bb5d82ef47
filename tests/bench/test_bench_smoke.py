"""CI smoke of the benchmark harness (bench/run.py --quick): it runs end to end and prints its table. No timings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.requirements import need, need_tool

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_quick_benchmark_prints_the_table(tmp_path):
    need_tool("chromium", apt="chromium")  # what the kiosk is compared with
    need_tool("xdotool", apt="xdotool")  # the harness taps with it
    need(os.environ.get("DISPLAY"), "no X display: the harness needs Xvfb (install the Debian package xvfb; "
                                    "./scripts/test starts it through xvfb-run)")
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
