"""palim-provision image: an installer stick for donated devices (no network on site)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..bundle import project_source
from ..devicelist import load_file
from ..image import CHECKS
from ..prepare import device_secrets, made_keys_note, wireguard_keys
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

DEFAULT_CACHE = "/var/cache/palim-provision"
EPILOG = """\
examples:
  EBH_WIFI_PSK=... sudo -E palim-provision image devices.yaml --out palim-stick.img --home erich-burger-heim
  sudo dd if=palim-stick.img of=/dev/sdX bs=4M conv=fsync status=progress     # sdX: the USB stick

Builds one disk image (about 2 GB) for a USB stick: Debian 12, the kiosk's packages, the kiosk and its Python wheels,
a kernel and GRUB for UEFI and legacy BIOS, the installer, and a small FAT partition (PALIMCLAIMS) for its claims.
Booted on a donated laptop, the stick recognises it by its match: (MAC or DMI serial) or by the claim it wrote when it
installed it before; a laptop it does not recognise is offered the open places (devices without match:) as a numbered
list, and the helper types the number. It runs the triage (palim-provision check), shows the internal disk it will
erase and waits for the helper to type back a number shown on the screen (digits and Enter only; not for a device
recognised by match: with --unattended, nor by its claim), installs, runs apply for that device, writes the claim
(device, built-in MACs, serial, disk, triage) and, once the stick is pulled, reboots into the kiosk; no network is
needed. An unknown laptop with no open place left shows its MAC, serial and triage; nothing is written.

The stick carries the selected homes' Wi-Fi passwords, login tokens and (fleet:) the devices' WireGuard keys
(root-only): wipe it after the roll-out.
Building needs root, network (the Debian mirror and PyPI) and the Debian packages debootstrap, systemd-container,
fdisk, dosfstools and e2fsprogs. The Debian root is cached in --cache (about 2 GB), so the next image takes minutes.
exit codes: 0 built, 2 wrong input (nothing written), 1 building failed (nothing written; see the log it names).
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("image", help="build an installer stick image for donated devices (no network on site)",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Build a disk image for a USB stick that installs Debian 12 and the kiosk.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--out", metavar="IMG", required=True, help="the image file to write")
    p.add_argument("--home", metavar="KEY", action="append", help="only this home's devices (may be repeated)")
    p.add_argument("--unattended", action="store_true",
                   help="erase the internal disk of a device recognised by its match: without asking (default: the "
                        "helper types back a number shown on the screen; an open place is always picked and confirmed)")
    p.add_argument("--waive", metavar="CHECK", action="append", default=[], choices=CHECKS,
                   help=f"install even when this triage check fails, e.g. camera when a USB webcam comes with the "
                        f"device (one of {', '.join(CHECKS)}; may be repeated)")
    p.add_argument("--kiosk-source", metavar="DIR|WHEEL", help="the Palim project or its wheel (default: this one)")
    p.add_argument("--cache", metavar="DIR", default=DEFAULT_CACHE, help=f"where roots are cached ({DEFAULT_CACHE})")
    p.add_argument("--mirror", metavar="URL", default="http://deb.debian.org/debian", help="the Debian mirror")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return image(out, args.file, Path(args.out), homes=args.home, unattended=args.unattended, waive=args.waive,
                 kiosk_source=args.kiosk_source, cache=Path(args.cache), mirror=args.mirror)


def image(out: Output, file: str, target_file: Path, *, homes: list[str] | None = None, unattended: bool = False,
          waive: list[str] = (), kiosk_source: str | None = None, cache: Path = Path(DEFAULT_CACHE),
          mirror: str = "http://deb.debian.org/debian") -> int:
    """Check everything the stick needs (homes, secrets, the project, the host's tools), then build it."""
    from .. import image as stick, rootfs

    loaded = load_file(file)
    homes = homes or list(loaded.model.homes)
    unknown = [h for h in homes if h not in loaded.model.homes]
    if unknown:
        return out.fail(f"{loaded.file}: no home '{unknown[0]}' (known: {', '.join(loaded.model.homes)})",
                        EXIT_INVALID)
    targets = [t for t in loaded.targets if t.home_key in homes]
    if not targets:
        return out.fail(f"{loaded.file}: the homes {', '.join(homes)} have no devices", EXIT_INVALID)
    device_secrets(loaded, targets)
    if target_file.is_dir() or not target_file.parent.is_dir():
        return out.fail(f"--out {target_file}: give a file in an existing folder", EXIT_INVALID)
    source = kiosk_source or project_source()
    if source is None or not Path(source).exists():
        return out.fail("cannot find the Palim project to put on the stick; give --kiosk-source DIR or a wheel",
                        EXIT_INVALID)
    problem = stick.host_problem()
    if problem:
        return out.fail(problem, EXIT_FAILED)
    # Each device's WireGuard key goes onto the stick (fleet: in the list), made only once all else is right; one
    # made now must reach the hub too.
    _, made = wireguard_keys(loaded, targets)
    if made:
        out.say(made_keys_note(loaded, made))
    out.say(f"building {target_file} for {len(targets)} devices: {', '.join(t.id for t in targets)}")
    try:
        result = stick.build_image(loaded, targets, target_file, kiosk_source=str(source), cache=cache,
                                   unattended=unattended, waive=list(waive), mirror=mirror)
    except (rootfs.BuildError, OSError) as exc:
        return out.fail(f"building the image failed, nothing was written: {exc}", EXIT_FAILED)
    out.say(f"wrote {result.path} ({result.size_bytes / 1000 ** 3:.1f} GB) in {result.seconds:.0f} s"
            f"{' (Debian root from the cache)' if result.cached_root else ''}; log: {target_file}.log")
    asks = ("unattended: erases the internal disk of a device recognised by its match: without asking" if unattended
            else "the helper confirms each erase by typing back a number shown on the screen")
    out.say(asks + (f"; waived checks: {', '.join(waive)}" if waive else ""))
    places = [t.id for t in targets if t.device.match is None]
    if places:
        out.say(f"{len(places)} open place{'' if len(places) == 1 else 's'} (no match:): {', '.join(places)}; a laptop "
                f"the stick does not recognise takes one by its number, and its claim stays on the stick")
    held = ("Wi-Fi passwords, login tokens and WireGuard keys" if loaded.model.fleet
            else "Wi-Fi passwords and login tokens")
    out.say(f"This stick holds the {held} of these homes (readable by root only).\n"
            "Keep it locked away and wipe it after the roll-out (wipefs -a /dev/sdX, or write another image onto it).")
    return EXIT_OK
