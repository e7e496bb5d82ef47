"""palim-provision claims import: the installer stick's claims (which laptop took which open place) into the list."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..devicelist import load_file
from ..yamledit import write_with_backup
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  sudo palim-provision claims import /dev/sdb devices.yaml          # the stick itself, read without mounting
  palim-provision claims import /media/it/PALIMCLAIMS devices.yaml  # the stick's claims partition, mounted
  palim-provision claims import claims-copy/ devices.yaml --json

Each laptop the stick installed left a claim (palim-claims/<device>.json on the stick's PALIMCLAIMS partition): its
serial number and network cards. The import writes each claim's match: into the device list, comments and order
kept, so the list (and the next stick built from it) knows the laptop. A claim already imported changes nothing.
A claim that conflicts with the list (another device has that MAC or serial, the device has another match:, the
device is not in the list) is refused with both places named, and then nothing is written at all.
The old list stays as FILE.palim-bak.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("claims", help="import the installer stick's claims into the device list",
                       formatter_class=fmt, epilog=EPILOG,
                       description="The installer stick's claims: which laptop took which open place.")
    actions = p.add_subparsers(dest="claims_command", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="write each claim's match: into the device list",
                             formatter_class=fmt, epilog=EPILOG,
                             description="Write each claim's match: into the device list, all or nothing.")
    imp.add_argument("source", metavar="STICK-OR-FOLDER",
                     help="the stick (/dev/sdb), its claims partition, a disk image, or a folder with the claim files")
    imp.add_argument("file", metavar="FILE", help="the device list (YAML)")
    imp.add_argument("--json", action="store_true", help="print what changed as JSON")
    imp.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return import_command(out, Path(args.source), Path(args.file), as_json=args.json)


def import_command(out: Output, source: Path, path: Path, *, as_json: bool = False) -> int:
    """Read the claims, write their matches into the list (all or nothing), say what changed."""
    from ..claimsimport import ImportRefused, SourceError, import_claims, read_claims

    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        load_file(path, require_rooms=False)  # the same plain-words message as every command
        raise
    try:
        claims, bad = read_claims(source)
    except SourceError as exc:
        return out.fail(str(exc), EXIT_INVALID)
    if bad:
        return out.problems(bad)
    if not claims:
        out.say(f"no claims on {source} yet (no laptop was installed from it); {path} is unchanged")
        return EXIT_OK
    try:
        new_data, changes = import_claims(data, str(path), claims)
    except ImportRefused as exc:
        return out.problems(exc.problems)
    added = [c for c in changes if c.added]
    if added:
        try:
            write_with_backup(path, data, new_data)
        except OSError as exc:
            return out.fail(f"could not write {path}: {exc.strerror or exc}; the file is unchanged", EXIT_FAILED)
    if as_json:
        out.json({"file": str(path), "source": str(source), "changed": bool(added),
                  "devices": [{"device": c.device, "match": c.match, "claim": c.source, "line": c.line,
                               "status": "added" if c.added else "already imported"} for c in changes]})
        return EXIT_OK
    for change in changes:
        what = "match" if change.added else "already imported: match"
        out.say(f"{path}:{change.line}: {change.device}: {what} {_shown(change.match)} (from {change.source})")
    if added:
        out.say(f"imported {len(added)} claim(s) into {path}, {len(changes) - len(added)} already there "
                f"(the old file is {path.name}.palim-bak)")
    else:
        out.say(f"all {len(changes)} claim(s) were imported before; {path} is unchanged")
    return EXIT_OK


def _shown(match: dict[str, str]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in match.items()) + "}"
