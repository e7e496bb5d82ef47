"""`claims import`: the stick's claims written into the device list as each device's `match:`, all or nothing.

The claims are read from a folder (the stick mounted anywhere, or a copy) or from the stick itself, a block device or
an image, without mounting it: mtools reads the FAT partition labelled PALIMCLAIMS. The list is edited in place
(ruamel round trip: comments, order and quotes kept), and only when no claim conflicts with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.core.safefile import FileRefused, read_limited
from kiosk.core.yamlpos import Problem, parse_yaml

from .claims import CLAIM_MAX_BYTES, CLAIMS_DIR, CLAIMS_LABEL, Claim, ClaimError, parse_claim, usable_serial
from .devicelist import DeviceListError, load_text
from .yamledit import EditError, check_only_added, dump_round_trip, edit_bytes, load_round_trip

MAX_CLAIMS = 10000  # a stick for a whole city holds a few hundred; more is not a stick's folder
# What a claim file that safefile refuses is called here (a folder, a device or a pipe: 'not a plain file').
CLAIM_REFUSALS = {"link": "a link, not a claim file (the stick writes plain files)",
                  "large": f"larger than {CLAIM_MAX_BYTES // 1024} KiB, not a claim"}
MTOOLS_ENV = {"MTOOLS_SKIP_CHECK": "1", "MTOOLS_NO_VFAT": "0", "LC_ALL": "C"}  # no geometry nagging, plain English


class SourceError(Exception):
    """The claims cannot be read from where they were looked for (the message says where and why)."""


@dataclass(frozen=True)
class SourcedClaim:
    """A claim and the file it came from (as the person gave it: the stick's device and the file on it)."""

    source: str
    claim: Claim


@dataclass(frozen=True)
class Change:
    """What the import does (or found done) for one device."""

    device: str
    match: dict[str, str]
    source: str
    added: bool  # False: the list had this match already
    line: int = 0  # the match's line in the list after the import


# --------------------------------------------------------------------------- reading the claims


def read_claims(source: Path) -> tuple[list[SourcedClaim], list[Problem]]:
    """Every claim at `source` (a folder, a block device or a disk image), and a problem for each file that is no
    claim. SourceError when nothing there can be read as a place for claims."""
    try:
        st = source.stat()
    except FileNotFoundError:
        raise SourceError(f"{source} does not exist (give the stick, e.g. /dev/sdb, or a folder with the claim "
                          f"files)") from None
    except OSError as exc:
        raise SourceError(f"{source} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        folder = source / CLAIMS_DIR if (source / CLAIMS_DIR).is_dir() else source
        return _read_folder(folder, str(folder), required=folder == source)
    if stat.S_ISBLK(st.st_mode) or stat.S_ISREG(st.st_mode):
        return _read_stick(source)
    raise SourceError(f"{source} is neither a folder nor a stick (block device) nor a disk image")


def _read_folder(folder: Path, shown: str, *, required: bool) -> tuple[list[SourcedClaim], list[Problem]]:
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except OSError as exc:
        raise SourceError(f"{shown} cannot be read: {exc.strerror}") from None
    # ._name files are the macOS Finder's notes on a FAT stick, not claims.
    files = [n for n in names if n.lower().endswith(".json") and not n.startswith(".")]
    if not files and required:
        raise SourceError(f"{shown} holds no claim files (*.json) and no {CLAIMS_DIR}/ folder: is it the stick?")
    if len(files) > MAX_CLAIMS:
        raise SourceError(f"{shown} holds {len(files)} .json files, more than {MAX_CLAIMS}: not a stick's claims")
    claims, problems = [], []
    for name in files:
        where = f"{shown.rstrip('/')}/{name}"
        try:
            claims.append(SourcedClaim(where, parse_claim(_read_small(folder / name, where), where)))
        except ClaimError as exc:
            problems.append(Problem(where, 1, 1, "", str(exc).removeprefix(f"{where}: ")))
    return claims, problems


def _read_small(path: Path, where: str) -> str:
    """A claim file's text: a regular file (never followed through a link), at most CLAIM_MAX_BYTES, UTF-8."""
    try:
        data = read_limited(path, CLAIM_MAX_BYTES, follow_symlinks=False)
    except FileRefused as exc:
        raise ClaimError(f"{where}: {CLAIM_REFUSALS.get(exc.reason, 'not a plain file')}") from None
    except OSError as exc:
        raise ClaimError(f"{where}: cannot be read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ClaimError(f"{where}: not UTF-8 text (a claim the stick writes is JSON)") from None


def _mtools(*args: str) -> subprocess.CompletedProcess:
    if shutil.which(args[0]) is None:
        raise SourceError(f"reading a stick needs mtools ({args[0]}): apt-get install mtools, or mount the stick and "
                          f"give its folder")
    try:
        return subprocess.run(list(args), capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL,
                              env={**os.environ, **MTOOLS_ENV}, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise SourceError(f"{args[0]} did not finish reading in 2 minutes: is the stick failing? Copy its "
                          f"{CLAIMS_DIR}/ folder on another computer and give that folder") from None


def _partitions(source: Path) -> list[int]:
    """Byte offsets of the partitions on a disk or image; empty when it has no partition table (a partition)."""
    if shutil.which("sfdisk") is None:
        return []
    try:
        run = subprocess.run(["sfdisk", "--json", str(source)], capture_output=True, text=True, errors="replace",
                             stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"}, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return []
    if run.returncode != 0:
        return []
    try:
        table = json.loads(run.stdout)["partitiontable"]
        sector = int(table.get("sectorsize", 512))
        return [int(p["start"]) * sector for p in table.get("partitions", [])]
    except (ValueError, KeyError, TypeError):
        return []


def _label(spec: str) -> str | None:
    """The FAT label of the file system at an mtools image spec; None when it is no FAT file system."""
    run = _mtools("mlabel", "-s", "-i", spec, "::")
    if run.returncode != 0:
        return None
    found = re.search(r"Volume label is (.*)", run.stdout)
    return found.group(1).strip() if found else ""


def _read_stick(source: Path) -> tuple[list[SourcedClaim], list[Problem]]:
    if not os.access(source, os.R_OK):
        raise SourceError(f"{source}: permission denied; run the command with sudo (the stick is only read)")
    specs = [f"{source}@@{offset}" for offset in _partitions(source)] or [str(source)]
    labels = {spec: _label(spec) for spec in specs}
    chosen = [spec for spec, label in labels.items() if label == CLAIMS_LABEL]
    if not chosen:
        fat = [spec for spec, label in labels.items() if label is not None]
        chosen = [spec for spec in fat if _mtools("mdir", "-b", "-i", spec, f"::/{CLAIMS_DIR}").returncode == 0]
    if not chosen:
        raise SourceError(f"{source} has no {CLAIMS_LABEL} partition with a {CLAIMS_DIR}/ folder: is it the Palim "
                          f"stick (built by this version of palim-provision image)?")
    spec = chosen[0]
    with tempfile.TemporaryDirectory(prefix="palim-claims.") as tmp:
        run = _mtools("mcopy", "-s", "-n", "-i", spec, f"::/{CLAIMS_DIR}", tmp)
        copied = Path(tmp) / CLAIMS_DIR
        if run.returncode != 0 and not copied.is_dir():
            if "not found" in run.stderr.lower() or "no such file" in run.stderr.lower():
                return [], []  # the partition is there, nothing was installed from this stick yet
            raise SourceError(f"{source}: the claims could not be read: {run.stderr.strip().splitlines()[-1:]}")
        if not copied.is_dir():
            return [], []
        claims, problems = _read_folder(copied, f"{source}:{CLAIMS_DIR}", required=False)
    return claims, problems


# --------------------------------------------------------------------------- the import


class ImportRefused(Exception):
    """The claims cannot go into the list; every problem, each naming the list's place and the claim file."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _same(match: Any, wanted: dict[str, str], claim: Claim) -> bool:
    """Whether the list's match: already names this laptop (its serial, or one of its built-in MACs)."""
    if not isinstance(match, dict):
        return False
    mac, serial = match.get("mac"), match.get("serial")
    if isinstance(mac, str):
        return mac.lower().replace("-", ":") in claim.macs
    if isinstance(serial, str):
        return usable_serial(claim.serial) and serial.strip().lower() == (claim.serial or "").strip().lower()
    return False


def _shown(match: dict[str, str]) -> str:
    return ", ".join(f"{key} {value}" for key, value in match.items())


def _owners(devices: list) -> dict[tuple[str, str], int]:
    """(kind, value) -> index of the device whose match: names it (MACs lower-case, serials without case)."""
    owners: dict[tuple[str, str], int] = {}
    for index, device in enumerate(devices):
        match = device.get("match") if isinstance(device, dict) else None
        if not isinstance(match, dict):
            continue
        if isinstance(match.get("mac"), str):
            owners.setdefault(("mac", match["mac"].lower().replace("-", ":")), index)
        if isinstance(match.get("serial"), str):
            owners.setdefault(("serial", match["serial"].strip().lower()), index)
    return owners


def _keys(claim: Claim) -> list[tuple[str, str]]:
    """What recognises the claim's laptop: each built-in MAC and a usable serial."""
    keys = [("mac", mac) for mac in claim.macs]
    if usable_serial(claim.serial):
        keys.append(("serial", (claim.serial or "").strip().lower()))
    return keys


def plan(text: str, file: str, claims: list[SourcedClaim]) -> list[Change]:
    """What importing the claims changes in the list's text; ImportRefused with every conflict."""
    doc = parse_yaml(text, file)
    if doc.problems or not isinstance(doc.data, dict) or not isinstance(doc.data.get("devices"), list):
        raise ImportRefused(doc.problems or [Problem(file, 1, 1, "", "the file has no 'devices' list")])
    devices = doc.data["devices"]
    by_id = {d["id"]: i for i, d in enumerate(devices) if isinstance(d, dict) and isinstance(d.get("id"), str)}
    owners = _owners(devices)
    taken: dict[tuple[str, str], SourcedClaim] = {}  # what earlier claims of this import recognise
    by_device: dict[str, SourcedClaim] = {}
    changes, problems = [], []

    def refuse(path: tuple, message: str, at_key: bool = False) -> None:
        problems.append(doc.problem(path, message, at_key))

    for item in claims:
        claim, source = item.claim, item.source
        index = by_id.get(claim.device)
        if index is None:
            refuse(("devices",), f"no device '{claim.device}' in the list, but {source} claims it for a laptop: "
                                 f"was the device renamed or removed? Put it back or delete that claim file", at_key=True)
            continue
        here = ("devices", index)
        try:
            wanted = claim.match()
        except ClaimError as exc:
            problems.append(Problem(source, 1, 1, "", str(exc).removeprefix(f"{claim.file_name}: ")))
            continue
        device = devices[index]
        if device.get("home") != claim.home:
            refuse(here + ("home",), f"device '{claim.device}' is in home '{device.get('home')}', but {source} "
                                     f"installed it for home '{claim.home}': which is right?")
            continue
        earlier = by_device.get(claim.device)
        if earlier is not None:
            refuse(here, f"two claims for device '{claim.device}': {earlier.source} and {source}; keep the one of "
                         f"the laptop that really stands there and delete the other")
            continue
        by_device[claim.device] = item
        clash = [(key, owners[key]) for key in _keys(claim) if owners.get(key, index) != index]
        for (kind, value), other in clash:
            other_id = devices[other].get("id")
            refuse(("devices", other, "match", kind),
                   f"this {kind} is the match of device '{other_id}', but {source} claims the laptop with it for "
                   f"device '{claim.device}' (line {doc.locate(here)[0]}): one laptop cannot be two places; remove "
                   f"the wrong match: or claim file")
        twice = [(key, taken[key]) for key in _keys(claim) if key in taken and key not in owners]
        for (kind, value), first in twice:
            refuse(here, f"{source} and {first.source} are the same laptop ({kind} {value}) claimed for two devices "
                         f"('{first.claim.device}' and '{claim.device}'): delete the wrong claim file")
        if clash or twice:
            continue
        taken.update({key: item for key in _keys(claim)})
        match = device.get("match")
        if match not in (None, {}, ""):
            if _same(match, wanted, claim):
                changes.append(Change(claim.device, {k: str(v) for k, v in match.items()}, source, added=False))
            else:
                shown = _shown(match) if isinstance(match, dict) else repr(match)
                refuse(here + ("match",), f"device '{claim.device}' already has match {shown}, but {source} claims "
                                          f"it for another laptop ({_shown(wanted)}): which laptop stands there? "
                                          f"Remove the wrong match: or claim file")
            continue
        changes.append(Change(claim.device, wanted, source, added=True))
    if problems:
        raise ImportRefused(sorted(problems, key=lambda p: (p.file != file, p.file, p.line, p.col)))
    return changes


_MATCH_FRAGMENT = re.compile(r"\s*,?\s*match:\s*\{[^}]*\}\s*,?")
_EMPTY_MATCH = re.compile(r"^\s*(-\s+)?match:\s*(null|~|''|\"\"|\{\})?\s*(#.*)?$")


def apply_changes(text: str, changes: list[Change]) -> str:
    """The list's text with the added matches written in, as flow mappings where the example list has them."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    added = {c.device: c for c in changes if c.added}
    if not added:
        return text
    try:
        yaml, data = load_round_trip(text)
    except EditError as exc:
        raise ImportRefused([Problem("", 1, 1, "", str(exc))]) from None
    for device in data["devices"]:
        change = added.get(device.get("id")) if hasattr(device, "get") else None
        if change is None:
            continue
        match = CommentedMap((key, DoubleQuotedScalarString(value)) for key, value in change.match.items())
        match.fa.set_flow_style()
        if "match" in device:
            device["match"] = match
        else:
            keys = list(device.keys())
            anchor = next((k for k in ("room", "resident", "home", "id") if k in keys), None)
            device.insert(keys.index(anchor) + 1 if anchor else len(keys), "match", match)
    result = dump_round_trip(yaml, data, text)
    check_only_added(text, result, [v for c in added.values() for v in c.match.values()], _MATCH_FRAGMENT,
                     _EMPTY_MATCH, "Write the match: lines by hand from the claim files.")
    return result


def import_claims(data: bytes, file: str, claims: list[SourcedClaim]) -> tuple[bytes, list[Change]]:
    """The list's new bytes (its form kept) and what changed; ImportRefused when any claim conflicts, when the
    edit would touch other lines, or when the result would not pass validate. UnicodeDecodeError: not UTF-8."""

    def edit(text: str) -> tuple[str, list[Change]]:
        changes = plan(text, file, claims)
        try:
            result = apply_changes(text, changes)
        except EditError as exc:
            raise ImportRefused([Problem(file, 1, 1, "", str(exc))]) from None
        _check_valid(text, result, file)
        doc = parse_yaml(result, file)
        ids = {d.get("id"): i for i, d in enumerate(doc.data["devices"]) if isinstance(d, dict)}
        return result, [Change(c.device, c.match, c.source, c.added,
                               doc.locate(("devices", ids[c.device], "match"))[0]) for c in changes]

    return edit_bytes(data, edit)


def _check_valid(before: str, after: str, file: str) -> None:
    """The list after the import must pass validate; when it does not, the problems are the list's own (shown as it
    is now) or, if the list was fine before, what the import would break."""
    try:
        load_text(after, file, require_rooms=False)
        return
    except DeviceListError as after_exc:
        try:
            load_text(before, file, require_rooms=False)
        except DeviceListError as before_exc:
            raise ImportRefused(before_exc.problems + [Problem(file, 1, 1, "", "fix these first (palim-provision "
                                                                               "validate shows them too)")]) from None
        raise ImportRefused([Problem(p.file, p.line, p.col, p.path, f"after the import: {p.message}")
                             for p in after_exc.problems]) from None
