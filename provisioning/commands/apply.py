"""palim-provision apply: make this device (or a staging root) match its bundle."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..apply import ApplyError, NotRecognised, apply_bundle, is_live, not_this_machine, recognise
from ..bundle import project_source
from ..devicelist import Loaded, Target, load_file
from ..prepare import UnknownDevice, device_bundle, device_secrets, made_keys_note, pick, wireguard_keys
from ..steps import SkipRunner, SystemRunner
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision apply devices.yaml --dry-run                 # which device am I, what would change
  palim-provision apply devices.yaml                           # on the device itself, as root
  palim-provision apply devices.yaml --device ebh-01 --root /srv/staging/ebh-01

Without --device the device recognises itself by a MAC address or the DMI serial number. With --device and
--root / this computer must match that device's match: (its MAC or serial), so an admin's own PC never becomes a
kiosk by a slip; --this-is-the-device overrides it (the device got a new network card or mainboard).
With --root / it also installs packages, creates the kiosk user, enables the unit and sets the hostname;
with any other root those steps are listed as skipped.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("apply", help="make this device (or a staging root) match its bundle", formatter_class=fmt,
                       epilog=EPILOG, description="Apply a device's bundle: diffs, atomic writes, backups.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--device", metavar="ID", help="the device's id (default: recognise by MAC or serial)")
    p.add_argument("--root", metavar="DIR", default="/", help="the root to write into (default: /)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument("--this-is-the-device", action="store_true",
                   help="with --root /: apply even though this computer does not match the device's match: (a new "
                        "network card or mainboard)")
    p.add_argument("--kiosk-source", metavar="DIR",
                   help="the Palim project to pip install into /opt/palim-kiosk/venv (default: the one running)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (changes, masked diff, steps) instead of text; for the Ansible role")
    p.add_argument("--offline", action="store_true",
                   help="download nothing: the packages and the kiosk's wheels must be there (the installer stick)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return apply(out, args.file, Path(args.root), device_id=args.device, dry_run=args.dry_run,
                 this_is_the_device=args.this_is_the_device, kiosk_source=args.kiosk_source, as_json=args.json,
                 offline=args.offline)


def apply(out: Output, file: str, root: Path, *, device_id: str | None = None, dry_run: bool = False,
          this_is_the_device: bool = False, kiosk_source: str | None = None, as_json: bool = False,
          offline: bool = False) -> int:
    """Find the device (given, or this machine), check it is this machine when the root is /, render its bundle and
    apply it; the report as text or JSON."""
    loaded = load_file(file)
    if not root.is_dir():
        return out.fail(f"--root {root} is not a directory", EXIT_INVALID)
    try:
        target = pick(loaded, device_id)[0] if device_id else _recognise(out, loaded)
    except (UnknownDevice, NotRecognised) as exc:
        return out.fail(str(exc), EXIT_INVALID)
    if is_live(root) and device_id and not this_is_the_device:
        mismatch = not_this_machine(target)
        if mismatch is not None:
            return out.fail(mismatch, EXIT_INVALID)
    psks, tokens = device_secrets(loaded, [target])
    wg_keys, made = wireguard_keys(loaded, [target])
    if made:
        out.note(made_keys_note(loaded, made))
    live = is_live(root)
    source = kiosk_source or project_source()
    if live and source is None and not dry_run:
        return out.fail("cannot find the Palim project to install the kiosk from; give --kiosk-source DIR",
                        EXIT_INVALID)
    bundle = device_bundle(target, psks, tokens, source if live else None, offline=offline, wg_keys=wg_keys)
    runner = SystemRunner() if live else SkipRunner()
    try:
        report = apply_bundle(bundle, root, dry_run=dry_run, runner=runner)
    except ApplyError as exc:
        if as_json:
            out.json(exc.report.as_json())
            return EXIT_FAILED
        out.say(exc.report.diff_text(), end="")
        out.say("\n".join(exc.report.lines()))
        hint = " (are you root?)" if exc.report.error and "Permission denied" in exc.report.error else ""
        return out.fail(f"applying {target.id} failed{hint}; see above for what was done", EXIT_FAILED)
    except OSError as exc:
        return out.fail(f"cannot read {exc.filename or root}: {exc.strerror or exc}", EXIT_FAILED)
    if as_json:
        out.json(report.as_json())
        return EXIT_OK
    out.say(report.diff_text(), end="")
    out.say("\n".join(report.lines()))
    return EXIT_OK


def _recognise(out: Output, loaded: Loaded) -> Target:
    target, seen = recognise(loaded)
    out.say(f"this device is {target.id} ({seen})")
    return target
