"""How a machine recognises itself (apply and the installer stick): its MAC addresses and its DMI serial, where a
placeholder the maker left in the firmware is no serial at all."""

from types import SimpleNamespace

import psutil
import pytest

from provisioning.apply import local_identity


@pytest.fixture
def macs(monkeypatch):
    """The network interfaces psutil reports; each test sets them."""
    interfaces = {}
    monkeypatch.setattr(psutil, "net_if_addrs", lambda: interfaces)
    return interfaces


def _link(address):
    return SimpleNamespace(family=psutil.AF_LINK, address=address)


def _dmi(tmp_path, product=None, board=None):
    """A /sys/class/dmi/id with the serials given (None: the file is missing, as when it is not readable)."""
    dmi = tmp_path / "dmi"
    dmi.mkdir(parents=True)
    for name, value in (("product_serial", product), ("board_serial", board)):
        if value is not None:
            (dmi / name).write_text(value + "\n")
    return dmi


@pytest.mark.parametrize("placeholder", [
    "To be filled by O.E.M.", "To Be Filled By O.E.M.", "Default string", "0123456789", "123456789", "1234567890",
    "0", "0000000000", "00000000-0000-0000", "XXXXXXXXXX", "xxxxxxxxxxx", "FFFFFFFF", "...", "          ",
    "System Serial Number", "Chassis Serial Number", "Base Board Serial Number", "Type2 - Board Serial Number",
    "Not Specified", "Not Applicable", "N/A", "None", "INVALID", "OEM", "O.E.M.", "Default", "Unknown", "",
])
def test_a_placeholder_serial_is_no_serial(tmp_path, macs, placeholder):
    assert local_identity(_dmi(tmp_path, product=placeholder)) == (set(), None)


@pytest.mark.parametrize("serial", ["5CG1234XYZ", "PF0ABC12", "R90QWERT", "C02XK1ABJGH5", "12345", "1000000001",
                                    "SN-0042", "OTHER-0042"])
def test_a_real_serial_is_kept_as_it_reads(tmp_path, macs, serial):
    assert local_identity(_dmi(tmp_path, product=f"  {serial} ")) == (set(), serial)


def test_the_mainboards_serial_stands_in_for_a_placeholder_product_serial(tmp_path, macs):
    assert local_identity(_dmi(tmp_path, "To be filled by O.E.M.", "BSN12345678"))[1] == "BSN12345678"
    assert local_identity(_dmi(tmp_path / "a", None, "BSN12345678"))[1] == "BSN12345678"  # product's unreadable
    assert local_identity(_dmi(tmp_path / "b", "Default string", "Default string"))[1] is None
    assert local_identity(_dmi(tmp_path / "c", "5CG1234XYZ", "BSN12345678"))[1] == "5CG1234XYZ"  # product first
    assert local_identity(_dmi(tmp_path / "d"))[1] is None


def test_mac_addresses_are_the_links_own_lower_case_never_all_zeros(tmp_path, macs):
    macs.update({"lo": [_link("00:00:00:00:00:00")], "wlp2s0": [_link("3C-52-82-1A-2B-3C")],
                 "enp1s0": [_link("52:54:00:AB:CD:EF"), SimpleNamespace(family=2, address="192.168.1.5")]})
    assert local_identity(_dmi(tmp_path))[0] == {"3c:52:82:1a:2b:3c", "52:54:00:ab:cd:ef"}
