"""The installer stick's two sub-commands of palim-provision: image (build it) and install (run by the stick)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from .devicelist import DeviceListError, load_file, resolve_secrets
from .tokens import device_tokens

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
DEFAULT_CACHE = "/var/cache/palim-provision"

IMAGE_EPILOG = """\
examples:
  EBH_WIFI_PSK=... sudo -E palim-provision image devices.yaml --out palim-stick.img --home erich-burger-heim
  sudo dd if=palim-stick.img of=/dev/sdX bs=4M conv=fsync status=progress     # sdX: the USB stick

Builds one disk image (about 2 GB) for a USB stick: Debian 12, the kiosk's packages, the kiosk and its Python wheels,
a kernel and GRUB for UEFI and legacy BIOS, and the installer. Booted on a donated device, the stick recognises the
device by its match: (MAC or DMI serial), runs the triage (palim-provision check), shows the internal disk it will
erase and waits for staff to type the device id (not with --unattended), installs, runs apply for that device and
reboots into the kiosk; no network is needed. An unknown device shows its MAC, serial and triage; nothing is written.

The stick carries the selected homes' Wi-Fi passwords and login tokens (root-only): wipe it after the roll-out.
Building needs root, network (the Debian mirror and PyPI) and the Debian packages debootstrap, systemd-container,
fdisk, dosfstools and e2fsprogs. The Debian root is cached in --cache (about 2 GB), so the next image takes minutes.
exit codes: 0 built, 2 wrong input (nothing written), 1 building failed (nothing written; see the log it names).
"""

INSTALL_EPILOG = """\
examples:
  palim-provision install /root/palim-stick      # what palim-installer.service runs on the stick, on tty1

Identifies this machine by MAC or DMI serial among the stick's devices, runs the triage, chooses the one internal
disk, asks staff to type the device id (unless the stick was built --unattended), erases and installs it, runs
apply --offline for the device and reboots. Messages in German on the screen and in /var/log/palim-installer.log.
exit codes: 0 installed (rebooting), 1 stopped (the reason is on the screen), 2 not on a stick.
"""


def add_parsers(sub, fmt) -> None:
    """Register image and install."""
    from .image import CHECKS

    p = sub.add_parser("image", help="build an installer stick image for donated devices (no network on site)",
                       formatter_class=fmt, epilog=IMAGE_EPILOG,
                       description="Build a disk image for a USB stick that installs Debian 12 and the kiosk.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--out", metavar="IMG", required=True, help="the image file to write")
    p.add_argument("--home", metavar="KEY", action="append", help="only this home's devices (may be repeated)")
    p.add_argument("--unattended", action="store_true",
                   help="erase the internal disk without asking (default: staff type the device id to confirm)")
    p.add_argument("--waive", metavar="CHECK", action="append", default=[], choices=CHECKS,
                   help=f"install even when this triage check fails, e.g. camera when a USB webcam comes with the "
                        f"device (one of {', '.join(CHECKS)}; may be repeated)")
    p.add_argument("--kiosk-source", metavar="DIR|WHEEL", help="the Palim project or its wheel (default: this one)")
    p.add_argument("--cache", metavar="DIR", default=DEFAULT_CACHE, help=f"where roots are cached ({DEFAULT_CACHE})")
    p.add_argument("--mirror", metavar="URL", default="http://deb.debian.org/debian", help="the Debian mirror")

    p = sub.add_parser("install", help="the installer the stick runs on tty1 (not for a running device)",
                       formatter_class=fmt, epilog=INSTALL_EPILOG,
                       description="Install this machine from the stick it booted (run by palim-installer.service).")
    p.add_argument("stick", metavar="DIR", help="the stick's folder with stick.json, devices/ and secrets/")


def cmd_image(args: argparse.Namespace) -> int:
    from . import image, rootfs
    from .bundle import project_source

    loaded = load_file(args.file)
    homes = args.home or list(loaded.model.homes)
    unknown = [h for h in homes if h not in loaded.model.homes]
    if unknown:
        return _err(f"{loaded.file}: no home '{unknown[0]}' (known: {', '.join(loaded.model.homes)})", EXIT_INVALID)
    targets = [t for t in loaded.targets if t.home_key in homes]
    if not targets:
        return _err(f"{loaded.file}: the homes {', '.join(homes)} have no devices", EXIT_INVALID)
    _, problems = resolve_secrets(loaded, targets)
    _, unavailable, wrong = device_tokens(loaded, targets)
    if problems + unavailable + wrong:
        raise DeviceListError(problems + unavailable + wrong)
    out = Path(args.out)
    if out.is_dir() or not out.parent.is_dir():
        return _err(f"--out {out}: give a file in an existing folder", EXIT_INVALID)
    source = args.kiosk_source or project_source()
    if source is None or not Path(source).exists():
        return _err("cannot find the Palim project to put on the stick; give --kiosk-source DIR or a wheel",
                    EXIT_INVALID)
    problem = image.host_problem()
    if problem:
        return _err(problem, EXIT_FAILED)
    print(f"building {out} for {len(targets)} devices: {', '.join(t.id for t in targets)}")
    try:
        result = image.build_image(loaded, targets, out, kiosk_source=str(source), cache=Path(args.cache),
                                   unattended=args.unattended, waive=args.waive, mirror=args.mirror)
    except (rootfs.BuildError, OSError) as exc:
        return _err(f"building the image failed, nothing was written: {exc}", EXIT_FAILED)
    print(f"wrote {result.path} ({result.size_bytes / 1000 ** 3:.1f} GB) in {result.seconds:.0f} s"
          f"{' (Debian root from the cache)' if result.cached_root else ''}; log: {out}.log")
    asks = ("unattended: erases the internal disk without asking" if args.unattended
            else "staff confirm the erase by typing the device id")
    print(asks + (f"; waived checks: {', '.join(args.waive)}" if args.waive else ""))
    print("This stick holds the Wi-Fi passwords and login tokens of these homes (readable by root only).\n"
          "Keep it locked away and wipe it after the roll-out (wipefs -a /dev/sdX, or write another image onto it).")
    return EXIT_OK


def cmd_install(args: argparse.Namespace) -> int:
    from .installer import run

    stick = Path(args.stick)
    if not (stick / "stick.json").is_file():
        return _err(f"{stick} is no installer stick's folder (no stick.json); this command runs on the stick only",
                    EXIT_INVALID)
    if os.geteuid() != 0 or shutil.which("sfdisk") is None:
        return _err("the installer runs as root on the stick's own system", EXIT_INVALID)
    return run(stick)


def _err(message: str, code: int) -> int:
    print(f"palim-provision: {message}", file=sys.stderr)
    return code
