"""The device list: every broken file gives exact positions and plain messages."""

import pytest

from provisioning.devicelist import DeviceListError, load_text, match_targets, resolve_secrets

from .helpers import VALID

F = "devices.yaml"

# (what is wrong, text replaced, replacement, every problem expected)
BROKEN = [
    ("unknown top-level key", "version: 1\n", "version: 1\nhome: x\n",
     ["2:1: home: unknown key 'home' (check the spelling)"]),
    ("wrong version", "version: 1", "version: 2",
     ["1:10: version: must be 1"]),
    ("typo in a device key", "    resident: Karl Bauer", "    resdent: Karl Bauer",
     ["14:5: devices[1]: 'resident' is missing", "16:5: devices[1].resdent: unknown key 'resdent' (check the spelling)"]),
    ("yes as a name", "resident: Erna Müller", "resident: yes",
     ["11:15: devices[0].resident: must be text, but YAML read the unquoted 'yes' as a yes/no value; put it in quotes"]),
    ("number as ssid", "ssid: EBH-Bewohner", "ssid: 12345",
     ["7:18: homes.ebh.wifi.ssid: must be text, but YAML read the unquoted '12345' as a number; put it in quotes"]),
    ("inline password", "psk_env: EBH_PSK", "psk: 12345678",
     ["7:32: homes.ebh.wifi.psk: Wi-Fi passwords never go in this file: use psk_env (an environment variable) "
      "or psk_file (a secrets file)"]),
    ("both secret sources", "psk_env: EBH_PSK", "psk_env: EBH_PSK, psk_file: x.psk",
     ["7:11: homes.ebh.wifi: needs exactly one of psk_env (an environment variable) or psk_file (a secrets file)"]),
    ("bad env name", "psk_env: EBH_PSK", "psk_env: EBH-PSK",
     ["7:41: homes.ebh.wifi.psk_env: must be the name of an environment variable, like EBH_WIFI_PSK"]),
    ("duplicate id", "  - id: ebh-02", "  - id: ebh-01",
     ["14:9: devices[1].id: this id is already used by device 'ebh-01' (line 9)"]),
    ("duplicate room", "room: palim-ztrcxt2gj4ooxf57vnkpbgxi37", "room: palim-l2hdeebeoie5kzya3mw4pgrmnb",
     ["17:11: devices[1].room: this room is already used by device 'ebh-01' (line 9)"]),
    ("duplicate mac", '{serial: "5CG1234XYZ"}', '{mac: "3C-52-82-1A-2B-3C"}',
     ["18:18: devices[1].match.mac: this mac is already used by device 'ebh-01' (line 9)"]),
    ("unknown home", "    home: ebh\n    resident: Karl", "    home: ebj\n    resident: Karl",
     ["15:11: devices[1].home: home 'ebj' is not listed under homes (known: ebh)"]),
    ("id not a hostname", "id: ebh-02", "id: EBH_02",
     ["14:9: devices[1].id: must be a valid hostname: lower-case letters, digits and '-', 1 to 63 characters, "
      "not starting or ending with '-'"]),
    ("plain http server", "server: https://", "server: http://",
     ["3:11: defaults.server: must use https, like https://konferenz.example.org",
      "3:11: defaults.server: must use https (plain http is only allowed for 127.0.0.1 and localhost)"]),
    ("server with a path", "example.org\n", "example.org/room\n",
     ["3:11: defaults.server: must be the server's address only, without a path, query or login"]),
    ("guessable room", "room: palim-ztrcxt2gj4ooxf57vnkpbgxi37", "room: oma-erna",
     ["17:11: devices[1].room: the room name is guessable (about 32 random bits, at least 128 needed): anyone could "
      "join; remove it and run 'palim-provision rooms FILE --fill'"]),
    ("missing room", "    room: palim-ztrcxt2gj4ooxf57vnkpbgxi37\n", "",
     ["14:5: devices[1]: device 'ebh-02' has no room yet; run 'palim-provision rooms devices.yaml --fill'"]),
    ("mac that YAML reads as a number", 'mac: "3c:52:82:1a:2b:3c"', "mac: 12:34:56:12:34:56",
     ["13:18: devices[0].match.mac: must be text, but YAML read the unquoted '12:34:56:12:34:56' as a number; "
      "put it in quotes"]),
    ("malformed mac", 'mac: "3c:52:82:1a:2b:3c"', 'mac: "3c:52:82:1a:2b"',
     ["13:18: devices[0].match.mac: must be a MAC address like 3c:52:82:1a:2b:3c"]),
    ("mac and serial", '{serial: "5CG1234XYZ"}', '{serial: "5CG1234XYZ", mac: "aa:bb:cc:dd:ee:ff"}',
     ["18:12: devices[1].match: needs exactly one of mac or serial"]),
    ("unsupported language", "    home: ebh\n    resident: Karl", "    home: ebh\n    language: fr\n    resident: Karl",
     ["16:15: devices[1].language: must be 'de', 'en', 'tr', 'ru' or 'pl'"]),
    ("reboot time read as a number", "defaults:\n", "defaults:\n  reboot_time: 3:30\n",
     ["3:16: defaults.reboot_time: must be text, but YAML read the unquoted '3:30' as a number; put it in quotes"]),
    ("duplicate key", "    resident: Karl Bauer\n", "    resident: Karl Bauer\n    resident: Karl B\n",
     ["17:5: devices[1].resident: this key appears twice"]),
    ("bad YAML", "    home: ebh\n    resident: Karl", "    home: [ebh\n    resident: Karl",
     ["16:13: not valid YAML: did not find expected ',' or ']'"]),
    ("devices not a list", "devices:\n", "devices: ebh-01\nold_devices:\n",
     ["8:10: devices: must be a valid list", "9:1: old_devices: unknown key 'old_devices' (check the spelling)"]),
    ("line break in a label", "    home: ebh\n    resident: Karl", '    home: ebh\n    label: "a\\nb"\n    resident: Karl',
     ["16:12: devices[1].label: must be plain text on one line"]),
    ("bad pin hash at home level", "    name: EBH\n", "    name: EBH\n    admin_pin_hash: '1234'\n",
     ["7:21: homes.ebh.admin_pin_hash: must be a hash made by 'palim-kiosk --hash-pin' (scrypt$...), never the PIN "
      "itself"]),
    ("jitsi option out of range", "    name: EBH\n", "    name: EBH\n    jitsi: {channel_last_n: 99}\n",
     ["7:29: homes.ebh.jitsi.channel_last_n: must be less than or equal to 25"]),
    ("bad home key", "  ebh:\n", "  EBH:\n",
     ["5:3: homes.EBH: a home's key must be lower-case letters, digits and '-' (it names the Wi-Fi connection file)",
      "10:11: devices[0].home: home 'ebh' is not listed under homes (known: EBH)",
      "15:11: devices[1].home: home 'ebh' is not listed under homes (known: EBH)"]),
]


def test_the_base_list_is_valid():
    loaded = load_text(VALID, F)
    assert [t.id for t in loaded.targets] == ["ebh-01", "ebh-02"]
    assert loaded.targets[0].config.server == "https://konferenz.example.org"


@pytest.mark.parametrize("old, new, expected", [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_lists_name_every_problem_exactly(old, new, expected):
    assert old in VALID
    with pytest.raises(DeviceListError) as info:
        load_text(VALID.replace(old, new, 1), F)
    assert [str(p) for p in info.value.problems] == [f"{F}:{line}" for line in expected]


def test_many_problems_are_reported_together():
    text = VALID.replace("resident: Erna Müller", "resident: yes").replace("id: ebh-02", "id: EBH_02")
    with pytest.raises(DeviceListError) as info:
        load_text(text, F)
    assert [(p.line, p.path) for p in info.value.problems] == [(11, "devices[0].resident"), (14, "devices[1].id")]


def test_settings_inherit_device_over_home_over_defaults():
    text = VALID.replace("    name: EBH\n", "    name: EBH\n    language: en\n    jitsi: {resolution: 240}\n") \
                .replace("    resident: Karl Bauer\n", "    resident: Karl Bauer\n    language: tr\n"
                                                     "    jitsi: {start_video_muted: true}\n")
    loaded = load_text(text, F)
    first, second = (t.config for t in loaded.targets)
    assert (first.language, first.jitsi.resolution) == ("en", 240)
    assert (second.language, second.jitsi.resolution, second.jitsi.start_video_muted) == ("tr", 240, True)


def test_secrets_come_from_env_or_file_and_are_never_in_messages(tmp_path):
    loaded = load_text(VALID, F)
    assert resolve_secrets(loaded, loaded.targets, {"EBH_PSK": "richtig-lang"})[0] == {"ebh": "richtig-lang"}
    psks, problems = resolve_secrets(loaded, loaded.targets, {})
    assert [str(p) for p in problems] == [
        f"{F}:7:41: homes.ebh.wifi.psk_env: the environment variable EBH_PSK is not set (it must hold the Wi-Fi "
        "password)"]
    psks, problems = resolve_secrets(loaded, loaded.targets, {"EBH_PSK": "kurz"})
    assert "kurz" not in str(problems[0]) and "has 4 characters; a WPA password has 8 to 63" in str(problems[0])
    text = VALID.replace("psk_env: EBH_PSK", "psk_file: ebh.psk")
    loaded = load_text(text, str(tmp_path / F))
    assert "does not exist" in str(resolve_secrets(loaded, loaded.targets, {})[1][0])
    (tmp_path / "ebh.psk").write_text("aus-der-datei\n")
    assert resolve_secrets(loaded, loaded.targets, {})[0] == {"ebh": "aus-der-datei"}


def test_devices_recognise_themselves_by_mac_or_serial():
    targets = load_text(VALID, F).targets
    assert [t.id for t in match_targets(targets, {"3c:52:82:1a:2b:3c"}, None)] == ["ebh-01"]
    assert [t.id for t in match_targets(targets, {"00:11:22:33:44:55"}, "5cg1234xyz")] == ["ebh-02"]
    assert [t.id for t in match_targets(targets, {"3c:52:82:1a:2b:3c"}, "5CG1234XYZ")] == ["ebh-01", "ebh-02"]
    assert match_targets(targets, set(), None) == []


def test_the_shipped_example_is_valid():
    from pathlib import Path

    from provisioning.devicelist import load_file

    loaded = load_file(Path(__file__).parents[3] / "provisioning" / "examples" / "devices.yaml")
    assert len(loaded.targets) == 12 and len(loaded.model.homes) == 3
