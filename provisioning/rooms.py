"""Room names: generate unguessable ones and fill them into the device list without losing its comments."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from kiosk.core.fields import MIN_ROOM_BITS, room_entropy_bits

from .yamledit import EditError, check_only_added, dump_round_trip, edit_bytes, load_round_trip

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
ROOM_CHARS = 26  # 26 base32 characters = 130 random bits


class RoomsError(Exception):
    """The rooms cannot be filled in safely."""


def generate_room() -> str:
    """A fresh room name: 'palim-' and 26 random base32 characters (130 bits)."""
    while True:
        room = "palim-" + "".join(secrets.choice(BASE32) for _ in range(ROOM_CHARS))
        # A draw of letters only looks like words to the kiosk's entropy estimate, which would then refuse it;
        # that happens about once in 220 draws, so draw again.
        if room_entropy_bits(room) >= MIN_ROOM_BITS:
            return room


@dataclass(frozen=True)
class Added:
    """One room written into the file."""

    device: str
    room: str
    line: int


def fill_rooms_in_file(data: bytes, new_room=generate_room) -> tuple[bytes, list[Added]]:
    """fill_rooms on a file's bytes, which keep their form (BOM, CRLF); UnicodeDecodeError when not UTF-8."""
    return edit_bytes(data, lambda text: fill_rooms(text, new_room))


def fill_rooms(text: str, new_room=generate_room) -> tuple[str, list[Added]]:
    """Return the text with a room for every device that lacks one, and what was added."""
    try:
        yaml, data = load_round_trip(text)
    except EditError as exc:
        raise RoomsError(str(exc)) from None
    devices = data.get("devices") if hasattr(data, "get") else None
    if not isinstance(devices, list):
        raise RoomsError("the file has no 'devices' list")
    pending = []
    for index, device in enumerate(devices):
        if not hasattr(device, "insert"):
            raise RoomsError(f"devices[{index}] is not a mapping of keys to values")
        if device.get("room") in (None, ""):
            pending.append((index, device))
    if not pending:
        return text, []
    used = {str(d.get("room")) for d in devices if hasattr(d, "get") and d.get("room")}
    added = []
    for index, device in pending:
        room = new_room()
        while room in used:
            room = new_room()
        used.add(room)
        if "room" in device:
            device["room"] = room
        else:
            keys = list(device.keys())
            anchor = "resident" if "resident" in keys else ("id" if "id" in keys else None)
            device.insert(keys.index(anchor) + 1 if anchor else len(keys), "room", room)
        added.append((index, str(device.get("id", f"devices[{index}]")), room))
    result = dump_round_trip(yaml, data, text)
    try:
        check_only_added(text, result, [room for _, _, room in added], _ROOM_FRAGMENT, _EMPTY_ROOM,
                         "Add 'room:' lines by hand with names from 'palim-provision rooms --new N'.")
    except EditError as exc:
        raise RoomsError(f"adding the rooms: {exc}") from None
    lines = result.splitlines()
    report = [Added(dev, room, next((n for n, line in enumerate(lines, 1) if room in line), 0))
              for _, dev, room in added]
    return result, report


_ROOM_FRAGMENT = re.compile(r"\s*,?\s*room:\s*palim-[a-z2-7]{26}\s*,?")
_EMPTY_ROOM = re.compile(r"^\s*(-\s+)?room:\s*(null|~|''|\"\")?\s*(#.*)?$")
