"""The stick's claims: which laptop took which open place, written by the installer, read back by `claims import`.

A claim is one small JSON file per device on the stick's FAT partition (label PALIMCLAIMS, folder palim-claims/),
so any computer can read it and the stick itself recognises a laptop it installed before. Pure: parse and render
text, decide; the installer and the import command do the file and disk work.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from kiosk.core.fields import HOSTNAME, one_line_text

from .devicelist import MAC, Target, placeholder_serial

FORMAT = 1
CLAIMS_LABEL = "PALIMCLAIMS"  # the FAT partition's label (FAT allows 11 characters)
CLAIMS_DIR = "palim-claims"  # the folder on that partition
CLAIM_MAX_BYTES = 16 * 1024


class ClaimError(ValueError):
    """A claim file that is not a claim; the message names what is wrong (English, for city IT)."""


@dataclass(frozen=True)
class Claim:
    """One install: the place (device id, home) and how the laptop that took it is recognised again."""

    device: str
    home: str
    macs: tuple[str, ...] = ()
    """The laptop's built-in network cards (never a USB adapter, which moves between laptops)."""
    serial: str | None = None
    """The DMI serial as firmware reports it (None when empty)."""
    disk_model: str | None = None
    triage: str = ""
    """One line: the triage's outcome, for the IT team's records."""
    claimed_at: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))

    @property
    def file_name(self) -> str:
        return f"{self.device}.json"

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "device": self.device, "home": self.home, "macs": list(self.macs),
                           "serial": self.serial, "disk_model": self.disk_model, "triage": self.triage,
                           "claimed_at": self.claimed_at}, indent=2, ensure_ascii=False) + "\n"

    def match(self) -> dict[str, str]:
        """The device list's match: for this laptop: its serial when it is a real one, else its first built-in MAC."""
        if usable_serial(self.serial):
            return {"serial": self.serial}  # type: ignore[dict-item]
        if self.macs:
            return {"mac": self.macs[0]}
        raise ClaimError(f"{self.file_name}: the laptop has neither a usable serial number nor a built-in network card")


def usable_serial(serial: str | None) -> bool:
    """A serial that names one laptop: not empty and not a firmware placeholder (the rule apply recognises by)."""
    return serial is not None and not placeholder_serial(serial)


def _text(data: dict, key: str, source: str, *, required: bool, limit: int = 200) -> str | None:
    value = data.get(key)
    if not required and (value is None or value == ""):
        return None
    if not isinstance(value, str) or not value.strip():
        raise ClaimError(f"{source}: '{key}' must be a text")
    try:
        return one_line_text(value[:limit])
    except ValueError as err:
        raise ClaimError(f"{source}: '{key}' {err}") from None


def parse_claim(text: str, source: str) -> Claim:
    """A claim from its JSON text; `source` names the file in messages."""
    if len(text.encode("utf-8", "surrogatepass")) > CLAIM_MAX_BYTES:
        raise ClaimError(f"{source}: larger than {CLAIM_MAX_BYTES // 1024} KiB, not a claim")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ClaimError(f"{source}: not JSON (a claim the stick writes is JSON)") from None
    if not isinstance(data, dict):
        raise ClaimError(f"{source}: not a claim (expected a JSON object)")
    if data.get("format") != FORMAT:
        raise ClaimError(f"{source}: claim format {data.get('format')!r} is not {FORMAT}; "
                         "use the palim-provision that made the stick")
    device = _text(data, "device", source, required=True)
    if not HOSTNAME.fullmatch(device or ""):
        raise ClaimError(f"{source}: 'device' {device!r} is no device id")
    home = _text(data, "home", source, required=True) or ""
    macs = data.get("macs", [])
    if not isinstance(macs, list) or not all(isinstance(m, str) for m in macs):
        raise ClaimError(f"{source}: 'macs' must be a list of MAC addresses")
    normal = tuple(m.lower().replace("-", ":") for m in macs)
    bad = [m for m in normal if not MAC.fullmatch(m)]
    if bad:
        raise ClaimError(f"{source}: {bad[0]!r} in 'macs' is no MAC address")
    claimed_at = _text(data, "claimed_at", source, required=True) or ""
    try:
        datetime.fromisoformat(claimed_at.replace("Z", "+00:00"))
    except ValueError:
        raise ClaimError(f"{source}: 'claimed_at' {claimed_at!r} is no ISO 8601 time") from None
    return Claim(device=device or "", home=home, macs=normal, serial=_text(data, "serial", source, required=False, limit=64),
                 disk_model=_text(data, "disk_model", source, required=False),
                 triage=_text(data, "triage", source, required=False, limit=500) or "", claimed_at=claimed_at)


def recognise(claims: list[Claim], macs: set[str], serial: str | None) -> Claim | None:
    """The claim this laptop made before, by a built-in MAC or a usable serial; None when it is new to the stick."""
    macs = {m.lower() for m in macs}
    for claim in claims:
        if macs & set(claim.macs):
            return claim
        if usable_serial(serial) and usable_serial(claim.serial) \
                and claim.serial.strip().lower() == serial.strip().lower():  # type: ignore[union-attr]
            return claim
    return None


@dataclass(frozen=True)
class Place:
    """An open place: a device of the list without match:, which the first laptop that picks it takes.

    `number` is its place among the list's open places (1, 2, ...): the same on the stick's screen and the helper's
    sheet, as long as both are made from the same list, and it stays when other places are claimed."""

    number: int
    device: str
    home: str
    """The home's key."""
    home_name: str
    resident: str
    label: str | None = None
    """Where it stands (Zimmer 12), when the list says."""
    rotate: int = 0
    """The list's display.rotate for it (the stick's triage measures a turned screen as turned)."""

    def title(self) -> str:
        """Home, room and resident: "Haus am Sonnenhang — Zimmer 12 — Erna Müller"."""
        return " — ".join([self.home_name, *([self.label] if self.label else []), self.resident])

    def line(self) -> str:
        """How the stick and the sheet list it: "3  Haus am Sonnenhang — Zimmer 12 — Erna Müller"."""
        return f"{self.number}  {self.title()}"


def list_places(targets: Iterable[Target]) -> list[Place]:
    """Every device without match: among `targets`, numbered from 1 in the list's order. Pass the whole list's
    targets (Loaded.targets) and filter by home afterwards, so the numbers are the same wherever they are shown."""
    found = []
    for target in targets:
        if target.device.match is None:
            found.append(place_of(target, len(found) + 1))
    return found


def place_of(target: Target, number: int = 0) -> Place:
    """The device as a place (home, room, resident), open or not: what the stick shows for it."""
    return Place(number, target.id, target.home_key, target.home.name, target.config.resident, target.device.label,
                 target.rotate)


def without_claimed(places: Iterable[Place], claims: Iterable[Claim]) -> list[Place]:
    """The places no claim has taken (a claim names its device id)."""
    taken = {claim.device for claim in claims}
    return [place for place in places if place.device not in taken]


def open_places(targets: Iterable[Target], claims: Iterable[Claim] = ()) -> list[Place]:
    """The places still open: devices without match: (numbered as `list_places` does) that no claim has taken."""
    return without_claimed(list_places(targets), claims)
