"""The fleet for Ansible: an inventory from the device list, and the one-device list each host applies."""

from __future__ import annotations

import copy
import shlex
from pathlib import Path

import yaml

from .devicelist import Loaded, Target, load_text
from .fleetkeys import key_file
from .updates import armored, read_public_key

# The environment variable the one-device list names; the Ansible role fills it from palim_wifi_psk.
HOST_PSK_ENV = "PALIM_WIFI_PSK"
# ... and the one that holds the device's login token (jitsi_token), minted on the controller: the app secret never
# leaves it.
HOST_TOKEN_ENV = "PALIM_JITSI_TOKEN"
# ... and the one that holds its WireGuard private key (fleet:), read on the controller by the role.
HOST_WG_KEY_ENV = "PALIM_WG_KEY"
TOP_GROUP = "palim_kiosks"
PLAYBOOK = Path(__file__).resolve().parent / "ansible" / "site.yml"


class Unsafe(str):
    """A value Ansible must never template: written as `!unsafe '...'` (ansible-core keeps it as plain text)."""


class Template(str):
    """A Jinja expression this module wrote itself (palim_wifi_psk's lookup): the one thing left for Ansible."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value), style="'"))
_Dumper.add_representer(Template, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", str(value), style="'"))


def unsafe(value):
    """Every string in the value marked Unsafe (deny by default), except the Templates this module made."""
    if isinstance(value, Template):
        return value
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {k: unsafe(v) for k, v in value.items()}  # keys are group and variable names: checked, not marked
    if isinstance(value, (list, tuple)):
        return [unsafe(v) for v in value]
    return value


def group_name(home_key: str) -> str:
    """Ansible group of a home: '-' is not allowed in group names, so it becomes '_'."""
    return "home_" + home_key.replace("-", "_")


# The only Jinja in the inventory, and constant: the names and paths it reads come in !unsafe variables beside it,
# so nothing from the device list is ever part of a template.
PSK_FROM_ENV = Template("{{ lookup('ansible.builtin.env', palim_wifi_psk_env) }}")
# Like resolve_secrets: only the line break at the end is dropped, a trailing space is part of a password.
PSK_FROM_FILE = Template("{{ lookup('ansible.builtin.file', palim_wifi_psk_file, rstrip=False) "
                         "| regex_replace('[\\r\\n]+$', '') }}")


def psk_reference(loaded: Loaded, home_key: str) -> dict[str, str]:
    """The group variables that read the home's Wi-Fi password on the controller, and say where from."""
    wifi = loaded.model.homes[home_key].wifi
    if wifi is None:
        return {}
    if wifi.psk_env is not None:
        return {"palim_wifi_psk": PSK_FROM_ENV, "palim_wifi_psk_env": wifi.psk_env,
                "palim_wifi_psk_source": f"the environment variable {wifi.psk_env}"}
    path = str((Path(loaded.file).parent / wifi.psk_file).resolve())
    return {"palim_wifi_psk": PSK_FROM_FILE, "palim_wifi_psk_file": path,
            "palim_wifi_psk_source": f"the secrets file {path}"}


def build_inventory(loaded: Loaded, controller_command: list[str], device_list: str | None = None) -> dict:
    """The inventory as data: group palim_kiosks, one child group per home, one host per device."""
    homes: dict[str, dict] = {}
    for home_key, home in loaded.model.homes.items():
        members = [t for t in loaded.targets if t.home_key == home_key]
        if not members:
            continue
        group_vars = {"palim_home": home_key, "palim_home_name": home.name, "palim_wifi": home.wifi is not None,
                      **psk_reference(loaded, home_key)}
        if members[0].admin_ssh_keys is not None:
            # The device lets in root with the list's admin keys only (sshd drop-in by apply): no sudo needed.
            group_vars["ansible_user"] = "root"
        homes[group_name(home_key)] = {"vars": unsafe(group_vars),
                                       "hosts": {t.id: unsafe(_host_vars(t, loaded)) for t in members}}
    # Everything from the device list or the command line is marked !unsafe: a home name like
    # "{{ lookup('pipe', ...) }}" stays text and never runs on the controller.
    return {"all": {
        "vars": unsafe({
            "palim_device_list": device_list or str(Path(loaded.file).resolve()),
            "palim_controller_provision": controller_command,
        }),
        "children": {TOP_GROUP: {"children": homes}},
    }}


def _host_vars(target: Target, loaded: Loaded) -> dict:
    out: dict = {"palim_device": target.id}
    if target.jitsi_token is not None:
        out["palim_jitsi_token"] = True  # the role mints its token on the controller (palim-provision tokens)
    if target.device.address is not None:
        out["ansible_host"] = target.device.address
    if target.tunnel_address is not None:
        # Behind a care home's NAT the device is reached through the fleet's tunnel only (SSH listens there).
        out["ansible_host"] = target.tunnel_address
        out["palim_fleet"] = True
        out["palim_wg_key_file"] = str(key_file(loaded, target).resolve())  # read on the controller, never shown
    return out


def render_inventory(loaded: Loaded, controller_command: list[str], source_name: str) -> str:
    """The inventory as commented YAML text."""
    homes = {t.home_key for t in loaded.targets}
    header = (
        f"# Ansible inventory of the Palim fleet: {len(loaded.targets)} devices in {len(homes)} homes.\n"
        f"# Made by: palim-provision inventory {_one_line(shlex.quote(source_name))}\n"
        "# Make it again after changing the device list; edit the device list, never this file.\n"
        "# No Wi-Fi password is in here: each home's palim_wifi_psk reads it on the controller from the\n"
        "# environment variable or secrets file the device list names. To use Ansible Vault instead, set\n"
        "# palim_wifi_psk in group_vars/<group>/vault.yml beside this file (it takes precedence).\n"
        f"# Run: ansible-playbook -i inventory.yml {PLAYBOOK} --check --diff\n"
    )
    body = yaml.dump(build_inventory(loaded, controller_command), Dumper=_Dumper, allow_unicode=True,
                     sort_keys=False, width=1000)
    return header + body


def _one_line(text: str) -> str:
    # A file name with a line break must not end the comment and start YAML of its own.
    return "".join(c if c.isprintable() else "?" for c in text)


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
    for level in (out.get("defaults"), home):
        if isinstance(level, dict) and isinstance(level.get("jitsi_token"), dict):
            # The host gets its token minted already, never the app secret (nor where it is kept).
            token = {k: v for k, v in level["jitsi_token"].items() if k not in ("secret_env", "secret_file")}
            level["jitsi_token"] = {**token, "token_env": HOST_TOKEN_ENV}
    for level in (out.get("defaults"), home):
        updates = level.get("updates") if isinstance(level, dict) else None
        if isinstance(updates, dict) and isinstance(updates.get("key_file"), str):
            # The host gets the list without the files next to it: the city's public release key goes inline.
            key = armored(read_public_key(Path(loaded.file).parent, updates["key_file"]))
            level["updates"] = {**{k: v for k, v in updates.items() if k != "key_file"}, "public_key": key}
    if isinstance(data.get("fleet"), dict):
        # The host gets its own WireGuard key in an environment variable, never the folder of every device's keys.
        fleet = {k: v for k, v in data["fleet"].items() if k not in ("keys_dir", "key_env")}
        out["fleet"] = {**fleet, "key_env": HOST_WG_KEY_ENV}  # a derived tunnel address: the same id, the same one
    brand = target.config.brand.id
    if isinstance(data.get("brands"), dict) and brand in data["brands"]:
        out["brands"] = {brand: copy.deepcopy(data["brands"][brand])}  # only this device's brand
    out["homes"] = {target.home_key: home}
    out["devices"] = [copy.deepcopy(data["devices"][target.index])]
    text = (f"# Device list for {device_id} only, extracted by palim-provision from {Path(loaded.file).name}.\n"
            + yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=120))
    # What a host gets must validate on its own; photos are named relative to the list's folder, so check it there.
    load_text(text, str(Path(loaded.file).parent / f"<extract of {device_id}>"))
    return text
