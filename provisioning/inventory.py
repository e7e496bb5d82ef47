"""The fleet for Ansible: an inventory from the device list, and the one-device list each host applies."""

from __future__ import annotations

import copy
import shlex
from pathlib import Path

import yaml

from .devicelist import Loaded, Target, load_text

# The environment variable the one-device list names; the Ansible role fills it from palim_wifi_psk.
HOST_PSK_ENV = "PALIM_WIFI_PSK"
TOP_GROUP = "palim_kiosks"
PLAYBOOK = Path(__file__).resolve().parent / "ansible" / "site.yml"


def group_name(home_key: str) -> str:
    """Ansible group of a home: '-' is not allowed in group names, so it becomes '_'."""
    return "home_" + home_key.replace("-", "_")


def _jinja_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def psk_reference(loaded: Loaded, home_key: str) -> tuple[str, str]:
    """A Jinja expression that reads the home's Wi-Fi password on the controller, and where it reads it from."""
    wifi = loaded.model.homes[home_key].wifi
    if wifi is None:
        return "", ""
    if wifi.psk_env is not None:
        return (f"{{{{ lookup('ansible.builtin.env', {_jinja_quote(wifi.psk_env)}) }}}}",
                f"the environment variable {wifi.psk_env}")
    path = str((Path(loaded.file).parent / wifi.psk_file).resolve())
    # Like resolve_secrets: only the line break at the end is dropped, a trailing space is part of a password.
    return (f"{{{{ lookup('ansible.builtin.file', {_jinja_quote(path)}, rstrip=False) "
            f"| regex_replace('[\\r\\n]+$', '') }}}}", f"the secrets file {path}")


def build_inventory(loaded: Loaded, controller_command: list[str], device_list: str | None = None) -> dict:
    """The inventory as data: group palim_kiosks, one child group per home, one host per device."""
    homes: dict[str, dict] = {}
    for home_key, home in loaded.model.homes.items():
        members = [t for t in loaded.targets if t.home_key == home_key]
        if not members:
            continue
        psk, source = psk_reference(loaded, home_key)
        group_vars = {"palim_home": home_key, "palim_home_name": home.name, "palim_wifi": home.wifi is not None}
        if home.wifi is not None:
            group_vars.update(palim_wifi_psk=psk, palim_wifi_psk_source=source)
        homes[group_name(home_key)] = {"vars": group_vars, "hosts": {t.id: _host_vars(t) for t in members}}
    return {"all": {
        "vars": {
            "palim_device_list": device_list or str(Path(loaded.file).resolve()),
            "palim_controller_provision": controller_command,
        },
        "children": {TOP_GROUP: {"children": homes}},
    }}


def _host_vars(target: Target) -> dict:
    out: dict = {"palim_device": target.id}
    if target.device.address is not None:
        out["ansible_host"] = target.device.address
    return out


def render_inventory(loaded: Loaded, controller_command: list[str], source_name: str) -> str:
    """The inventory as commented YAML text."""
    homes = {t.home_key for t in loaded.targets}
    header = (
        f"# Ansible inventory of the Palim fleet: {len(loaded.targets)} devices in {len(homes)} homes.\n"
        f"# Made by: palim-provision inventory {shlex.quote(source_name)}\n"
        "# Make it again after changing the device list; edit the device list, never this file.\n"
        "# No Wi-Fi password is in here: each home's palim_wifi_psk reads it on the controller from the\n"
        "# environment variable or secrets file the device list names. To use Ansible Vault instead, set\n"
        "# palim_wifi_psk in group_vars/<group>/vault.yml beside this file (it takes precedence).\n"
        f"# Run: ansible-playbook -i inventory.yml {PLAYBOOK} --check --diff\n"
    )
    body = yaml.safe_dump(build_inventory(loaded, controller_command), allow_unicode=True, sort_keys=False,
                          width=1000)
    return header + body


def extract_device(loaded: Loaded, device_id: str) -> str:
    """A device list with only this device, its home and the defaults: what one host needs, nothing more.

    Other homes' residents and rooms stay on the controller. The Wi-Fi password is referenced as the environment
    variable PALIM_WIFI_PSK, which the Ansible role sets from the home's palim_wifi_psk.
    """
    target = loaded.target(device_id)
    if target is None:
        raise KeyError(device_id)
    data = loaded.doc.data
    home = copy.deepcopy(data["homes"][target.home_key])
    if isinstance(home.get("wifi"), dict):
        wifi = {k: v for k, v in home["wifi"].items() if k not in ("psk_env", "psk_file")}
        wifi["psk_env"] = HOST_PSK_ENV
        home["wifi"] = wifi
    out = {"version": 1}
    if data.get("defaults") is not None:
        out["defaults"] = copy.deepcopy(data["defaults"])
    brand = target.config.brand.id
    if isinstance(data.get("brands"), dict) and brand in data["brands"]:
        out["brands"] = {brand: copy.deepcopy(data["brands"][brand])}  # only this device's brand
    out["homes"] = {target.home_key: home}
    out["devices"] = [copy.deepcopy(data["devices"][target.index])]
    text = (f"# Device list for {device_id} only, extracted by palim-provision from {Path(loaded.file).name}.\n"
            + yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=120))
    load_text(text, f"<extract of {device_id}>")  # what a host gets must validate on its own
    return text
