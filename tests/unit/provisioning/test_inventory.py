"""Inventory and extract: one group per home below palim_kiosks, no secret in the inventory, and a one-device
list that holds only the device, its home and the defaults."""

from pathlib import Path

import pytest
import yaml

from provisioning.cli import main
from provisioning.devicelist import load_file, load_text
from provisioning.inventory import (HOST_PSK_ENV, TOP_GROUP, build_inventory, extract_device, group_name,
                                   render_inventory)

from .helpers import VALID


class _InventoryLoader(yaml.SafeLoader):
    """Reads the inventory as Ansible does: `!unsafe` values are plain text."""


_InventoryLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _load(text: str):
    return yaml.load(text, Loader=_InventoryLoader)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "provisioning" / "examples" / "devices.yaml"
EBH_PSK = "Geheim;Passwort 42"
SONNENHANG_PSK = "Sonnen-Schein-Passwort"


def _inventory(capsys, path) -> str:
    assert main(["inventory", str(path)]) == 0
    return capsys.readouterr().out


# --------------------------------------------------------------------------- inventory


def test_inventory_has_a_group_per_home_a_host_per_device_and_no_secret(capsys):
    text = _inventory(capsys, EXAMPLE)
    data = _load(text)
    loaded = load_file(EXAMPLE)
    groups = data["all"]["children"]["palim_kiosks"]["children"]
    assert set(groups) == {group_name(k) for k in loaded.model.homes}
    for key in loaded.model.homes:
        assert set(groups[group_name(key)]["hosts"]) == {t.id for t in loaded.targets if t.home_key == key}
    ebh = groups["home_erich_burger_heim"]["vars"]
    assert ebh["palim_wifi_psk"] == "{{ lookup('ansible.builtin.env', palim_wifi_psk_env) }}"
    assert ebh["palim_wifi_psk_env"] == "EBH_WIFI_PSK"
    assert groups["home_haus_am_sonnenhang"]["vars"]["palim_wifi_psk_file"].endswith("sonnenhang.psk")
    assert groups["home_st_josef_stift"]["vars"]["palim_wifi"] is False
    assert data["all"]["vars"]["palim_device_list"] == str(EXAMPLE)


def test_inventory_uses_the_devices_address_when_it_has_one(tmp_path, capsys):
    listing = tmp_path / "devices.yaml"
    listing.write_text(VALID.replace('match: {mac: "3c:52:82:1a:2b:3c"}',
                                     'match: {mac: "3c:52:82:1a:2b:3c"}\n    address: 10.20.0.11'))
    hosts = _load(_inventory(capsys, listing))["all"]["children"]["palim_kiosks"]["children"]["home_ebh"]
    assert hosts["hosts"]["ebh-01"] == {"palim_device": "ebh-01", "ansible_host": "10.20.0.11"}
    assert hosts["hosts"]["ebh-02"] == {"palim_device": "ebh-02"}


def test_group_names_are_home_keys_with_underscores():
    assert group_name("st-josef-stift") == "home_st_josef_stift"
    assert group_name("ebh") == "home_ebh"


def test_the_inventory_holds_no_secret_even_when_every_secret_is_readable(tmp_path, monkeypatch):
    listing = tmp_path / "devices.yaml"
    listing.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "sonnenhang.psk").write_text(SONNENHANG_PSK + "\n")
    monkeypatch.setenv("EBH_WIFI_PSK", EBH_PSK)
    text = render_inventory(load_file(listing), ["python3", "-m", "provisioning.cli"], "devices.yaml")
    assert EBH_PSK not in text and SONNENHANG_PSK not in text and "Geheim" not in text
    assert text.startswith("# Ansible inventory of the Palim fleet: ")
    sonnenhang = _load(text)["all"]["children"][TOP_GROUP]["children"]["home_haus_am_sonnenhang"]["vars"]
    # The controller reads the file when the play runs; a trailing space stays part of the password.
    assert sonnenhang["palim_wifi_psk"].startswith("{{ lookup('ansible.builtin.file', palim_wifi_psk_file, rstrip=False)")
    assert sonnenhang["palim_wifi_psk_file"] == str(tmp_path / "secrets" / "sonnenhang.psk")
    assert sonnenhang["palim_wifi_psk_source"] == f"the secrets file {tmp_path / 'secrets' / 'sonnenhang.psk'}"


def test_homes_without_devices_get_no_group_and_hosts_carry_the_controller_command():
    text = VALID.replace("devices:\n", "  leer:\n    name: Leeres Heim\ndevices:\n", 1)
    loaded = load_text(text, "devices.yaml")
    assert list(loaded.model.homes) == ["ebh", "leer"]
    data = build_inventory(loaded, ["python3", "-m", "provisioning.cli"], "/srv/fleet/devices.yaml")
    assert list(data["all"]["children"][TOP_GROUP]["children"]) == ["home_ebh"]
    assert data["all"]["vars"] == {"palim_device_list": "/srv/fleet/devices.yaml",
                                   "palim_controller_provision": ["python3", "-m", "provisioning.cli"]}
    ebh = data["all"]["children"][TOP_GROUP]["children"]["home_ebh"]
    assert ebh["vars"]["palim_home"] == "ebh" and ebh["vars"]["palim_wifi_psk_source"] == \
        "the environment variable EBH_PSK"


# --------------------------------------------------------------------------- extract


def test_extract_holds_only_the_device_its_home_and_the_defaults():
    loaded = load_file(EXAMPLE)
    text = extract_device(loaded, "sonnenhang-02")
    one = load_text(text, "extract.yaml")
    assert [t.id for t in one.targets] == ["sonnenhang-02"]
    assert list(one.model.homes) == ["haus-am-sonnenhang"]
    assert one.model.homes["haus-am-sonnenhang"].wifi.psk_env == HOST_PSK_ENV
    assert one.targets[0].config == loaded.target("sonnenhang-02").config  # the very same kiosk config
    assert "Erna Müller" not in text and "palim-l2hdeebeoie5kzya3mw4pgrmnb" not in text
    assert extract_device(loaded, "sonnenhang-02") == text  # stable, so a copy of it is idempotent


def test_extract_keeps_the_defaults_and_a_cabled_home_without_wifi():
    loaded = load_file(EXAMPLE)
    stift = next(t.id for t in loaded.targets if t.home_key == "st-josef-stift")
    one = load_text(extract_device(loaded, stift), "extract.yaml")
    assert one.model.homes["st-josef-stift"].wifi is None
    assert one.targets[0].config == loaded.target(stift).config
    data = _load(extract_device(loaded, stift))
    assert data["defaults"] == _load(EXAMPLE.read_text(encoding="utf-8"))["defaults"]
    assert list(data) == ["version", "defaults", "homes", "devices"]  # no brand: the Stift uses the default


def test_extract_of_an_unknown_device_is_a_key_error():
    with pytest.raises(KeyError):
        extract_device(load_text(VALID, "devices.yaml"), "nope")
