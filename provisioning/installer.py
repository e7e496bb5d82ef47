"""The installer on the stick (palim-provision install, started on tty1): identify, triage, erase, copy, apply, boot.

Every line it shows on the screen (plain German for staff) also goes to its log on the stick and, where the
machine has a serial console, there. Nothing is written to a disk before the device is identified, suitable, its
disk chosen and the erase confirmed (or the image was built --unattended).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from . import disk
from .apply import local_identity
from .check import DISK_MIN_GB, Result, check, reason_line_de
from .image import INSTALLER_LOG, INSTALLER_UNIT
from .rootfs import DIST, VENV, Log
from .stickplan import (ESP, Disk, Partition, StickDevice, blocking_findings, confirmed, identify, install_disk_finding,
                        plan_disk, transport)

TARGET = Path("/mnt/palim-target")
LIST_IN_TARGET = "/run/palim-install"


class Stop(Exception):
    """The install stops here; the message says why (German, for staff)."""


class Screen:
    """What staff read: tty1 (stdout), the log on the stick, and the serial console when one is active."""

    def __init__(self, log: Log):
        self.log = log
        try:
            active = Path("/sys/class/tty/console/active").read_text().split()
        except OSError:
            active = []
        self.serial = "/dev/ttyS0" if "ttyS0" in active else None

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.log.write(f"[{time.strftime('%H:%M:%S')}] {text}")
        if self.serial:
            try:  # never wait for a serial line nobody reads
                fd = os.open(self.serial, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
                try:
                    os.write(fd, f"palim-installer: {text}\r\n".encode())
                finally:
                    os.close(fd)
            except OSError:
                pass


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _udev_notes(udev_data: Path, dev: str) -> dict[str, str]:
    """What udev noted of a block device (/run/udev/data/bMAJOR:MINOR, its E: lines): file system and GPT type."""
    notes = {}
    for line in _read(udev_data / f"b{dev}").splitlines():
        key, _, value = line.partition("=")
        if key.startswith("E:"):
            notes[key[2:]] = value
    return notes


def _partitions(entry: Path, udev_data: Path) -> tuple[Partition, ...]:
    """A disk's partitions: the subfolders of /sys/block/NAME with a `partition` file (its number), their size, GPT
    name (uevent's PARTNAME) and, when udev has noted them, file system and whether it is an EFI system partition."""
    found = []
    for sub in entry.iterdir():
        number = _read(sub / "partition")
        if not number.isdigit():
            continue
        uevent = dict(line.partition("=")[::2] for line in _read(sub / "uevent").splitlines())
        udev = _udev_notes(udev_data, _read(sub / "dev")) if _read(sub / "dev") else {}
        label, kind = uevent.get("PARTNAME", ""), udev.get("ID_PART_ENTRY_TYPE", "").lower()
        esp = kind in (ESP.lower(), "0xef") or label.lower() == "efi system partition"  # GPT type, MBR type, name
        found.append((int(number), Partition(sub.name, int(_read(sub / "size") or 0) * 512,
                                             udev.get("ID_FS_TYPE", ""), esp, label)))
    return tuple(part for _, part in sorted(found, key=lambda f: f[0]))


def block_disks(sys_block: Path = Path("/sys/block"), udev_data: Path = Path("/run/udev/data")) -> list[Disk]:
    """The machine's block devices, with what stickplan.plan_disk needs to tell an internal disk from a USB disk, an
    SD card or an eMMC's boot area and to choose among several: size, removable flag, model, whether it spins, how it
    is attached (the bus in its resolved sysfs path; an MMC card's type), its partitions. Only files are read (sysfs,
    udev's notes), no tool is run."""
    out = []
    for entry in sorted(sys_block.iterdir()):
        if _read(entry / "hidden") == "1":  # an NVMe multipath's path device: the disk is listed by its own name
            continue
        try:
            where = f"{entry.resolve()} {(entry / 'device').resolve()}"
        except (OSError, RuntimeError):
            where = ""
        mmc = entry.name.startswith("mmcblk")
        model = _read(entry / "device/model") or (_read(entry / "device/name") if mmc else "")
        out.append(Disk(entry.name, int(_read(entry / "size") or 0) * 512, _read(entry / "removable") == "1",
                        " ".join(model.split()), _read(entry / "queue/rotational") == "1",
                        transport(entry.name, where, _read(entry / "device/type") if mmc else ""),
                        _partitions(entry, udev_data)))
    return out


def stick_disk() -> str | None:
    """The disk this system runs from (the stick), by the device number of /."""
    st = os.stat("/")
    try:
        part = Path(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}").resolve()
    except OSError:
        return None
    return part.parent.name if (part.parent / "size").exists() and part.parent.name != "block" else part.name


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


SECURE_BOOT_VAR = "efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


def boot_mode(efi: Path = Path("/sys/firmware/efi")) -> str:
    """How the firmware started the stick, in German: BIOS, UEFI (32 Bit) or UEFI with or without Secure Boot."""
    if not efi.is_dir():
        return "BIOS"
    try:
        if (efi / "fw_platform_size").read_text().strip() == "32":
            return "UEFI (32 Bit)"
    except OSError:
        pass
    try:
        secure = (efi / SECURE_BOOT_VAR).read_bytes()[4:5] == b"\x01"  # 4 bytes of attributes, then the value
    except OSError:
        secure = False
    return "UEFI mit Secure Boot" if secure else "UEFI ohne Secure Boot"


def wait_for_staff(screen: Screen) -> int:
    screen.say("Zum Ausschalten die Eingabetaste drücken.")
    try:
        sys.stdin.readline()
    except OSError:
        pass
    subprocess.run(["systemctl", "poweroff"], check=False)
    return 1


def run(stick: Path) -> int:
    """The whole install; returns the exit code (0: rebooting into the kiosk)."""
    Path(INSTALLER_LOG).parent.mkdir(parents=True, exist_ok=True)
    log = Log(Path(INSTALLER_LOG))
    screen = Screen(log)
    started = time.monotonic()
    try:
        settings = json.loads((stick / "stick.json").read_text())
        screen.say("Palim-Installationsstick")
        screen.say(f"Start: {boot_mode()}")
        target_disk, device_id = prepare(screen, settings)
        _install(screen, log, stick, target_disk, device_id)
    except Stop as exc:
        screen.say(str(exc))
        return wait_for_staff(screen)
    except Exception as exc:  # noqa: BLE001 - staff must read every failure on the screen, not a traceback
        log.write(traceback.format_exc())
        screen.say(f"Fehler: {exc}")
        screen.say(f"Das Gerät ist nicht fertig eingerichtet. Einzelheiten stehen im Protokoll auf dem Stick "
                   f"({INSTALLER_LOG}).")
        return wait_for_staff(screen)
    screen.say(f"Fertig nach {time.monotonic() - started:.0f} s. Das Gerät startet neu, mit dem Kiosk. "
               f"Bitte den Stick abziehen.")
    os.sync()
    subprocess.run(["systemctl", "reboot"], check=False)
    return 0


def prepare(screen: Screen, settings: dict) -> tuple[Disk, str]:
    """Identify, triage, choose the disk and have staff confirm; nothing is written before this returns."""
    devices = [StickDevice(d["id"], d.get("mac"), d.get("serial"), d.get("rotate", 0)) for d in settings["devices"]]
    macs, serial = local_identity()
    found = identify(devices, macs, serial)
    disks, stick = block_disks(), stick_disk()
    triage = stick_triage(disks, stick)
    if len(found) != 1:
        screen.say("Dieses Gerät steht nicht in der Geräteliste dieses Sticks." if not found else
                   f"Dieses Gerät passt zu mehreren Einträgen: {', '.join(d.id for d in found)}.")
        screen.say(f"  MAC-Adressen: {', '.join(sorted(macs))}" if macs else
                   "  MAC-Adressen: keine. Kein Netzwerkadapter zu sehen (etwa WLAN ohne Treiber oder Firmware)"
                   + ("; bitte die Seriennummer (nächste Zeile) verwenden." if serial else "."))
        screen.say(f"  Seriennummer: {serial or 'unbekannt'}")
        screen.say("Eignung (wie palim-provision check; die Festplatte ist die, auf die der Stick installieren würde):")
        for line in triage.lines_de():
            screen.say(f"  {line}")
        raise Stop("Bitte das Gerät mit MAC oder Seriennummer (match:) in die Geräteliste eintragen und einen neuen "
                   "Stick bauen. Es wurde nichts geschrieben.")
    device_id = found[0].id
    screen.say(f"Gerät erkannt: {device_id}")
    if found[0].rotate:  # the list turns this device's screen: measure it turned, as the kiosk will show it
        triage = stick_triage(disks, stick, found[0].rotate)
    blocking = blocking_findings(triage.findings, set(settings.get("waive", [])))
    for line in triage.lines_de():
        screen.log.write(f"  {line}")
    if blocking:
        raise Stop("Das Gerät ist nicht geeignet:\n  " + "\n  ".join(reason_line_de(f) for f in blocking)
                   + "\nEs wurde nichts geschrieben.")
    choice = plan_disk(disks, stick, DISK_MIN_GB * 1000 ** 3)
    if choice.disk is None:
        raise Stop(f"{choice.why_de} Es wurde nichts geschrieben.")
    for line in choice.lines_de():  # "Ziel: …" and the disks that stay as they are
        screen.say(line)
    chosen = choice.disk
    if not settings.get("unattended"):
        screen.say(f"Zum Bestätigen die Gerätekennung ({device_id}) eintippen und die Eingabetaste drücken:")
        if not confirmed(sys.stdin.readline(), device_id):
            raise Stop("Nicht bestätigt. Es wurde nichts geschrieben.")
    return chosen, device_id


def _install(screen: Screen, log: Log, stick: Path, target: Disk, device_id: str) -> None:
    screen.say("1/5 Festplatte einteilen")
    esp, root = disk.partition(log, target.path)
    disk.make_filesystems(log, esp, root)
    with disk.mounted(log, root, esp, TARGET) as mnt:
        screen.say("2/5 System kopieren (einige Minuten)")
        # A bind mount of / shows the stick's root without /proc, /sys, /dev and /run mounted over it.
        source = Path("/run/palim-stick-root")
        source.mkdir(exist_ok=True)
        log.run(["mount", "--bind", "-o", "ro", "/", str(source)])
        try:
            disk.copy_root(log, source, mnt, exclude=(str(stick), INSTALLER_LOG, "/var/log/journal/*"))
        finally:
            log.run(["umount", str(source)], check=False)
        disk.write_fstab(log, mnt, root, esp)
        for path in (f"etc/systemd/system/{INSTALLER_UNIT}", f"etc/systemd/system/multi-user.target.wants/{INSTALLER_UNIT}"):
            (mnt / path).unlink(missing_ok=True)
        screen.say(f"3/5 Kiosk einrichten für {device_id} (palim-provision apply)")
        _apply(log, stick, mnt, device_id)
        screen.say("4/5 Bootloader (BIOS und UEFI)")
        disk.install_grub(log, mnt, target.path, root)
        screen.say("5/5 Abschließen")


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
            # --this-is-the-device: prepare() recognised this machine by its match: before anything was written.
            log.run(["chroot", str(mnt), f"{VENV}/bin/palim-provision", "apply", f"{LIST_IN_TARGET}/devices.yaml",
                     "--device", device_id, "--root", "/", "--offline", "--this-is-the-device",
                     "--kiosk-source", f"{DIST}/{wheels[0].name}"],
                    env=secrets, secrets=list(secrets.values()), timeout=1800)
    finally:
        log.run(["umount", str(lists)], check=False)
        lists.rmdir()
