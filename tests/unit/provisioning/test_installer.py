"""The installer's steps before it writes anything: recognised, picked or unknown, suitable or not, disk, confirmation."""

import io
from contextlib import contextmanager

import pytest

from provisioning import installer
from provisioning.check import Finding, Result
from provisioning.claims import Claim, parse_claim
from provisioning.rootfs import Log
from provisioning.stickplan import Disk, Partition

from .helpers import sys_block

GB = 1000 ** 3
CODE = "481"
SETTINGS = {"unattended": False, "waive": ["camera"],
            "devices": [{"id": "ebh-01", "home": "ebh", "mac": "3c:52:82:1a:2b:3c", "serial": None}],
            "places": [{"number": 1, "device": "ebh-03", "home": "ebh", "home_name": "Erich-Burger-Heim",
                        "resident": "Frieda Kunz", "label": "Zimmer 3", "rotate": 0},
                       {"number": 2, "device": "shs-01", "home": "shs", "home_name": "Haus am Sonnenhang",
                        "resident": "Erna Müller", "label": "Zimmer 12", "rotate": 0}]}
NEW_LAPTOP = {"52:54:00:12:34:01"}


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A machine as the installer sees it; each test changes what it needs."""
    state = {"macs": {"3c:52:82:1a:2b:3c"}, "serial": "PALIM-VM-1",
             "findings": [Finding("memory", "ok", "1.9 GiB", value_de="1,9 GiB"),
                          # check(/) on the stick: the free space of the stick's own root
                          Finding("disk", "note", "sda 2 GB, 0.1 GiB free", "less than 3 GiB free",
                                  "sda 2 GB, 0,1 GiB frei", "weniger als 3 GiB frei"),
                          Finding("camera", "fail", "none", "no video capture", "nicht gefunden",
                                  "keine Videoaufnahme möglich")],
             "disks": [Disk("vda", 20 * GB, False), Disk("sda", 2 * GB, True)]}
    monkeypatch.setattr(installer, "local_identity", lambda: (state["macs"], state["serial"]))
    monkeypatch.setattr(installer, "confirmation_code", lambda draw: CODE)
    state["rotations"] = []

    def check(root, rotation=0):
        state["rotations"].append(rotation)
        portrait = [Finding("screen", "fail", "800x1280 portrait", "portrait", "800x1280 hochkant",
                            "hochkant: display rotate 90")] if state.get("portrait") and rotation not in (90, 270) else []
        return Result(str(root), {}, state["findings"] + portrait)

    monkeypatch.setattr(installer, "check", check)
    monkeypatch.setattr(installer, "block_disks", lambda: state["disks"])
    monkeypatch.setattr(installer, "stick_disk", lambda: "sda")
    state["screen"] = installer.Screen(Log(tmp_path / "installer.log"))
    state["screen"].serial = None
    return state


def _prepare(machine, settings=SETTINGS, typed=f"{CODE}\r", claims=()):
    """prepare() with these keys typed (a fresh laptop's helper, one key at a time)."""
    import sys
    sys.stdin = io.StringIO(typed)
    try:
        return installer.prepare(machine["screen"], settings, list(claims))
    finally:
        sys.stdin = sys.__stdin__


def test_a_known_device_gets_its_internal_disk_after_the_shown_number_is_typed_back(machine, capsys):
    plan = _prepare(machine)
    assert (plan.disk.name, plan.device_id, plan.home, plan.place) == ("vda", "ebh-01", "ebh", None)
    out = capsys.readouterr().out
    assert "Gerät erkannt: ebh-01" in out and "Ziel: /dev/vda, 20 GB. Alles darauf wird gelöscht." in out
    assert "Zum Bestätigen diese Zahl eintippen:   4 8 1" in out


def test_esc_at_the_confirmation_of_a_known_device_erases_nothing(machine):
    with pytest.raises(installer.Stop, match="Nicht bestätigt"):
        _prepare(machine, typed="\x1b")


def test_unattended_does_not_ask(machine, capsys):
    assert _prepare(machine, {**SETTINGS, "unattended": True}, typed="").device_id == "ebh-01"
    assert "eintippen" not in capsys.readouterr().out


def test_a_new_laptop_picks_an_open_place_by_number_and_confirms_with_the_shown_number(machine, capsys):
    machine["macs"] = NEW_LAPTOP
    plan = _prepare(machine, typed=f"2\r{CODE}\r")
    assert (plan.device_id, plan.home, plan.place.title()) == ("shs-01", "shs", "Haus am Sonnenhang — Zimmer 12 — "
                                                                              "Erna Müller")
    out = capsys.readouterr().out
    assert "2  Haus am Sonnenhang — Zimmer 12 — Erna Müller" in out.splitlines()
    assert "Für: Haus am Sonnenhang — Zimmer 12 — Erna Müller" in out


def test_bad_keys_get_a_calm_line_and_the_question_again_and_esc_at_the_number_goes_back_to_the_list(machine, capsys):
    machine["macs"] = NEW_LAPTOP
    # a letter, a number not on the list, Enter alone, Esc; then place 1, a wrong number, Esc (back), place 2, right
    plan = _prepare(machine, typed=f"z\r7\r\r\x1b1\r111\r\x1b2\r{CODE}\r")
    assert plan.device_id == "shs-01"
    out = capsys.readouterr().out.splitlines()
    for line in ("„z“ ist keine Ziffer. Bitte nur Ziffern tippen, dann die Eingabetaste.",
                 "Die 7 steht nicht in der Liste. Bitte eine Nummer von 1 bis 2 eintippen.",
                 "Bitte zuerst die Nummer eintippen, dann die Eingabetaste.",
                 "Esc: nichts geschieht. Bitte die Nummer des Platzes eintippen, dann die Eingabetaste.",
                 f"Das war 111, nicht {CODE}. Bitte {CODE} eintippen, dann die Eingabetaste."):
        assert line in out


def test_a_claimed_place_is_not_offered_again(machine, capsys):
    machine["macs"] = NEW_LAPTOP
    taken = Claim("ebh-03", "ebh", macs=("52:54:00:12:34:99",), serial="OTHER")
    assert _prepare(machine, typed=f"1\r2\r{CODE}\r", claims=[taken]).device_id == "shs-01"
    out = capsys.readouterr().out.splitlines()
    assert "1  Erich-Burger-Heim — Zimmer 3 — Frieda Kunz" not in out
    assert "Die 1 steht nicht in der Liste. Bitte eine Nummer von 2 eintippen." in out


def test_a_laptop_this_stick_installed_is_recognised_by_its_claim_without_a_question(machine, capsys):
    machine["macs"] = NEW_LAPTOP
    claim = Claim("shs-01", "shs", macs=tuple(NEW_LAPTOP), serial="PALIM-VM-1")
    plan = _prepare(machine, typed="", claims=[claim])
    assert (plan.device_id, plan.home) == ("shs-01", "shs")  # its disk was empty: installed again, no question
    assert "eintippen" not in capsys.readouterr().out
    machine["disks"] = [Disk("vda", 20 * GB, False, partitions=(Partition("vda3", 19 * GB, "ext4", False,
                                                                          "palim-root"),)), Disk("sda", 2 * GB, True)]
    with pytest.raises(installer.AlreadyInstalled, match="Haus am Sonnenhang — Zimmer 12 — Erna Müller"):
        _prepare(machine, typed="", claims=[claim])


def test_an_unknown_laptop_with_every_place_taken_shows_mac_serial_and_triage_and_stops(machine, capsys):
    machine["macs"] = {"52:54:00:ab:cd:ef"}
    claims = [Claim("ebh-03", "ebh", macs=("52:54:00:00:00:01",)), Claim("shs-01", "shs", macs=("52:54:00:00:00:02",))]
    with pytest.raises(installer.Stop, match="Alle offenen Plätze dieses Sticks sind vergeben. Den Laptop "
                                             r"\(MAC-Adressen 52:54:00:ab:cd:ef, Seriennummer PALIM-VM-1\)"):
        _prepare(machine, claims=claims)
    out = capsys.readouterr().out
    assert "nicht in der Geräteliste" in out
    # the triage in German, its disk the one the stick would install onto, not the stick's own root
    assert [line for line in out.splitlines() if line.startswith("    ")] == [
        "    gut        Arbeitsspeicher 1,9 GiB",
        "    Hinweis    Festplatte      /dev/vda, 20 GB",
        "    ungeeignet Kamera          nicht gefunden",
        "    - Festplatte: unter 32 GB: wenig Platz für Updates über die Jahre",
        "    - Kamera: keine Videoaufnahme möglich"]
    assert "  Ergebnis: UNGEEIGNET" in out.splitlines()
    assert "verdict" not in out and "free" not in out and "frei" not in out


def test_an_unknown_device_without_a_disk_to_install_onto_says_so(machine, capsys):
    machine["macs"] = set()
    machine["disks"] = [Disk("sda", 2 * GB, True), Disk("sr0", 1 * GB, True)]
    with pytest.raises(installer.Stop, match="MAC-Adressen keine, Seriennummer PALIM-VM-1"):
        _prepare(machine, {**SETTINGS, "places": []})
    out = capsys.readouterr().out
    assert "    ungeeignet Festplatte      keine passende eingebaute Festplatte" in out.splitlines()
    assert "    - Festplatte: Keine eingebaute Festplatte gefunden." in out.splitlines()


def test_an_unsuitable_laptop_stops_with_the_reasons_in_german_before_the_pick(machine):
    machine["macs"] = NEW_LAPTOP
    machine["findings"].append(Finding("memory", "fail", "1.0 GiB", "a video call needs at least 1.75 GiB",
                                       "1,0 GiB", "ein Videoanruf braucht mindestens 1,75 GiB"))
    with pytest.raises(installer.Stop, match="Arbeitsspeicher: ein Videoanruf braucht mindestens 1,75 GiB"):
        _prepare(machine, typed="")


def test_the_camera_blocks_unless_the_image_waived_it(machine):
    with pytest.raises(installer.Stop, match="Kamera: keine Videoaufnahme möglich"):
        _prepare(machine, {**SETTINGS, "waive": []})


def test_a_too_small_disk_blocks_before_anything_is_written(machine):
    machine["disks"] = [Disk("mmcblk0", 8 * GB, False), Disk("sda", 2 * GB, True)]
    with pytest.raises(installer.Stop, match=r"nicht geeignet: .*Festplatte: Die Festplatte /dev/mmcblk0, 8 GB ist "
                                             r"zu klein"):
        _prepare(machine)


def test_of_several_internal_disks_one_is_chosen_and_the_others_named(machine, capsys):
    machine["disks"].append(Disk("sdb", 500 * GB, False, "ST500LM012", rotational=True, transport="sata"))
    machine["disks"].append(Disk("nvme0n1", 256 * GB, False, "SAMSUNG MZVLB256", transport="nvme"))
    machine["disks"].append(Disk("mmcblk0", 32 * GB, False, "SC32G", transport="sd"))
    assert _prepare(machine).disk.name == "nvme0n1"
    lines = capsys.readouterr().out.splitlines()
    assert lines[lines.index("Gerät erkannt: ebh-01") + 1:][:2] == [
        "Ziel: /dev/nvme0n1, 256 GB (SAMSUNG MZVLB256) – die NVMe-SSD; die eingebauten Festplatten sind "
        "gleichwertig, genommen wird die erste nach Namen. Alles darauf wird gelöscht.",
        "Unberührt bleiben: /dev/vda, 20 GB, ohne Partitionen; /dev/sdb, 500 GB (ST500LM012), drehend, ohne "
        "Partitionen; /dev/mmcblk0, 32 GB (SC32G), SD-Karte."]


def test_a_portrait_tablet_the_list_turns_is_measured_turned(machine):
    machine["portrait"] = True
    with pytest.raises(installer.Stop, match="hochkant"):
        _prepare(machine)
    turned = {**SETTINGS, "devices": [{**SETTINGS["devices"][0], "rotate": 90}]}
    machine["rotations"].clear()
    assert _prepare(machine, turned).device_id == "ebh-01"
    assert machine["rotations"] == [0, 90]  # the first triage unturned, then the device's own
    # an open place the list turns: picked first, then measured turned
    machine["macs"] = NEW_LAPTOP
    places = [{**SETTINGS["places"][0], "rotate": 90}]
    assert _prepare(machine, {**SETTINGS, "places": places}, typed=f"1\r{CODE}\r").device_id == "ebh-03"


def test_the_claim_is_written_whole_and_read_back(machine, monkeypatch, tmp_path):
    folder = tmp_path / "palim-claims"
    folder.mkdir()

    @contextmanager
    def claims_folder(log, stick):
        yield folder

    monkeypatch.setattr(installer, "claims_folder", claims_folder)
    claim = Claim("shs-01", "shs", macs=("52:54:00:12:34:01",), serial="VM-1", disk_model="QEMU NVMe",
                  triage="suitable: memory 1.9 GiB")
    installer.write_claim(machine["screen"].log, "sda", claim)
    (folder / "notes.json").write_text("Einkaufsliste")  # anything else someone put there is ignored
    assert sorted(p.name for p in folder.iterdir()) == ["notes.json", "shs-01.json"]  # no temporary file left
    assert parse_claim((folder / "shs-01.json").read_text(), "shs-01.json") == claim
    assert installer.read_claims(machine["screen"].log, "sda") == [claim]
    assert "claim ignored: notes.json: not JSON" in (tmp_path / "installer.log").read_text()


def test_the_sticks_disk_line_from_a_sys_block_tree(tmp_path, monkeypatch):
    tree = sys_block(tmp_path, ("sda", 312581808, "0", "ST9160314AS", "1"),  # a 160 GB laptop disk
                           ("sdb", 15633408, "1", "Cruzer Blade", "1"), ("loop0", 2097152, "0", None, "0"),
                           ("sr0", 2097151, "1", "DVD-RAM UJ8C2", "1"))
    monkeypatch.setattr(installer, "check", lambda root, rotation=0: Result(str(root), {}, [Finding("disk", "note", "sdb 8 GB")]))
    triage = installer.stick_triage(installer.block_disks(tree), "sdb")
    assert triage.lines_de()[1:] == ["  Hinweis    Festplatte      /dev/sda, 160 GB (ST9160314AS), drehend",
                                     "Ergebnis: GEEIGNET, MIT HINWEISEN",
                                     "  - Festplatte: eine drehende Festplatte: der Kiosk startet langsam; eine SSD "
                                     "hilft am meisten"]
