"""palim-provision check: triage a donated device (suitable, suitable with notes, or unsuitable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..check import THRESHOLDS_TEXT, check as triage
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = f"""\
examples:
  palim-provision check                                  # on the donated device itself (a live USB is fine)
  palim-provision check --json > hp-840.json
  palim-provision check --sysfs-root /srv/captures/eee-1005ha   # a tree copied from another machine
  palim-provision check --rotate 90                      # a portrait tablet the kiosk turns to landscape

Reads proc/meminfo, proc/cpuinfo, sys/devices/system/cpu/online, sys/class/dmi/id, sys/block,
sys/class/video4linux (and asks /dev/video* on the live system), proc/asound/pcm, sys/class/sound,
sys/class/power_supply, sys/class/drm (cards, modes, edid), sys/class/net, sys/class/rfkill,
sys/bus/{{pci,sdio,usb}}/devices (chips and their drivers), lib/firmware (the files `modinfo -F firmware` names, on
the live system) and proc/bus/input/devices below the root; free space is measured at the root.

{THRESHOLDS_TEXT}
exit codes: 0 suitable (with or without notes), 1 unsuitable, 2 the root cannot be read.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("check", help="triage a donated device: suitable, suitable with notes, or unsuitable",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Check memory, CPU, disk, Wi-Fi, camera, microphone, speaker, battery, graphics, "
                                   "screen and touch of this machine (or of a captured tree) against the kiosk's "
                                   "needs.")
    p.add_argument("--sysfs-root", metavar="DIR", default="/",
                   help="read /proc, /sys and /dev below this directory (default: /, this machine)")
    p.add_argument("--rotate", metavar="DEGREES", type=int, choices=(0, 90, 180, 270), default=0,
                   help="how the kiosk turns the screen (the device list's display rotate): with 90 or 270 a portrait "
                        "panel is checked as the landscape screen it becomes (default: 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return check(out, Path(args.sysfs_root), rotation=args.rotate, as_json=args.json)


def check(out: Output, root: Path, *, rotation: int = 0, as_json: bool = False) -> int:
    """Triage the machine under root; 1 when it is unsuitable."""
    if not root.is_dir():
        return out.fail(f"--sysfs-root {root} is not a directory", EXIT_INVALID)
    if not (root / "proc" / "meminfo").is_file() and not (root / "sys" / "class").is_dir():
        return out.fail(f"--sysfs-root {root} holds neither proc/meminfo nor sys/class: not a machine's tree",
                        EXIT_INVALID)
    result = triage(root, rotation=rotation)
    if as_json:
        out.json(result.as_json(), indent=2, ascii_only=False)
    else:
        out.say("\n".join(result.lines()))
    return EXIT_FAILED if result.verdict == "unsuitable" else EXIT_OK
