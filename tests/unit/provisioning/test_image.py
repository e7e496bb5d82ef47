"""The stick's own files: one device list per device (extract), its photos, secrets root-only, what the stick knows."""

import json

from provisioning.devicelist import load_text
from provisioning.image import INSTALLER_UNIT_TEXT, STICK_DIR, stick_files
from tests.unit.provisioning.helpers import VALID
from tests.unit.provisioning.helpers import photo


def test_each_device_gets_its_extract_and_secrets_only_root_may_read(valid_text, tmp_path):
    loaded = load_text(valid_text, str(tmp_path / "devices.yaml"))
    files = stick_files(loaded, loaded.targets, {"ebh": "geheim-wlan-123"}, {"ebh-01": "eyJ.token.x"},
                        unattended=True, waive=["camera"])
    assert set(files) == {"devices/ebh-01/devices.yaml", "devices/ebh-02/devices.yaml", "secrets/ebh-01.json",
                          "secrets/ebh-02.json", "stick.json"}
    assert all(mode == 0o600 for _, mode in files.values())
    one = files["devices/ebh-01/devices.yaml"][0].decode()
    assert "ebh-01" in one and "ebh-02" not in one and "geheim" not in one and "psk_env: PALIM_WIFI_PSK" in one
    assert json.loads(files["secrets/ebh-01.json"][0]) == {"PALIM_WIFI_PSK": "geheim-wlan-123",
                                                          "PALIM_JITSI_TOKEN": "eyJ.token.x"}
    assert json.loads(files["secrets/ebh-02.json"][0]) == {"PALIM_WIFI_PSK": "geheim-wlan-123"}
    settings = json.loads(files["stick.json"][0])
    assert settings["unattended"] is True and settings["waive"] == ["camera"]
    assert settings["devices"] == [
        {"id": "ebh-01", "home": "ebh", "title": "EBH — Erna Müller", "mac": "3c:52:82:1a:2b:3c", "serial": None,
         "rotate": 0},
        {"id": "ebh-02", "home": "ebh", "title": "EBH — Karl Bauer", "mac": None, "serial": "5CG1234XYZ", "rotate": 0}]
    assert b"geheim" not in files["stick.json"][0]


def test_photos_go_along_with_the_device_list(tmp_path):
    (tmp_path / "photos").mkdir()
    photo(tmp_path / "photos" / "erna.jpg")
    line = '    match: {mac: "3c:52:82:1a:2b:3c"}\n'
    assert line in VALID
    text = VALID.replace(line, line + "    home_photo: photos/erna.jpg\n")
    loaded = load_text(text, str(tmp_path / "devices.yaml"))
    files = stick_files(loaded, loaded.targets[:1], {"ebh": "x" * 8}, {}, unattended=False, waive=[])
    assert files["devices/ebh-01/photos/erna.jpg"] == ((tmp_path / "photos" / "erna.jpg").read_bytes(), 0o600)
    assert "home_photo: photos/erna.jpg" in files["devices/ebh-01/devices.yaml"][0].decode()


def test_the_installer_runs_on_tty1_only_on_the_stick():
    assert "ConditionPathExists=" + STICK_DIR + "/stick.json" in INSTALLER_UNIT_TEXT
    assert "TTYPath=/dev/tty1" in INSTALLER_UNIT_TEXT and "Conflicts=getty@tty1.service" in INSTALLER_UNIT_TEXT


def test_open_places_go_on_the_stick_numbered_as_in_the_whole_list(tmp_path):
    """ebh-02 without match: is open place 1 of the list; the stick for its home carries it with that number."""
    line = '    match: {serial: "5CG1234XYZ"}\n'
    assert line in VALID
    text = VALID.replace(line, "    label: Zimmer 14\n")
    loaded = load_text(text, str(tmp_path / "devices.yaml"))
    files = stick_files(loaded, loaded.targets, {"ebh": "x" * 8}, {}, unattended=True, waive=[])
    settings = json.loads(files["stick.json"][0])
    assert [d["id"] for d in settings["devices"]] == ["ebh-01"]
    assert settings["places"] == [{"number": 1, "device": "ebh-02", "home": "ebh", "home_name": "EBH",
                                   "resident": "Karl Bauer", "label": "Zimmer 14", "rotate": 0}]
    assert "secrets/ebh-02.json" in files and "devices/ebh-02/devices.yaml" in files
    only_first = json.loads(stick_files(loaded, loaded.targets[:1], {"ebh": "x" * 8}, {}, unattended=True,
                                        waive=[])["stick.json"][0])
    assert only_first["places"] == []
