"""palim-provision inventory: an Ansible inventory of the fleet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..devicelist import load_file
from ..inventory import render_inventory
from ..prepare import made_keys_note, wireguard_keys
from .output import EXIT_OK, Output

PLAYBOOK = Path(__file__).resolve().parent.parent / "ansible" / "site.yml"
EPILOG = f"""\
examples:
  palim-provision inventory devices.yaml > inventory.yml
  ansible-inventory -i inventory.yml --graph
  EBH_WIFI_PSK=... ansible-playbook -i inventory.yml {PLAYBOOK} --check --diff
  EBH_WIFI_PSK=... ansible-playbook -i inventory.yml {PLAYBOOK} --become

Groups: palim_kiosks, with one child group per home (home_<key>, '-' as '_'); hosts are the device ids,
ansible_host is the device's 'address:' when it has one, its tunnel address when the list has a fleet:
block (WireGuard keys still missing are made then, beside the list). No Wi-Fi password is written: each home's
palim_wifi_psk reads the environment variable or secrets file the device list names, on the controller;
set palim_wifi_psk in group_vars/<group>/vault.yml (Ansible Vault) to override it.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("inventory", help="print an Ansible inventory of the fleet", formatter_class=fmt,
                       epilog=EPILOG,
                       description="Print an Ansible YAML inventory: one group per home, one host per device.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return inventory(out, args.file)


def inventory(out: Output, file: str) -> int:
    """Print the inventory; the role calls back into this Python's palim-provision on the controller."""
    loaded = load_file(file)
    made = wireguard_keys(loaded, loaded.targets)[1]  # the role reads each device's key file on the controller
    if made:
        out.note(made_keys_note(loaded, made))
    out.say(render_inventory(loaded, [sys.executable, "-m", "provisioning.cli"], file), end="")
    return EXIT_OK
