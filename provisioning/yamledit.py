"""Editing the admin's device list in place: ruamel's round trip with the file's own indents, its byte form (BOM,
CRLF) kept, and a check that nothing but the intended lines changed. `rooms --fill` and `claims import` write
through it; neither ever re-flows a comment or a quote the admin wrote."""

from __future__ import annotations

import difflib
import io
import os
import re
from pathlib import Path
from typing import Any, Callable

from kiosk.core.files import write_atomic

BOM = b"\xef\xbb\xbf"


class EditError(Exception):
    """The file cannot be edited safely (not YAML, or the round trip would change other lines)."""


def edit_bytes(data: bytes, edit: Callable[[str], tuple[str, Any]]) -> tuple[bytes, Any]:
    """Run `edit` on a file's text, keeping its form: a byte order mark and Windows line ends stay as the admin's
    editor wrote them; UnicodeDecodeError when the bytes are not UTF-8."""
    bom = data.startswith(BOM)
    text = data[len(BOM):].decode("utf-8") if bom else data.decode("utf-8")
    crlf = "\r\n" in text
    new_text, result = edit(text.replace("\r\n", "\n") if crlf else text)
    if crlf:
        new_text = new_text.replace("\n", "\r\n")
    return (BOM if bom else b"") + new_text.encode("utf-8"), result


def write_with_backup(path: Path, old: bytes, new: bytes) -> Path:
    """Keep the old file as FILE.palim-bak, then write the new one atomically with the old one's mode (and owner,
    when run as root: sudo must not hand the admin's list to root); returns the backup's path. OSError: the list is
    unchanged."""
    backup = path.with_name(path.name + ".palim-bak")
    st = path.stat()
    write_atomic(backup, old, st.st_mode & 0o7777)
    write_atomic(path, new, st.st_mode & 0o7777, st.st_uid if os.geteuid() == 0 else None, st.st_gid)
    return backup


def load_round_trip(text: str) -> tuple[Any, Any]:
    """(the ruamel YAML object set to the file's indents, the document as ruamel's commented data)."""
    from ruamel.yaml import YAML  # imported late: only the commands that edit the list need ruamel
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    mapping = mapping_indent(text)
    sequence, offset = sequence_indent(text, mapping)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    try:
        return yaml, yaml.load(text)
    except YAMLError as exc:
        raise EditError(f"not valid YAML: {first_line(exc)}") from None


def dump_round_trip(yaml: Any, data: Any, original: str) -> str:
    """The edited document as text; a leading '---' line of the original stays."""
    out = io.StringIO()
    yaml.dump(data, out)
    result = out.getvalue()
    if original.startswith("---") and not result.startswith("---"):
        result = original[: original.index("\n") + 1] + result
    return result


def mapping_indent(text: str) -> int:
    """How far the file indents a nested mapping (ruamel's guess covers sequences only)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in zip(lines, lines[1:]):
        if re.match(r"^\s*[^\s#-][^#]*:\s*(#.*)?$", line) and not following.lstrip().startswith("-"):
            step = (len(following) - len(following.lstrip())) - (len(line) - len(line.lstrip()))
            if step > 0:
                return step
    return 2


def sequence_indent(text: str, mapping: int) -> tuple[int, int]:
    """Where the file puts a block sequence's dash and its content, relative to the parent key."""
    # Our own reading: ruamel's guess is thrown off by a comment that contains a colon before the first item.
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in zip(lines, lines[1:]):
        item = re.match(r"^(\s*)-(\s+)\S", following)
        if item and re.match(r"^\s*[^\s#-][^#]*:\s*(#.*)?$", line):
            offset = len(item.group(1)) - (len(line) - len(line.lstrip()))
            return offset + 1 + len(item.group(2)), max(offset, 0)
    return mapping, 0


def first_line(exc: Exception) -> str:
    """An exception's first line, for a one-line message."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_only_added(old: str, new: str, added: list[str], fragment: re.Pattern, empty: re.Pattern,
                     advice: str) -> None:
    """Refuse (EditError) when the round trip changed anything but lines holding one of the `added` values: a new
    line holds one, and a line it replaces is either `empty` (the key without a value) or the same line with the
    `fragment` of the new key taken out (a flow mapping that gained the key)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        inserted, removed = new_lines[j1:j2], old_lines[i1:i2]
        ok = inserted and all(any(value in line for value in added) for line in inserted)
        if ok and removed:
            stripped = {_squash(fragment.sub("", line)) for line in inserted}
            ok = all(empty.match(line) or _squash(line) in stripped for line in removed)
        if not ok:
            before = "\n".join(removed) or "(nothing)"
            raise EditError("the change would also alter other lines of the file, so nothing was written.\n"
                            f"line {i1 + 1}: {before!r} would become {inserted!r}.\n{advice}")


def _squash(line: str) -> str:
    return re.sub(r"\s+", "", line).replace(",}", "}").replace("{,", "{")
