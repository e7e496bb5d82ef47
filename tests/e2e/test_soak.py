"""Soak: 200 call/hang-up cycles in one kiosk process; memory must stay flat (issue: within 10 %)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_two_hundred_calls_keep_memory_flat():
    done = subprocess.run([sys.executable, "bench/soak.py", "--cycles", "200", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(result)  # the figures for the closing note (pytest -s)
    assert result["calls_recorded"] == 200
    assert result["growth"] <= 0.10, result
