"""The installer's decisions before it writes anything: unknown device, unsuitable device, disk, confirmation."""

import io

import pytest

from provisioning import installer
from provisioning.check import Finding, Result
from provisioning.rootfs import Log
from provisioning.stickplan import Disk

GB = 1000 ** 3
SETTINGS = {"unattended": False, "waive": ["camera"],
            "devices": [{"id": "ebh-01", "mac": "3c:52:82:1a:2b:3c", "serial": None}]}


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
             "disks": [Disk("vda", 20 * GB, False), Disk("sda", 2 * GB, True)], "typed": "ebh-01\n"}
    monkeypatch.setattr(installer, "local_identity", lambda: (state["macs"], state["serial"]))
    state["rotations"] = []

    def check(root, rotation=0):
        state["rotations"].append(rotation)
        portrait = [Finding("screen", "fail", "800x1280 portrait", "portrait", "800x1280 hochkant",
                            "hochkant: display rotate 90")] if state.get("portrait") and rotation not in (90, 270) else []
        return Result(str(root), {}, state["findings"] + portrait)

    monkeypatch.setattr(installer, "check", check)
    monkeypatch.setattr(installer, "block_disks", lambda: state["disks"])
    monkeypatch.setattr(installer, "stick_disk", lambda: "sda")
    monkeypatch.setattr("sys.stdin", io.StringIO(state["typed"]))
    state["screen"] = installer.Screen(Log(tmp_path / "installer.log"))
    state["screen"].serial = None
    return state


def _prepare(machine, settings=SETTINGS):
    return installer.prepare(machine["screen"], settings)


def test_a_known_suitable_device_gets_its_internal_disk_after_the_id_is_typed(machine, capsys):
    disk, device = _prepare(machine)
    assert (disk.name, device) == ("vda", "ebh-01")
    out = capsys.readouterr().out
    assert "Gerät erkannt: ebh-01" in out and "Ziel: /dev/vda, 20 GB. Alles darauf wird gelöscht." in out
    assert "Gerätekennung (ebh-01) eintippen" in out


def test_an_unknown_device_shows_mac_serial_and_triage_and_stops(machine, capsys):
    machine["macs"] = {"52:54:00:ab:cd:ef"}
    with pytest.raises(installer.Stop, match="Es wurde nichts geschrieben"):
        _prepare(machine)
    out = capsys.readouterr().out
    assert "nicht in der Geräteliste" in out and "52:54:00:ab:cd:ef" in out and "PALIM-VM-1" in out
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
    with pytest.raises(installer.Stop, match="Es wurde nichts geschrieben"):
        _prepare(machine)
    out = capsys.readouterr().out
    assert "    ungeeignet Festplatte      keine passende eingebaute Festplatte" in out.splitlines()
    assert "    - Festplatte: Keine eingebaute Festplatte gefunden." in out.splitlines()


def test_an_unsuitable_device_stops_with_the_reasons_in_german(machine):
    machine["findings"].append(Finding("memory", "fail", "1.0 GiB", "a video call needs at least 1.75 GiB",
                                       "1,0 GiB", "ein Videoanruf braucht mindestens 1,75 GiB"))
    with pytest.raises(installer.Stop, match="Arbeitsspeicher: ein Videoanruf braucht mindestens 1,75 GiB"):
        _prepare(machine)


def test_the_camera_blocks_unless_the_image_waived_it(machine):
    with pytest.raises(installer.Stop, match="Kamera: keine Videoaufnahme möglich"):
        _prepare(machine, {**SETTINGS, "waive": []})


def test_a_too_small_disk_blocks_a_known_device_before_anything_is_written(machine):
    machine["disks"] = [Disk("mmcblk0", 8 * GB, False), Disk("sda", 2 * GB, True)]
    with pytest.raises(installer.Stop, match=r"(?s)nicht geeignet:.*Festplatte: Die Festplatte /dev/mmcblk0, 8 GB ist "
                                             r"zu klein.*Es wurde nichts geschrieben"):
        _prepare(machine)


def test_a_wrong_id_erases_nothing(machine, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("ja\n"))
    with pytest.raises(installer.Stop, match="Nicht bestätigt. Es wurde nichts geschrieben."):
        _prepare(machine)


def test_unattended_does_not_ask(machine, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert _prepare(machine, {**SETTINGS, "unattended": True})[1] == "ebh-01"
    assert "eintippen" not in capsys.readouterr().out


def test_of_several_internal_disks_one_is_chosen_and_the_others_named(machine, capsys):
    machine["disks"].append(Disk("sdb", 500 * GB, False, "ST500LM012", rotational=True, transport="sata"))
    machine["disks"].append(Disk("nvme0n1", 256 * GB, False, "SAMSUNG MZVLB256", transport="nvme"))
    machine["disks"].append(Disk("mmcblk0", 32 * GB, False, "SC32G", transport="sd"))
    assert _prepare(machine)[0].name == "nvme0n1"
    lines = capsys.readouterr().out.splitlines()
    assert lines[lines.index("Gerät erkannt: ebh-01") + 1:][:2] == [
        "Ziel: /dev/nvme0n1, 256 GB (SAMSUNG MZVLB256) – die NVMe-SSD; die eingebauten Festplatten sind "
        "gleichwertig, genommen wird die erste nach Namen. Alles darauf wird gelöscht.",
        "Unberührt bleiben: /dev/vda, 20 GB, ohne Partitionen; /dev/sdb, 500 GB (ST500LM012), drehend, ohne "
        "Partitionen; /dev/mmcblk0, 32 GB (SC32G), SD-Karte."]


def test_an_unknown_device_without_a_network_adapter_is_told_to_use_the_serial(machine, capsys):
    machine["macs"] = set()
    with pytest.raises(installer.Stop):
        _prepare(machine)
    assert ("  MAC-Adressen: keine. Kein Netzwerkadapter zu sehen (etwa WLAN ohne Treiber oder Firmware); bitte die "
            "Seriennummer (nächste Zeile) verwenden.") in capsys.readouterr().out.splitlines()
    machine["serial"] = None
    with pytest.raises(installer.Stop):
        _prepare(machine)
    out = capsys.readouterr().out.splitlines()
    assert "  MAC-Adressen: keine. Kein Netzwerkadapter zu sehen (etwa WLAN ohne Treiber oder Firmware)." in out
    assert "  Seriennummer: unbekannt" in out


def _sys_block(root, *disks):
    """A /sys/block as the kernel lays it out: size in 512-byte sectors, removable, device/model, queue/rotational."""
    for name, sectors, removable, model, rotational in disks:
        (root / name / "device").mkdir(parents=True)
        (root / name / "queue").mkdir()
        (root / name / "size").write_text(f"{sectors}\n")
        (root / name / "removable").write_text(removable + "\n")
        (root / name / "queue" / "rotational").write_text(rotational + "\n")
        if model:
            (root / name / "device" / "model").write_text(model + "  \n")
    return root


def test_block_disks_reads_size_removable_model_and_rotation(tmp_path):
    _sys_block(tmp_path, ("vda", 41943040, "0", None, "0"), ("sda", 4194304, "1", "Cruzer Blade", "1"))
    (tmp_path / "sda" / "queue" / "rotational").unlink()  # an old kernel's USB stick may not say
    assert installer.block_disks(tmp_path) == [Disk("sda", 4194304 * 512, True, "Cruzer Blade"),
                                               Disk("vda", 41943040 * 512, False, "")]


def test_the_sticks_disk_line_from_a_sys_block_tree(tmp_path, monkeypatch):
    sys_block = _sys_block(tmp_path, ("sda", 312581808, "0", "ST9160314AS", "1"),  # a 160 GB laptop disk
                           ("sdb", 15633408, "1", "Cruzer Blade", "1"), ("loop0", 2097152, "0", None, "0"),
                           ("sr0", 2097151, "1", "DVD-RAM UJ8C2", "1"))
    monkeypatch.setattr(installer, "check", lambda root, rotation=0: Result(str(root), {}, [Finding("disk", "note", "sdb 8 GB")]))
    triage = installer.stick_triage(installer.block_disks(sys_block), "sdb")
    assert triage.lines_de()[1:] == ["  Hinweis    Festplatte      /dev/sda, 160 GB (ST9160314AS), drehend",
                                     "Ergebnis: GEEIGNET, MIT HINWEISEN",
                                     "  - Festplatte: eine drehende Festplatte: der Kiosk startet langsam; eine SSD "
                                     "hilft am meisten"]


def _efi(tmp_path, size: str | None = "64", secure: bytes | None = None):
    from provisioning.installer import SECURE_BOOT_VAR

    efi = tmp_path / "efi"
    (efi / "efivars").mkdir(parents=True)
    if size is not None:
        (efi / "fw_platform_size").write_text(size + "\n")
    if secure is not None:
        (efi / SECURE_BOOT_VAR).write_bytes(b"\x06\x00\x00\x00" + secure)
    return efi


def test_the_installer_says_how_the_firmware_started_the_stick(tmp_path):
    from provisioning.installer import boot_mode

    assert boot_mode(tmp_path / "no-efi") == "BIOS"
    assert boot_mode(_efi(tmp_path / "a", secure=b"\x01")) == "UEFI mit Secure Boot"
    assert boot_mode(_efi(tmp_path / "b", secure=b"\x00")) == "UEFI ohne Secure Boot"
    assert boot_mode(_efi(tmp_path / "c")) == "UEFI ohne Secure Boot"
    assert boot_mode(_efi(tmp_path / "d", size="32", secure=b"\x00")) == "UEFI (32 Bit)"


def test_a_portrait_tablet_the_list_turns_is_measured_turned(machine):
    machine["portrait"] = True
    with pytest.raises(installer.Stop, match="hochkant"):
        _prepare(machine)
    turned = {**SETTINGS, "devices": [{**SETTINGS["devices"][0], "rotate": 90}]}
    machine["rotations"].clear()
    assert _prepare(machine, turned)[1] == "ebh-01"
    assert machine["rotations"] == [0, 90]  # the unknown-device screen's triage first, then the device's own
