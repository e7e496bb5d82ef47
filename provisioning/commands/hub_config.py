"""palim-provision hub-config: the city's fleet hub's WireGuard peers and Prometheus/Alertmanager files."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.core.files import write_atomic

from ..devicelist import load_file
from ..fleetkeys import public_key
from ..hubconfig import hub_files
from ..prepare import made_keys_note, wireguard_keys
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision hub-config devices.yaml --out hub/
  sudo cp hub/prometheus/* /etc/prometheus/ && sudo systemctl reload prometheus
  sudo wg syncconf palim-hub <(cat <(wg-quick strip palim-hub) hub/wireguard/palim-peers.conf)

Writes OUT/wireguard/palim-peers.conf (one [Peer] per device: its public key, AllowedIPs its tunnel address),
OUT/prometheus/palim-devices.json (file_sd: labels device and home, never a resident's name), prometheus.yml and
the alert rules beside it, and OUT/alertmanager/alertmanager.yml when the list has defaults.alerts.
Devices without a WireGuard key yet get one (beside the list, fleet.keys_dir). The hub's own private key is never
read or written: it stays in the hub's [Interface]. Each file is written whole or not at all.
exit codes: 0 ok, 1 could not write, 2 invalid list or no fleet: block.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("hub-config", help="write the fleet hub's WireGuard peers and Prometheus/Alertmanager files",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Write what the city's fleet hub needs from the device list: WireGuard peers, "
                                   "Prometheus targets and config, the alert rules, Alertmanager's routes.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML) with a fleet: block")
    p.add_argument("--out", metavar="DIR", required=True, help="the folder to write into (made when missing)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return hub_config(out, args.file, Path(args.out))


def hub_config(out: Output, file: str, folder: Path) -> int:
    """Write the hub's files into FOLDER."""
    loaded = load_file(file)
    if loaded.model.fleet is None:
        return out.fail(f"{loaded.file} has no fleet: block (the city's WireGuard hub: endpoint, hub_public_key, "
                        f"network, hub_address); see docs/settings.md", EXIT_INVALID)
    if folder.exists() and not folder.is_dir():
        return out.fail(f"--out {folder} is not a folder", EXIT_INVALID)
    keys, made = wireguard_keys(loaded, loaded.targets)
    if made:
        out.note(made_keys_note(loaded, made, hub_told=True))
    files, notes = hub_files(loaded, {device: public_key(key) for device, key in keys.items()}, Path(file).name)
    try:
        for hub_file in files:
            dest = folder / hub_file.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(dest, hub_file.content.encode("utf-8"), 0o644)  # public keys and addresses: no secret
            out.say(f"wrote {dest}")
    except OSError as exc:
        return out.fail(f"could not write {exc.filename or folder}: {exc.strerror or exc}", EXIT_FAILED)
    for note in notes:
        out.note(note)
    out.say(f"{len(loaded.targets)} devices in {len(loaded.model.homes)} homes; the hub is "
            f"{loaded.model.fleet.hub_address} in {loaded.model.fleet.network}")
    return EXIT_OK
