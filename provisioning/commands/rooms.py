"""palim-provision rooms: which devices lack a room, fill them in, or print fresh room names."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..devicelist import load_file
from ..rooms import RoomsError, fill_rooms_in_file, generate_room
from ..yamledit import write_with_backup
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision rooms devices.yaml            # which devices lack a room or have a guessable one
  palim-provision rooms devices.yaml --fill     # write new rooms into the file, comments kept
  palim-provision rooms --new 3                 # just print three fresh room names

--fill keeps a copy of the old file as FILE.palim-bak; running it again changes nothing.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("rooms", help="list missing rooms, or fill them in", formatter_class=fmt,
                       epilog=EPILOG, description="Room names: unguessable, generated, written into the list.")
    p.add_argument("file", metavar="FILE", nargs="?", help="the device list (YAML)")
    p.add_argument("--fill", action="store_true", help="write generated rooms for devices that lack one")
    p.add_argument("--new", type=int, metavar="N", help="print N fresh room names and exit")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    if args.new is not None:
        return new_rooms(out, args.new)
    if args.file is None:
        return out.fail("rooms needs FILE (or --new N)", EXIT_INVALID)
    return fill(out, Path(args.file)) if args.fill else missing(out, Path(args.file))


def new_rooms(out: Output, count: int) -> int:
    """Print `count` fresh room names."""
    if not 1 <= count <= 10000:
        return out.fail("--new takes a number from 1 to 10000", EXIT_INVALID)
    out.say("\n".join(generate_room() for _ in range(count)))
    return EXIT_OK


def missing(out: Output, path: Path) -> int:
    """The devices without a room."""
    loaded = load_file(path, require_rooms=False)
    lacking = [t.id for t in loaded.targets if t.device.room is None]
    for device_id in lacking:
        out.say(f"{device_id}: no room yet")
    out.say(f"{len(lacking)} of {len(loaded.targets)} devices without a room"
            + (f"; run 'palim-provision rooms {path} --fill'" if lacking else ""))
    return EXIT_OK


def fill(out: Output, path: Path) -> int:
    """Write a room for every device that lacks one; the old file stays as FILE.palim-bak, its form (BOM, CRLF)
    as it was."""
    data = _read_bytes(path)
    try:
        new_data, added = fill_rooms_in_file(data)
    except RoomsError as exc:
        return out.fail(f"{path}: {exc}", EXIT_INVALID)
    if not added:
        out.say(f"every device in {path} already has a room; nothing changed")
        return EXIT_OK
    try:
        backup = write_with_backup(path, data, new_data)
    except OSError as exc:
        return out.fail(f"could not write {path}: {exc.strerror or exc}; the file is unchanged", EXIT_FAILED)
    for item in added:
        out.say(f"{path}:{item.line}: {item.device}: room {item.room}")
    out.say(f"added {len(added)} room(s) to {path} (the old file is {backup})")
    return EXIT_OK


def _read_bytes(path: Path) -> bytes:
    # Reading through load_file's checks gives the same plain-words messages for every command.
    try:
        data = path.read_bytes()
        data.decode("utf-8")
        return data
    except (OSError, UnicodeDecodeError):
        load_file(path, require_rooms=False)
        raise
