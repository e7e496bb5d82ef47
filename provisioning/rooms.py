"""Room names: generate unguessable ones and fill them into the device list without losing its comments."""

from __future__ import annotations

import difflib
import io
import re
import secrets
from dataclasses import dataclass

from kiosk.core.fields import MIN_ROOM_BITS, room_entropy_bits

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


def _yaml():
    from ruamel.yaml import YAML  # imported late: only this command needs ruamel

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    return yaml


BOM = b"\xef\xbb\xbf"


def fill_rooms_in_file(data: bytes, new_room=generate_room) -> tuple[bytes, list[Added]]:
    """fill_rooms on a file's bytes, which keep their form: a byte order mark (BOM) and Windows line ends (CRLF)
    stay as the admin's editor wrote them; UnicodeDecodeError when they are not UTF-8."""
    bom = data.startswith(BOM)
    text = data[len(BOM):].decode("utf-8") if bom else data.decode("utf-8")
    crlf = "\r\n" in text
    new_text, added = fill_rooms(text.replace("\r\n", "\n") if crlf else text, new_room)
    if crlf:
        new_text = new_text.replace("\n", "\r\n")
    return (BOM if bom else b"") + new_text.encode("utf-8"), added


def fill_rooms(text: str, new_room=generate_room) -> tuple[str, list[Added]]:
    """Return the text with a room for every device that lacks one, and what was added."""
    from ruamel.yaml.error import YAMLError

    yaml = _yaml()
    mapping = _mapping_indent(text)
    sequence, offset = _sequence_indent(text, mapping)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise RoomsError(f"not valid YAML: {_first_line(exc)}") from None
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
    out = io.StringIO()
    yaml.dump(data, out)
    result = out.getvalue()
    if text.startswith("---") and not result.startswith("---"):
        result = text[: text.index("\n") + 1] + result
    _check_only_rooms_changed(text, result, [room for _, _, room in added])
    lines = result.splitlines()
    report = [Added(dev, room, next((n for n, line in enumerate(lines, 1) if room in line), 0))
              for _, dev, room in added]
    return result, report


def _mapping_indent(text: str) -> int:
    """How far the file indents a nested mapping (ruamel's guess covers sequences only)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in zip(lines, lines[1:]):
        if re.match(r"^\s*[^\s#-][^#]*:\s*(#.*)?$", line) and not following.lstrip().startswith("-"):
            step = (len(following) - len(following.lstrip())) - (len(line) - len(line.lstrip()))
            if step > 0:
                return step
    return 2


def _sequence_indent(text: str, mapping: int) -> tuple[int, int]:
    """Where the file puts a block sequence's dash and its content, relative to the parent key."""
    # Our own reading: ruamel's guess is thrown off by a comment that contains a colon before the first item.
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in zip(lines, lines[1:]):
        item = re.match(r"^(\s*)-(\s+)\S", following)
        if item and re.match(r"^\s*[^\s#-][^#]*:\s*(#.*)?$", line):
            offset = len(item.group(1)) - (len(line) - len(line.lstrip()))
            return offset + 1 + len(item.group(2)), max(offset, 0)
    return mapping, 0


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_ROOM_FRAGMENT = re.compile(r"\s*,?\s*room:\s*palim-[a-z2-7]{26}\s*,?")
_EMPTY_ROOM = re.compile(r"^\s*(-\s+)?room:\s*(null|~|''|\"\")?\s*(#.*)?$")


def _check_only_rooms_changed(old: str, new: str, rooms: list[str]) -> None:
    """Refuse to write when the round trip changed anything but the added rooms (comments, quotes, layout)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        inserted, removed = new_lines[j1:j2], old_lines[i1:i2]
        ok = inserted and all(any(room in line for room in rooms) for line in inserted)
        if ok and removed:
            stripped = {_squash(_ROOM_FRAGMENT.sub("", line)) for line in inserted}
            ok = all(_EMPTY_ROOM.match(line) or _squash(line) in stripped for line in removed)
        if not ok:
            before = "\n".join(removed) or "(nothing)"
            raise RoomsError("adding the rooms would also change other lines of the file, so nothing was written.\n"
                             f"line {i1 + 1}: {before!r} would become {inserted!r}.\n"
                             "Add 'room:' lines by hand with names from 'palim-provision rooms --new N'.")


def _squash(line: str) -> str:
    return re.sub(r"\s+", "", line).replace(",}", "}").replace("{,", "{")
