"""Hardware triage against trees captured from three machines (data/machines; made by data/make_machines.py)."""

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from provisioning.check import bitmap_bits, check, edid_size_cm
from provisioning.cli import main

MACHINES = Path(__file__).parent / "data" / "machines"
TODAY = date(2026, 11, 27)
PLENTY = 50 * 1024 ** 3


def _check(name: str, **kw):
    result = check(MACHINES / name, today=TODAY, free_bytes=kw.pop("free_bytes", PLENTY))
    return result, {f.name: f for f in result.findings}


def test_a_good_convertible_laptop_is_suitable():
    result, found = _check("good-laptop")
    assert result.verdict == "suitable"
    assert found["memory"].value == "7.6 GiB"
    assert found["cpu"].value.startswith("4 cores, Intel(R) Core(TM) i5-7300U")
    assert found["camera"].value == "Integrated Camera: Integrated C"  # the metadata node (index 1) is not counted
    assert found["screen"].value == '13.2", 1920x1080'
    assert found["touch"].value == "Wacom Pen and multitouch sensor Finger"  # not the touchpad
    assert found["battery"].value == "BAT0 holds 89 % of its design capacity, 212 cycles"


def test_a_tablet_with_a_worn_battery_is_suitable_with_notes():
    result, found = _check("worn-tablet")
    assert result.verdict == "suitable with notes"
    assert {n for n, f in found.items() if f.status != "ok"} == {"battery", "screen"}
    assert "35 %" in found["battery"].value and "951 cycles" in found["battery"].value
    assert "keep it plugged in" in found["battery"].reason and "800 charge cycles" in found["battery"].reason
    assert found["disk"].value.startswith("mmcblk0 63 GB")  # the removable USB stick is not the disk


def test_an_old_32_bit_netbook_is_unsuitable_with_the_reasons():
    result, found = _check("netbook")
    assert result.verdict == "unsuitable"
    assert found["memory"].status == "fail" and "1.75 GiB" in found["memory"].reason
    assert found["cpu"].status == "fail" and "64-bit" in found["cpu"].reason
    assert found["disk"].status == "note" and "spinning" in found["disk"].reason
    assert found["screen"].value == '10.1", 1024x600' and found["screen"].status == "note"
    assert found["touch"].status == "note"
    text = "\n".join(result.lines())
    assert "verdict: UNSUITABLE" in text and "ASUSTeK Computer INC. 1005HA, firmware from 2009-08-21" in text


def test_little_free_space_and_a_camera_without_capture_are_reported(tmp_path):
    result, found = _check("good-laptop", free_bytes=1024 ** 3)
    assert found["disk"].status == "note" and "3 GiB free" in found["disk"].reason
    tree = tmp_path / "m"
    shutil.copytree(MACHINES / "good-laptop", tree)
    shutil.rmtree(tree / "sys/class/video4linux/video0")
    shutil.rmtree(tree / "sys/class/power_supply/BAT0")
    result = check(tree, today=TODAY, free_bytes=PLENTY)
    found = {f.name: f for f in result.findings}
    assert found["camera"].status == "fail" and "USB webcam" in found["camera"].reason
    assert found["battery"].status == "note" and found["battery"].value == "none"
    assert result.verdict == "unsuitable"


def test_an_old_firmware_date_is_a_note():
    result = check(MACHINES / "good-laptop", today=date(2031, 1, 1), free_bytes=PLENTY)
    cpu = next(f for f in result.findings if f.name == "cpu")
    assert cpu.status == "note" and "over 12 years" in cpu.reason and "firmware 14 years old" in cpu.value


def test_bitmaps_and_edid():
    assert bitmap_bits("5") == {0, 2} and bitmap_bits("1 3") == {0, 1, 64}
    edid = (MACHINES / "good-laptop/sys/class/drm/card0-eDP-1/edid").read_bytes()
    assert edid_size_cm(edid) == (29, 17) and edid_size_cm(b"garbage") is None


def test_cli_json_and_exit_codes(capsys):
    assert main(["check", "--sysfs-root", str(MACHINES / "worn-tablet"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "suitable with notes"
    assert {c["name"] for c in data["checks"]} == {"memory", "cpu", "disk", "camera", "microphone", "speaker",
                                                   "battery", "screen", "touch"}
    assert main(["check", "--sysfs-root", str(MACHINES / "netbook")]) == 1
    assert "verdict: UNSUITABLE" in capsys.readouterr().out


@pytest.mark.parametrize("root, message", [("/nonexistent", "is not a directory"),
                                           (str(MACHINES), "not a machine's tree")])
def test_cli_bad_root_exits_2(capsys, root, message):
    assert main(["check", "--sysfs-root", root]) == 2
    assert message in capsys.readouterr().err


def test_help_documents_the_thresholds(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "below 1.75 GiB" in out and "exit codes: 0 suitable" in out and "--sysfs-root" in out
