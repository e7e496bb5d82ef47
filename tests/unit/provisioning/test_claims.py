"""The stick's claims and open places (provisioning/claims.py): the claim format written, read back, recognised, and
hostile files refused with a message that names the file and what is wrong, never a traceback; which devices of the
list the stick offers, and which are taken."""

from __future__ import annotations

import json

import pytest

from provisioning.claims import (
    CLAIM_MAX_BYTES, FORMAT, Claim, ClaimError, open_places, parse_claim, recognise, usable_serial,
)
from provisioning.devicelist import load_text, match_targets, summary

from .helpers import VALID

GOOD = {"format": FORMAT, "device": "ebh-03", "home": "erich-burger-heim", "macs": ["3C-52-82-1A-2B-3C"],
        "serial": "PF2ABCD", "disk_model": "SAMSUNG MZNLN256", "triage": "geeignet",
        "claimed_at": "2026-12-06T14:03:00Z"}


def _text(**changes) -> str:
    data = dict(GOOD)
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data)


def test_a_claim_round_trips_through_its_json():
    claim = Claim("ebh-03", "erich-burger-heim", ("3c:52:82:1a:2b:3c",), "PF2ABCD", "SAMSUNG", "geeignet: Müller")
    back = parse_claim(claim.to_json(), "ebh-03.json")
    assert back == claim
    assert claim.file_name == "ebh-03.json"
    assert "Müller" in claim.to_json()  # readable on any computer, not \u-escaped


def test_macs_are_normalised_to_the_device_lists_form():
    assert parse_claim(_text(), "x.json").macs == ("3c:52:82:1a:2b:3c",)


@pytest.mark.parametrize("serial, expected", [
    ("PF2ABCD", {"serial": "PF2ABCD"}),
    ("To be filled by O.E.M.", {"mac": "3c:52:82:1a:2b:3c"}),  # a firmware placeholder names no laptop
    ("Default string", {"mac": "3c:52:82:1a:2b:3c"}),
    ("  ", {"mac": "3c:52:82:1a:2b:3c"}),
    (None, {"mac": "3c:52:82:1a:2b:3c"}),
])
def test_match_prefers_a_real_serial_over_the_first_mac(serial, expected):
    assert Claim("ebh-03", "h", ("3c:52:82:1a:2b:3c", "3c:52:82:1a:2b:3d"), serial).match() == expected


def test_a_laptop_without_serial_or_network_card_has_no_match():
    with pytest.raises(ClaimError, match="ebh-03.json: the laptop has neither a usable serial number nor a built-in"):
        Claim("ebh-03", "h", (), "0123456789").match()


@pytest.mark.parametrize("serial, usable", [("PF2ABCD", True), ("system serial number", False), ("N/A", False),
                                            ("0", False), (None, False), ("", False)])
def test_usable_serial(serial, usable):
    assert usable_serial(serial) is usable


def test_recognise_by_a_built_in_mac_or_a_real_serial_only():
    first = Claim("ebh-01", "h", ("3c:52:82:1a:2b:3c",), "To be filled by O.E.M.")
    second = Claim("ebh-02", "h", ("3c:52:82:1a:2b:4d",), "PF2ABCD")
    claims = [first, second]
    assert recognise(claims, {"3C:52:82:1A:2B:3C"}, None) is first
    assert recognise(claims, {"00:11:22:33:44:55"}, "pf2abcd") is second  # a sticker read in other case
    # Two laptops that both say "To be filled by O.E.M." are not the same laptop.
    assert recognise(claims, {"00:11:22:33:44:55"}, "To be filled by O.E.M.") is None
    assert recognise(claims, set(), None) is None


@pytest.mark.parametrize("text, message", [
    ("", "not JSON"),
    ("{nope", "not JSON"),
    ("[1, 2]", "not a claim (expected a JSON object)"),
    ("null", "not a claim (expected a JSON object)"),
    ("[" * 100000 + "]" * 100000, "larger than 16 KiB"),  # too big to be a claim, never parsed
    ("[" * 5000 + "]" * 5000, "not JSON"),  # nesting deeper than Python recurses, within the size limit
    (_text(format=2), "claim format 2 is not 1; use the palim-provision that made the stick"),
    (_text(format=...), "claim format None is not 1"),
    (_text(device=...), "'device' must be a text"),
    (_text(device=7), "'device' must be a text"),
    (_text(device="EBH 03; rm -rf /"), "'device' 'EBH 03; rm -rf /' is no device id"),
    (_text(device="../../etc/passwd"), "is no device id"),
    (_text(home=""), "'home' must be a text"),
    (_text(home="a\nb"), "'home'"),
    (_text(macs="3c:52:82:1a:2b:3c"), "'macs' must be a list of MAC addresses"),
    (_text(macs=[1]), "'macs' must be a list of MAC addresses"),
    (_text(macs=["zz:52:82:1a:2b:3c"]), "'zz:52:82:1a:2b:3c' in 'macs' is no MAC address"),
    (_text(claimed_at="gestern"), "'claimed_at' 'gestern' is no ISO 8601 time"),
    (_text(claimed_at=...), "'claimed_at' must be a text"),
    (_text(serial=["x"]), "'serial' must be a text"),
    (_text(serial="PF2\x1b[2JABCD"), "'serial' must be plain text on one line"),  # a terminal escape
    (json.dumps({**GOOD, "triage": "x" * (CLAIM_MAX_BYTES + 10)}), "larger than 16 KiB"),
])
def test_hostile_claim_files_are_refused_with_the_file_named(text, message):
    with pytest.raises(ClaimError) as info:
        parse_claim(text, "palim-claims/ebh-03.json")
    assert str(info.value).startswith("palim-claims/ebh-03.json: ")
    assert message in str(info.value)


def test_long_texts_are_cut_not_refused():
    claim = parse_claim(_text(triage="geeignet " * 100, disk_model="M" * 500), "x.json")
    assert len(claim.triage) <= 500 and len(claim.disk_model or "") <= 200


def test_unknown_keys_of_a_newer_stick_are_ignored():
    assert parse_claim(_text(battery="ok"), "x.json").device == "ebh-03"


# --------------------------------------------------------------------------- open places

F = "devices.yaml"
# A second home and three more devices: ebh-03 and shs-01 without match: (open places), shs-02 with one.
OPEN = VALID + """\
  - id: ebh-03
    home: ebh
    resident: Frieda Kunz
    label: Zimmer 3
    room: palim-3bq7xw2mzt5k4rjd6nhv8pyc2e
  - id: shs-01
    home: shs
    resident: Erna Müller
    label: Zimmer 12
    room: palim-7fk2mq9xw4bz3nd8rvt6hyp5cj
  - id: shs-02
    home: shs
    resident: Otto Lenz
    room: palim-k4x9mv2qz7tb3wr8nd6hfy5pcj
    match: {mac: "3c:52:82:1a:2b:99"}
"""


def loaded():
    text = OPEN.replace("homes:\n", "homes:\n  shs:\n    name: Haus am Sonnenhang\n", 1)
    return load_text(text, F)


def test_a_device_without_match_is_an_open_place_numbered_in_list_order():
    places = open_places(loaded().targets)
    assert [(p.number, p.device, p.home, p.home_name, p.resident, p.label) for p in places] == [
        (1, "ebh-03", "ebh", "EBH", "Frieda Kunz", "Zimmer 3"),
        (2, "shs-01", "shs", "Haus am Sonnenhang", "Erna Müller", "Zimmer 12")]
    assert places[1].line() == "2  Haus am Sonnenhang — Zimmer 12 — Erna Müller"


def test_a_claimed_place_is_no_longer_open_and_the_others_keep_their_numbers():
    claim = Claim("ebh-03", "ebh", macs=("52:54:00:00:00:01",), serial="VM-1")
    places = open_places(loaded().targets, [claim])
    assert [(p.number, p.device) for p in places] == [(2, "shs-01")]
    assert open_places(loaded().targets, [claim, Claim("shs-01", "shs", macs=("52:54:00:00:00:02",))]) == []


def test_an_open_place_fits_no_machine_and_the_summary_counts_it():
    targets = loaded().targets
    assert [t.id for t in match_targets(targets, {"3c:52:82:1a:2b:99"}, None)] == ["shs-02"]
    assert match_targets(targets, {"52:54:00:00:00:01"}, "") == []
    assert "2 open places (no match: yet" in summary(loaded())
