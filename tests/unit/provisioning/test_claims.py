"""The stick's claim format (provisioning/claims.py): written, read back, recognised, and hostile files refused
with a message that names the file and what is wrong, never a traceback."""

from __future__ import annotations

import json

import pytest

from provisioning.claims import (
    CLAIM_MAX_BYTES, FORMAT, Claim, ClaimError, parse_claim, recognise, usable_serial,
)

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
