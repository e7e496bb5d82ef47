"""Screen rotation: `display: {rotate: 0|90|180|270}` for a device, its home or the defaults, checked where it is typed
and rendered into the kiosk unit as cage's -r (each turns the output 90 degrees clockwise; `cage -h` of Debian 12's
cage 0.1.4: "Rotate the output 90 degrees clockwise, specify up to three times")."""

from __future__ import annotations

import pytest

from provisioning.bundle import cage_options, render_bundle
from provisioning.devicelist import DeviceListError, load_text

from .helpers import VALID
from .test_kiosk_unit import Unit

F = "devices.yaml"
DEVICE_LINE = '    match: {mac: "3c:52:82:1a:2b:3c"}\n'  # ebh-01's last line (line 13)
KIOSK = "/opt/palim-kiosk/venv/bin/palim-kiosk --config /etc/palim-kiosk/kiosk.yaml"


def _device(line: str) -> str:
    assert VALID.count(DEVICE_LINE) == 1
    return VALID.replace(DEVICE_LINE, f"{DEVICE_LINE}{line}\n")


def _exec_start(text: str, index: int = 0) -> str:
    bundle = render_bundle(load_text(text, F).targets[index], "psk12345")
    unit = next(f for f in bundle.files if f.path == "/etc/systemd/system/palim-kiosk.service").content.decode()
    return next(line for line in unit.splitlines() if line.startswith("ExecStart="))


@pytest.mark.parametrize("rotate, flags", [(0, "-d"), (90, "-d -r"), (180, "-d -r -r"), (270, "-d -r -r -r")])
def test_each_rotation_is_cages_r_once_per_quarter_turn(tmp_path, rotate, flags):
    text = _device(f"    display: {{rotate: {rotate}}}")
    assert load_text(text, F).targets[0].rotate == rotate
    assert _exec_start(text).endswith(f" exec /usr/bin/cage {flags} -- {KIOSK}'")
    assert cage_options(rotate) == flags
    # What cage gets when the unit's own shell line runs (a fake cage writes down its arguments).
    assert Unit(tmp_path, text).start().split(" ", 2)[2] == f"{flags} -- {KIOSK}\n"


def test_no_display_setting_is_no_rotation_and_the_unit_as_before():
    assert load_text(VALID, F).targets[0].rotate == 0
    assert _exec_start(VALID).endswith(f" exec /usr/bin/cage -d -- {KIOSK}'")


def test_the_device_over_its_home_over_the_defaults():
    text = (VALID.replace("defaults:\n", "defaults:\n  display: {rotate: 180}\n")
            .replace("    name: EBH\n", "    name: EBH\n    display: {rotate: 90}\n"))
    assert [t.rotate for t in load_text(text, F).targets] == [90, 90]  # the home's, over the defaults'
    text = text.replace('    match: {serial: "5CG1234XYZ"}\n', '    match: {serial: "5CG1234XYZ"}\n'
                                                               '    display: {rotate: 0}\n')
    assert [t.rotate for t in load_text(text, F).targets] == [90, 0]  # a device's 0 counts: it turns it back
    only_defaults = VALID.replace("defaults:\n", "defaults:\n  display: {rotate: 270}\n")
    assert [t.rotate for t in load_text(only_defaults, F).targets] == [270, 270]
    assert "/cage -d -r -r -r -- " in _exec_start(only_defaults, 1)


MESSAGE = "must be 0, 90, 180 or 270 (degrees clockwise; 0 shows the screen as it is)"


@pytest.mark.parametrize("value, message", [
    ("45", MESSAGE), ("360", MESSAGE), ("-90", MESSAGE), ("90.0", MESSAGE), ("true", MESSAGE), ("left", MESSAGE),
    ("null", MESSAGE), ("[90]", MESSAGE),
    ('"90"', "must be a number without quotes: 0, 90, 180 or 270 (degrees clockwise)"),
])
def test_a_bad_rotation_is_refused_where_it_is_typed(value, message):
    text = _device(f"    display: {{rotate: {value}}}")
    with pytest.raises(DeviceListError) as info:
        load_text(text, F)
    assert [str(p) for p in info.value.problems] == [f"{F}:14:23: devices[0].display.rotate: {message}"]


def test_bad_display_settings_at_every_level_give_file_line_col():
    text = (VALID.replace("defaults:\n", "defaults:\n  display: {rotate: 91}\n")
            .replace("    name: EBH\n", "    name: EBH\n    display: {turn: 90}\n"))
    with pytest.raises(DeviceListError) as info:
        load_text(text, F)
    assert [str(p) for p in info.value.problems] == [
        f"{F}:3:21: defaults.display.rotate: {MESSAGE}",
        f"{F}:8:15: homes.ebh.display.turn: unknown key 'turn' (check the spelling)",
    ]


def test_cage_options_refuses_what_the_list_would_refuse():
    for bad in (45, 360, -90, True):
        with pytest.raises(ValueError):
            cage_options(bad)
