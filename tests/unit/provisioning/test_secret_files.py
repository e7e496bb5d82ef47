"""A Wi-Fi password file that is no file (a device, a pipe, a folder) or far too large gets a clear message at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "provisioning" / "examples" / "devices.yaml"


def device_list_with_psk_file(folder: Path, psk_file: str) -> Path:
    """The example list with the first home's password read from psk_file."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("psk_env: EBH_WIFI_PSK", f"psk_file: {psk_file}", 1)
    assert f"psk_file: {psk_file}" in text
    path = folder / "devices.yaml"
    path.write_text(text, encoding="utf-8")
    for name in ("secrets",):  # the example's other homes read their own files from here
        (folder / name).mkdir(exist_ok=True)
    (folder / "secrets" / "sonnenhang.psk").write_text("sonnenhang-2026\n")
    return path


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: "/dev/zero", "/dev/zero is not a regular file (a device, pipe or socket)"),
    (lambda d: (os.mkfifo(d / "fifo"), str(d / "fifo"))[1], "is not a regular file (a device, pipe or socket)"),
    (lambda d: ((d / "folder").mkdir(), str(d / "folder"))[1], "is a folder, not a file"),
    (lambda d: ((d / "big").write_text("x" * 5000), str(d / "big"))[1], "is larger than 1 KiB"),
])
def test_validate_refuses_a_wrong_secrets_file_at_once(tmp_path, make, message):
    path = device_list_with_psk_file(tmp_path, make(tmp_path))
    # In a child with a deadline: reading /dev/zero or a FIFO without a writer would never return.
    result = subprocess.run([sys.executable, "-m", "provisioning.cli", "validate", str(path), "--strict"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    line = next(line for line in result.stderr.splitlines() if "wifi.psk_file" in line)
    assert line.startswith(f"{path}:") and message in line, line
