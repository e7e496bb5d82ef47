"""palim-provision extract: the device list of one device only (the Ansible role sends it to the device)."""

from __future__ import annotations

import argparse

from ..devicelist import load_file
from ..inventory import extract_device
from ..prepare import UnknownDevice, pick
from .output import EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision extract devices.yaml --device ebh-01 > ebh-01.yaml
  PALIM_WIFI_PSK=... palim-provision apply ebh-01.yaml --device ebh-01 --root /srv/staging/ebh-01

Other homes and devices are left out, so a device never holds other residents' names or rooms.
The Wi-Fi password is referenced as the environment variable PALIM_WIFI_PSK.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("extract", help="print the device list of one device only (used by the Ansible role)",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Print a device list holding only one device, its home and the defaults.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--device", metavar="ID", required=True, help="the device's id")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return extract(out, args.file, args.device)


def extract(out: Output, file: str, device_id: str) -> int:
    """Print the one-device list."""
    loaded = load_file(file)
    try:
        pick(loaded, device_id)
    except UnknownDevice as exc:
        return out.fail(str(exc), EXIT_INVALID)
    out.say(extract_device(loaded, device_id), end="")
    return EXIT_OK
