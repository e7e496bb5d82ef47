"""The stick's own files: one device list per device (extract), its photos, secrets root-only, what the stick knows."""

import json
import re
import stat

from provisioning.bundle import WG_CONF
from provisioning.cli import main
from provisioning.devicelist import load_text
from provisioning.fleetkeys import device_keys, key_file, public_key
from provisioning.image import INSTALLER_UNIT_TEXT, STICK_DIR, stick_files
from tests.unit.provisioning.helpers import VALID, fleet_list
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


def test_the_stick_carries_each_devices_wireguard_key_and_its_apply_puts_that_key_on_the_device(tmp_path, monkeypatch,
                                                                                                  capsys):
    """With a fleet:, the installer's apply on the stick must use the key the hub knows (hub-config made its peer
    from it), for a recognised device and an open place alike: the stick carries it beside the device's other
    secrets, root's alone, and apply (as the installer runs it: the extract, the secrets as its environment) writes
    the tunnel's config with that key. Keys are compared by their public halves; no private key is shown."""
    line = '    match: {serial: "5CG1234XYZ"}\n'
    assert line in VALID
    text = fleet_list(text=VALID.replace(line, "    label: Zimmer 14\n")).replace(
        "defaults:\n", "defaults:\n  admin_ssh_keys: []\n")
    (tmp_path / "list").mkdir()
    loaded = load_text(text, str(tmp_path / "list" / "devices.yaml"))
    keys, made, problems = device_keys(loaded, loaded.targets)
    assert made == ["ebh-01", "ebh-02"] and problems == []
    files = stick_files(loaded, loaded.targets, {"ebh": "geheim-wlan-123"}, {}, unattended=False, waive=[],
                        wg_keys=keys)
    assert [place["device"] for place in json.loads(files["stick.json"][0])["places"]] == ["ebh-02"]
    # The stick's folder as the image stages it (root-only files), then the installer's apply for each device.
    stick = tmp_path / "stick"
    for relative, (content, mode) in files.items():
        path = stick / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
    for target in loaded.targets:
        secrets_file = stick / "secrets" / f"{target.id}.json"
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        secrets = json.loads(secrets_file.read_text())
        assert set(secrets) == {"PALIM_WIFI_PSK", "PALIM_WG_KEY"}
        controller_public = public_key(key_file(loaded, target).read_text().strip())
        assert public_key(secrets["PALIM_WG_KEY"]) == controller_public
        assert "key_env: PALIM_WG_KEY" in (stick / "devices" / target.id / "devices.yaml").read_text()
        root = tmp_path / "root" / target.id
        root.mkdir(parents=True)
        with monkeypatch.context() as env:
            for name, value in secrets.items():
                env.setenv(name, value)
            code = main(["apply", str(stick / "devices" / target.id / "devices.yaml"), "--device", target.id,
                         "--root", str(root)])
        out, err = capsys.readouterr()
        assert code == 0, err
        shown = out + err
        leaked = secrets["PALIM_WG_KEY"] in shown
        assert not leaked, "apply showed the device's private key"
        conf = root / WG_CONF.lstrip("/")
        assert stat.S_IMODE(conf.stat().st_mode) == 0o600
        written = re.search(r"^PrivateKey = (\S+)$", conf.read_text(), re.M).group(1)
        assert public_key(written) == controller_public  # the key the hub knows, not one made on the device
        # Nothing made beside the stick's list: the key came from the stick's secrets.
        assert not (stick / "devices" / target.id / "secrets").exists()
