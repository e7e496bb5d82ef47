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
             "findings": [Finding("memory", "ok", "1.9 GiB"), Finding("camera", "fail", "none", "no video capture")],
             "disks": [Disk("vda", 20 * GB, False), Disk("sda", 2 * GB, True)], "typed": "ebh-01\n"}
    monkeypatch.setattr(installer, "local_identity", lambda: (state["macs"], state["serial"]))
    monkeypatch.setattr(installer, "check", lambda root: Result(str(root), {}, state["findings"]))
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
    assert "verdict: UNSUITABLE" in out


def test_an_unsuitable_device_stops_with_the_reasons(machine):
    machine["findings"].append(Finding("memory", "fail", "1.0 GiB", "a video call needs at least 1.75 GiB"))
    with pytest.raises(installer.Stop, match="memory: a video call needs at least 1.75 GiB"):
        _prepare(machine)


def test_the_camera_blocks_unless_the_image_waived_it(machine):
    with pytest.raises(installer.Stop, match="camera: no video capture"):
        _prepare(machine, {**SETTINGS, "waive": []})


def test_a_wrong_id_erases_nothing(machine, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("ja\n"))
    with pytest.raises(installer.Stop, match="Nicht bestätigt. Es wurde nichts geschrieben."):
        _prepare(machine)


def test_unattended_does_not_ask(machine, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert _prepare(machine, {**SETTINGS, "unattended": True})[1] == "ebh-01"
    assert "eintippen" not in capsys.readouterr().out


def test_two_internal_disks_stop_the_install(machine):
    machine["disks"].append(Disk("nvme0n1", 256 * GB, False))
    with pytest.raises(installer.Stop, match="Mehrere eingebaute Festplatten"):
        _prepare(machine)


def test_block_disks_reads_size_removable_and_model(tmp_path):
    for name, size, removable, model in (("vda", 41943040, "0", None), ("sda", 4194304, "1", "Cruzer Blade")):
        (tmp_path / name / "device").mkdir(parents=True)
        (tmp_path / name / "size").write_text(f"{size}\n")
        (tmp_path / name / "removable").write_text(removable + "\n")
        if model:
            (tmp_path / name / "device" / "model").write_text(model + "  \n")
    assert installer.block_disks(tmp_path) == [Disk("sda", 4194304 * 512, True, "Cruzer Blade"),
                                               Disk("vda", 41943040 * 512, False, "")]
