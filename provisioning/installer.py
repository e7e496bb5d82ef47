"""The installer on the stick (palim-provision install, started on tty1): identify, triage, pick, erase, copy, apply.

A laptop is recognised by its match: in the list or by a claim this stick wrote when it installed it before; any
other laptop is offered the open places. Nothing is written to a disk before the device is identified or picked,
suitable, its disk chosen and the erase confirmed with the number on the screen (a device recognised by match: on a
stick built --unattended, or by its claim, goes on without a question). The claim is written only after the install
succeeded, and the boot loader last of all: an install cut short boots nothing and starts again from the stick.
The screen and keys are stickconsole.py's, the texts and decisions stickscreen.py's, stickplan.py's and claims.py's.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from random import SystemRandom

from . import disk
from .apply import local_identity
from .check import DISK_MIN_GB, Result, check, reason_line_de
from .claims import CLAIMS_DIR, Claim, ClaimError, Place, parse_claim, recognise, without_claimed
from .image import INSTALLER_LOG, INSTALLER_UNIT
from .rootfs import DIST, VENV, BuildError, Log
from .stickconsole import Keys, NoKeyboard, Progress, Screen, console, reboot_when_pulled, wait_for_staff
from .stickmachine import block_disks, boot_mode, built_in_macs, stick_disk
from .stickplan import (CLAIMS_PARTITION, Disk, StickDevice, blocking_findings, identify, install_disk_finding,
                        partition_path, plan_disk)
from .stickscreen import (confirm_screen, confirmation_code, done_lines, failure_lines, installed_lines, pick_screen,
                          read_confirm, read_pick, unclaimed_lines)

TARGET = Path("/mnt/palim-target")
LIST_IN_TARGET = "/run/palim-install"
CLAIMS_MOUNT = Path("/run/palim-claims")


class Stop(Exception):
    """The install stops here, nothing written; the message is the reason for the IT team (German)."""


class AlreadyInstalled(Exception):
    """This stick installed this laptop before and its system is on the disk: nothing to do but pull the stick."""


def stick_triage(disks: list[Disk], stick: str | None, rotation: int = 0) -> Result:
    """The triage as `palim-provision check` makes it, except the disk: the internal disk the stick would install
    onto, not the stick's own root. `rotation`: the device list turns the screen (a portrait tablet)."""
    triage = check(Path("/"), rotation=rotation)
    disk = install_disk_finding(disks, stick)
    names = [f.name for f in triage.findings]
    if "disk" in names:
        triage.findings[names.index("disk")] = disk
    else:
        triage.findings.append(disk)
    return triage


@contextmanager
def claims_folder(log: Log, stick: str | None):
    """The stick's claims folder, mounted from its FAT partition for as long as the block runs (unmounted after a
    sync, so the stick may be pulled at any other time); None when the stick has no claims partition."""
    device = partition_path(f"/dev/{stick}", CLAIMS_PARTITION) if stick else ""
    if not device or not Path(device).exists():
        log.write(f"no claims partition ({device or 'stick unknown'}): nothing is remembered")
        yield None
        return
    CLAIMS_MOUNT.mkdir(parents=True, exist_ok=True)
    log.run(["mount", "-t", "vfat", "-o", "nosuid,nodev,noexec", device, str(CLAIMS_MOUNT)])
    try:
        folder = CLAIMS_MOUNT / CLAIMS_DIR
        folder.mkdir(exist_ok=True)
        yield folder
    finally:
        os.sync()
        log.run(["umount", str(CLAIMS_MOUNT)], check=False)


def read_claims(log: Log, stick: str | None) -> list[Claim]:
    claims = []
    with claims_folder(log, stick) as folder:
        for path in sorted(folder.glob("*.json")) if folder else []:
            try:
                claims.append(parse_claim(path.read_text(encoding="utf-8", errors="replace"), path.name))
            except (ClaimError, OSError) as exc:  # a file someone put there: noted, never trusted
                log.write(f"claim ignored: {exc}")
    return claims


def write_claim(log: Log, stick: str | None, claim: Claim) -> None:
    """The claim, written whole or not at all (a temporary file renamed), on the stick's claims partition."""
    with claims_folder(log, stick) as folder:
        if folder is None:
            return
        # Not kiosk.core.files.write_atomic: it sets the file's mode with fchmod, which vfat refuses (a FAT file's
        # mode is fixed by the mount's fmask); the rename is what makes the claim whole or absent.
        partial = folder / f"{claim.device}.tmp"
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(claim.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, folder / claim.file_name)
    log.write(f"claim written: {claim.to_json()}")


@dataclass(frozen=True)
class Plan:
    """What prepare() decided: the disk, the device, its place (an open place or a claim's) and the triage."""

    disk: Disk
    device_id: str
    place: Place | None
    triage: Result
    home: str
    title: str
    """For whom, as the screen names it: "Haus am Sonnenhang — Zimmer 12 — Erna Müller"."""


def prepare(screen: Screen, settings: dict, claims: list[Claim] = (), keys: Keys | None = None) -> Plan:
    """Identify (match: or claim) or pick, triage, choose the disk, confirm; nothing is written before this returns."""
    devices = [StickDevice(d["id"], d.get("mac"), d.get("serial"), d.get("rotate", 0)) for d in settings["devices"]]
    places = [Place(**p) for p in settings.get("places", [])]
    macs, serial = local_identity()
    found = identify(devices, macs, serial)
    claim = None if found else recognise(list(claims), macs, serial)
    by_claim = next((p for p in places if claim and p.device == claim.device), None)
    offered = without_claimed(places, claims)
    disks, stick = block_disks(), stick_disk()
    triage = stick_triage(disks, stick)
    seen = (f"MAC-Adressen {', '.join(sorted(macs)) or 'keine'}, Seriennummer {serial or 'unbekannt'}")
    if len(found) > 1:
        raise Stop(f"Der Laptop ({seen}) passt zu mehreren Einträgen der Geräteliste: "
                   f"{', '.join(d.id for d in found)}. Bitte match: in der Liste berichtigen und einen neuen Stick "
                   f"bauen.")
    if found:
        screen.say(f"Gerät erkannt: {found[0].id}")
    if not found and by_claim is None and not offered:
        screen.say("Dieser Laptop steht nicht in der Geräteliste dieses Sticks.")
        screen.say(f"  {seen}")
        screen.say("Eignung (wie palim-provision check; die Festplatte ist die, auf die der Stick installieren würde):")
        for line in triage.lines_de():
            screen.say(f"  {line}")
        raise Stop(("Alle offenen Plätze dieses Sticks sind vergeben. " if places else "")
                   + f"Den Laptop ({seen}) mit match: in die Geräteliste eintragen oder einen Platz ohne match: "
                     f"anlegen, dann einen neuen Stick bauen.")
    for line in triage.lines_de():
        screen.log.write(f"  {line}")
    waived = set(settings.get("waive", []))
    # Unsuitable whatever place it takes: said before the pick. (The screen's finding waits: a place may turn it.)
    before = [f for f in blocking_findings(triage.findings, waived) if f.name != "screen"]
    if before:
        raise Stop("Der Laptop ist nicht geeignet: " + "; ".join(reason_line_de(f) for f in before) + ".")
    choice = plan_disk(disks, stick, DISK_MIN_GB * 1000 ** 3)
    if choice.disk is None:
        raise Stop(choice.why_de)
    if found:
        device_id, place, rotate = found[0].id, None, found[0].rotate
        listed = next(d for d in settings["devices"] if d["id"] == device_id)
        home, title = listed.get("home", ""), listed.get("title") or device_id
    elif by_claim is not None:
        device_id, place, rotate, home = by_claim.device, by_claim, by_claim.rotate, by_claim.home
        title = by_claim.title()
        screen.say(f"Laptop erkannt (vom Stick schon einmal eingerichtet): {by_claim.line()}")
        if any(p.label == "palim-root" for d in disks if d.name != stick for p in d.partitions):
            raise AlreadyInstalled(by_claim.title())
    else:
        place, ask = None, keys or Keys()
        while place is None:
            place = pick(screen, ask, offered)
            if not confirm(screen, ask, place.title(), choice.lines_de()):
                place = None
        device_id, rotate, home, title = place.device, place.rotate, place.home, place.title()
        screen.note(f"Platz gewählt: {place.line()} ({device_id})")
    if rotate:  # the list turns this device's screen: measure it turned, as the kiosk will show it
        triage = stick_triage(disks, stick, rotate)
    blocking = blocking_findings(triage.findings, waived)
    if blocking:
        raise Stop("Der Laptop ist nicht geeignet: " + "; ".join(reason_line_de(f) for f in blocking) + ".")
    if found:
        for line in choice.lines_de():  # "Ziel: …" and the disks that stay as they are
            screen.say(line)
    if found and not settings.get("unattended"):
        if not confirm(screen, keys or Keys(), title, choice.lines_de()):
            raise Stop("Nicht bestätigt (Esc).")
    return Plan(choice.disk, device_id, place, triage, home, title)


def pick(screen: Screen, keys: Keys, places: list[Place]) -> Place:
    """The open places until a number on the list is typed; a calm line and the list again for anything else."""
    page, said = 0, ""
    while True:
        lines = pick_screen(places, page)
        screen.page(lines if not said else [*lines[:-1], said, "", lines[-1]])  # the calm line by the question
        chosen = read_pick(keys.entry(screen), places)
        if chosen.place is not None:
            return chosen.place
        page, said = (page + 1, "") if chosen.next_page else (page, chosen.again)


def confirm(screen: Screen, keys: Keys, chosen: str, disk_lines: list[str]) -> bool:
    """The erase, confirmed by typing back the number shown; False: Esc, back to the list."""
    code = confirmation_code(SystemRandom().randint)
    said = ""
    while True:
        lines = confirm_screen(chosen, disk_lines, code)
        screen.page(lines if not said else [*lines[:-2], said, "", *lines[-2:]])
        answer = read_confirm(keys.entry(screen), code)
        if answer.erase:
            return True
        if answer.back:
            return False
        said = answer.again


def run(stick_folder: Path) -> int:
    """The whole install; returns the exit code (0: rebooting into the kiosk)."""
    Path(INSTALLER_LOG).parent.mkdir(parents=True, exist_ok=True)
    log = Log(Path(INSTALLER_LOG))
    screen = Screen(log)
    console(log)
    started = time.monotonic()
    stick = stick_disk()
    erased = False
    try:
        settings = json.loads((stick_folder / "stick.json").read_text())
        screen.say("Palim-Installationsstick")
        screen.note(f"Start: {boot_mode()}")
        plan = prepare(screen, settings, read_claims(log, stick))
        erased = True
        _install(screen, log, stick_folder, plan)
    except AlreadyInstalled as done:
        screen.page(installed_lines(str(done)))
        os.sync()
        reboot_when_pulled(screen, stick)
        return 0
    except (Stop, NoKeyboard) as exc:
        screen.page(failure_lines(str(exc), erased=erased))
        return wait_for_staff(screen)
    except Exception as exc:  # noqa: BLE001 - the helper must read every failure on the screen, not a traceback
        log.write(traceback.format_exc())
        screen.page(failure_lines(f"{exc} (Protokoll auf dem Stick: {INSTALLER_LOG})", erased=erased))
        return wait_for_staff(screen)
    claim = Claim(plan.device_id, plan.home, tuple(sorted(built_in_macs())), local_identity()[1],
                  plan.disk.model or None, _triage_line(plan.triage, settings.get("waive", [])))
    try:
        write_claim(log, stick, claim)
        unclaimed = []
    except (OSError, BuildError) as exc:  # the laptop is installed all the same: the helper goes on, IT is told
        log.write(f"the claim was not written: {exc}")
        unclaimed = unclaimed_lines(plan.device_id, str(exc))
    screen.page(done_lines(plan.title) + unclaimed)
    screen.note(f"Fertig nach {time.monotonic() - started:.0f} s.")
    os.sync()
    reboot_when_pulled(screen, stick)
    return 0


def _triage_line(triage: Result, waived: list[str]) -> str:
    """The triage in one line for the claim (English, for IT's records), with the checks the stick waived."""
    waiver = f" (waived: {', '.join(waived)})" if waived else ""
    return f"{triage.verdict}{waiver}: " + ", ".join(f"{f.name} {f.value}" for f in triage.findings)


def _used_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def _install(screen: Screen, log: Log, stick: Path, plan: Plan) -> None:
    progress = Progress(screen)
    progress.show(0, 0)
    esp, root = disk.partition(log, plan.disk.path)
    disk.make_filesystems(log, esp, root)
    with disk.mounted(log, root, esp, TARGET) as mnt:
        # A bind mount of / shows the stick's root without /proc, /sys, /dev and /run mounted over it.
        source = Path("/run/palim-stick-root")
        source.mkdir(exist_ok=True)
        log.run(["mount", "--bind", "-o", "ro", "/", str(source)])
        total, empty = max(1, _used_bytes(Path("/"))), _used_bytes(mnt)
        try:
            progress.during(1, lambda: disk.copy_root(log, source, mnt, exclude=(str(stick), INSTALLER_LOG,
                                                                                 "/var/log/journal/*")),
                            lambda: (_used_bytes(mnt) - empty) / total)
        finally:
            log.run(["umount", str(source)], check=False)
        copy_s = time.monotonic() - progress.started
        disk.write_fstab(log, mnt, root, esp)
        for path in (f"etc/systemd/system/{INSTALLER_UNIT}", f"etc/systemd/system/multi-user.target.wants/{INSTALLER_UNIT}"):
            (mnt / path).unlink(missing_ok=True)
        begun = time.monotonic()
        # apply takes about a third of the copy (stickscreen.STEPS): shown as such, never past 95 % of its step
        progress.during(2, lambda: _apply(log, stick, mnt, plan.device_id),
                        lambda: min(0.95, (time.monotonic() - begun) / max(1.0, copy_s / 3)))
        progress.during(3, lambda: disk.install_grub(log, mnt, plan.disk.path, root), lambda: 0.5)
        progress.show(4, 0.5)
    progress.show(4, 1.0)  # unmounted after a sync: 100 %


def _apply(log: Log, stick: Path, mnt: Path, device_id: str) -> None:
    secrets = json.loads((stick / "secrets" / f"{device_id}.json").read_text())
    wheels = sorted((mnt / DIST.lstrip("/")).glob("palim_kiosk-*.whl"))
    if len(wheels) != 1:
        raise Stop(f"Auf dem Stick liegt nicht genau ein Kiosk-Paket in {DIST} ({len(wheels)}).")
    lists = mnt / LIST_IN_TARGET.lstrip("/")
    lists.mkdir(parents=True, exist_ok=True)
    log.run(["mount", "--bind", "-o", "ro", str(stick / "devices" / device_id), str(lists)])
    try:
        with disk.chroot_mounts(log, mnt):
            # --this-is-the-device: prepare() recognised this machine (match:, its claim) or the helper picked its
            # place, before anything was written.
            log.run(["chroot", str(mnt), f"{VENV}/bin/palim-provision", "apply", f"{LIST_IN_TARGET}/devices.yaml",
                     "--device", device_id, "--root", "/", "--offline", "--this-is-the-device",
                     "--kiosk-source", f"{DIST}/{wheels[0].name}"],
                    env=secrets, secrets=list(secrets.values()), timeout=1800)
    finally:
        log.run(["umount", str(lists)], check=False)
        lists.rmdir()
