"""bench/wayland.py: the kiosk gets the device unit's own environment, read from the unit's template."""

from __future__ import annotations

from bench import wayland


def test_the_kiosk_gets_the_units_environment():
    environment = wayland.unit_environment()
    assert environment["QT_QPA_PLATFORM"] == "wayland"  # the Qt platform a device runs the kiosk on
    assert environment["XDG_SESSION_TYPE"] == "wayland"


def test_environment_lines_are_read_as_the_unit_has_them(tmp_path):
    unit = tmp_path / "palim-kiosk.service"
    unit.write_text("[Service]\n# Environment=COMMENTED=1\nEnvironment=A=b=c\nEnvironment=EMPTY=\nExecStart=/bin/true\n")
    assert wayland.unit_environment(unit) == {"A": "b=c", "EMPTY": ""}
