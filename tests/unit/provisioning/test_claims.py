"""The stick's claims and open places: which devices of the list the stick offers, and which are taken."""

from provisioning.claims import Claim, open_places
from provisioning.devicelist import load_text, match_targets, summary

from .helpers import VALID

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
