"""The installer stick's decisions, without I/O: the disk layout, which disk to erase, which device this is, what to say.

The image command and the installer on the stick both lay out a disk with `layout_script`, so the stick and every
installed device have the same partitions: a BIOS boot partition (GRUB's core on legacy BIOS), an EFI system
partition (GRUB at the removable path, found by any UEFI firmware without an NVRAM entry) and the ext4 root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .check import DISK_MIN_GB, GB, Finding, disk_notes

BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649"
ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LINUX = "0FC63DAF-8483-4772-8E79-3D69E47DE47D"
ESP_MIB = 128
# Disks the installer never considers: loop devices, RAM disks, optical drives, floppies, device-mapper and RAID.
NOT_A_DISK = re.compile(r"^(loop|ram|zram|sr|fd|dm-|md|nbd)")


def layout_script(esp_mib: int = ESP_MIB) -> str:
    """sfdisk's input for the layout: 1 MiB BIOS boot, the EFI system partition, the root over the rest (GPT)."""
    return ("label: gpt\n"
            f"size=1MiB, type={BIOS_BOOT}, name=bios-boot\n"
            f"size={esp_mib}MiB, type={ESP}, name=efi\n"
            f"type={LINUX}, name=palim-root\n")


def partition_path(disk: str, number: int) -> str:
    """/dev/sda + 2 -> /dev/sda2; /dev/nvme0n1 + 2 -> /dev/nvme0n1p2 (a name ending in a digit takes a 'p')."""
    return f"{disk}{'p' if disk[-1:].isdigit() else ''}{number}"


def fstab(root_uuid: str, esp_uuid: str | None) -> str:
    """The device's /etc/fstab: the root and, when there is one, the EFI system partition."""
    lines = ["# written by the Palim installer", f"UUID={root_uuid} / ext4 errors=remount-ro 0 1"]
    if esp_uuid is not None:
        lines.append(f"UUID={esp_uuid} /boot/efi vfat umask=0077,nofail 0 2")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Disk:
    """A block device as /sys/block shows it."""

    name: str  # sda, nvme0n1, vda
    size_bytes: int
    removable: bool
    model: str = ""
    rotational: bool = False

    @property
    def path(self) -> str:
        return f"/dev/{self.name}"

    def describe(self) -> str:
        model = f" ({self.model})" if self.model else ""
        return f"{self.path}, {self.size_bytes / 1000 ** 3:.0f} GB{model}"


def choose_disk(disks: list[Disk], stick: str | None, min_bytes: int) -> tuple[Disk | None, str]:
    """The internal disk to install onto: the one disk that is not removable, not the stick and large enough.
    (disk, "") or (None, the reason in German)."""
    candidates = [d for d in disks if not NOT_A_DISK.match(d.name) and not d.removable and d.name != stick
                  and d.size_bytes > 0]
    if not candidates:
        return None, "Keine eingebaute Festplatte gefunden."
    if len(candidates) > 1:
        names = ", ".join(d.describe() for d in candidates)
        return None, f"Mehrere eingebaute Festplatten gefunden ({names}); der Stick wählt nicht selbst aus."
    disk = candidates[0]
    if disk.size_bytes < min_bytes:
        return None, (f"Die Festplatte {disk.describe()} ist zu klein (mindestens {min_bytes / 1000 ** 3:.0f} GB).")
    return disk, ""


def install_disk_finding(disks: list[Disk], stick: str | None) -> Finding:
    """The triage's disk line on the stick: the internal disk it would install onto, judged by its size (the free space
    of / that `palim-provision check` reports is the stick's own there), or plainly that there is none it would take."""
    chosen, why = choose_disk(disks, stick, DISK_MIN_GB * GB)
    if chosen is None:
        return Finding("disk", "fail", "no internal disk to install onto",
                       f"the stick installs onto exactly one internal disk of at least {DISK_MIN_GB} GB",
                       "keine passende eingebaute Festplatte", why)
    notes, notes_de = disk_notes(chosen.size_bytes, chosen.rotational)
    return Finding("disk", "note" if notes else "ok", chosen.describe() + (", spinning" if chosen.rotational else ""),
                   "; ".join(notes), chosen.describe() + (", drehend" if chosen.rotational else ""),
                   "; ".join(notes_de))


@dataclass(frozen=True)
class StickDevice:
    """A device the stick can install: its id and how it recognises itself (from the device list's match:)."""

    id: str
    mac: str | None = None
    serial: str | None = None


def identify(devices: list[StickDevice], macs: set[str], serial: str | None) -> list[StickDevice]:
    """The stick's devices that fit this machine's MAC addresses or DMI serial (as apply recognises a device)."""
    macs = {m.lower() for m in macs}
    return [d for d in devices
            if (d.mac is not None and d.mac.lower() in macs)
            or (d.serial is not None and serial is not None and d.serial.strip().lower() == serial.strip().lower())]


def blocking_findings(findings: list[Finding], waived: set[str]) -> list[Finding]:
    """The triage's failures that stop the install, minus those the image waived (--waive NAME)."""
    return [f for f in findings if f.status == "fail" and f.name not in waived]


def confirmed(typed: str, device_id: str) -> bool:
    """Staff confirm the erase by typing the device's id (case and surrounding spaces aside)."""
    return typed.strip().lower() == device_id.lower()


def image_size_bytes(root_bytes: int, esp_mib: int = ESP_MIB) -> int:
    """The image's size for a root of `root_bytes`: a fifth more for the file system and room for the logs, at least
    256 MiB more, plus the partitions before it and GPT's backup at the end, rounded up to whole MiB."""
    mib = 1024 ** 2
    fs = max(root_bytes * 6 // 5, root_bytes + 256 * mib)
    total = fs + (1 + 1 + esp_mib + 1) * mib
    return -(-total // mib) * mib
