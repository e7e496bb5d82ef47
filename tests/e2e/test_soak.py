"""Soak: 200 call/hang-up cycles in one kiosk process; memory must stay flat (issue: within 10 %)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_two_hundred_calls_keep_memory_flat():
    done = subprocess.run([sys.executable, "bench/soak.py", "--cycles", "200", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print({key: value for key, value in result.items() if key != "by_role"})  # figures for the closing note
    assert result["calls_recorded"] == 200
    # The renderer is where a call's leftovers would pile up (it did, before each call got a fresh page).
    assert all("renderer" in roles for roles in result["by_role"].values()), result["by_role"]
    assert result["growth"] <= 0.10, result
