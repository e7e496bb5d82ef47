"""palim-provision install: the installer the stick runs on tty1 (not for a running device)."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from .output import EXIT_INVALID, Output

EPILOG = """\
examples:
  palim-provision install /root/palim-stick      # what palim-installer.service runs on the stick, on tty1

Identifies this machine by MAC or DMI serial among the stick's devices or its claims (or has the helper pick an open
place by number), runs the triage, chooses the internal disk, has the helper type back a number shown on the screen
(not for a device recognised by match: on a stick built --unattended, nor by its claim), erases and installs it,
runs apply --offline for the device, writes the claim to the stick's PALIMCLAIMS partition and reboots once the
stick is pulled. Messages in German on the screen and in /var/log/palim-installer.log.
exit codes: 0 installed (rebooting), 1 stopped (the reason is on the screen), 2 not on a stick.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("install", help="the installer the stick runs on tty1 (not for a running device)",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Install this machine from the stick it booted (run by palim-installer.service).")
    p.add_argument("stick", metavar="DIR", help="the stick's folder with stick.json, devices/ and secrets/")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return install(out, Path(args.stick))


def install(out: Output, stick: Path) -> int:
    """Run the installer from the stick's folder, as root on the stick's own system."""
    from ..installer import run as run_installer

    if not (stick / "stick.json").is_file():
        return out.fail(f"{stick} is no installer stick's folder (no stick.json); this command runs on the stick only",
                        EXIT_INVALID)
    if os.geteuid() != 0 or shutil.which("sfdisk") is None:
        return out.fail("the installer runs as root on the stick's own system", EXIT_INVALID)
    return run_installer(stick)
