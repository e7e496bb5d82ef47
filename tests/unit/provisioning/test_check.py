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
    assert {c["name"] for c in data["checks"]} == {"memory", "cpu", "disk", "wifi", "camera", "microphone", "speaker",
                                                   "battery", "graphics", "screen", "touch"}
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


# --------------------------------------------------------------------------- German, for the installer stick

def _variants(tmp_path):
    """The three machines, and the good laptop with each part missing in turn, so every branch speaks."""
    for name in ("good-laptop", "worn-tablet", "netbook"):
        for free in (PLENTY, 1024 ** 3):
            yield check(MACHINES / name, today=date(2031, 1, 1), free_bytes=free)
    for index, gone in enumerate(("sys/class/video4linux", "sys/class/power_supply", "proc/asound", "sys/class/drm",
                                  "proc/meminfo", "proc/cpuinfo", "sys/block", "proc/bus/input/devices",
                                  "sys/class/net", "sys/bus")):
        tree = tmp_path / str(index)
        shutil.copytree(MACHINES / "good-laptop", tree)
        path = tree / gone
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        yield check(tree, today=TODAY, free_bytes=PLENTY)


def test_every_finding_has_its_german_beside_the_english(tmp_path):
    seen = set()
    for result in _variants(tmp_path):
        for f in result.findings:
            seen.add((f.name, f.status))
            assert bool(f.reason) == bool(f.reason_de), f
            # only a device's own name (a camera's, a sound card's, a touch screen's, a network interface's with its
            # driver, a graphics driver's with its connectors) reads the same in German
            assert f.value_de or (f.name in {"camera", "microphone", "speaker", "touch", "wifi", "graphics"}
                                  and f.value != "none"), f
            assert f.value_de != f.value or f.value_de == "", f
    assert {status for name, status in seen if name != "touch"} == {"ok", "note", "fail"}


def test_the_triage_in_german_for_the_stick():
    result, _ = _check("netbook", free_bytes=PLENTY)
    lines = result.lines_de()
    assert lines[0] == "ASUSTeK Computer INC. 1005HA, Firmware vom 21.08.2009"
    assert "  ungeeignet Arbeitsspeicher 1,0 GiB" in lines
    assert "  Hinweis    Festplatte      sda 160 GB (drehend), 50,0 GiB frei" in lines
    assert "  Hinweis    Bildschirm      10,1 Zoll, 1024x600" in lines
    assert "  Hinweis    Touchscreen     nicht gefunden" in lines
    assert "Ergebnis: UNGEEIGNET" in lines
    assert "  - Arbeitsspeicher: ein Videoanruf braucht mindestens 1,75 GiB (2 GB eingebaut)" in lines
    assert "  - Prozessor: nur 32 Bit: der Kiosk braucht einen 64-Bit-Prozessor (x86-64)" in lines
    good, _ = _check("good-laptop")
    assert good.lines_de()[-1] == "Ergebnis: GEEIGNET" and good.lines()[-1] == "verdict: SUITABLE"


def test_the_english_output_and_json_stay_as_they_were():
    result, found = _check("netbook")
    assert "  fail  memory      1.0 GiB" in result.lines()
    assert all(set(c) == {"name", "status", "value", "reason"} for c in result.as_json()["checks"])
