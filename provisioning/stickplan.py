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
BASIC_DATA = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"  # what Windows and macOS mount from a USB stick
ESP_MIB = 128
CLAIMS_MIB = 32  # the stick's claims partition: FAT16, room for thousands of claims of a few hundred bytes
CLAIMS_PARTITION = 4
# Block devices that are no disk at all: loop devices, RAM disks, optical drives, floppies, device-mapper and RAID;
# an eMMC's boot areas and its RPMB (mmcblk0boot0, mmcblk0boot1, mmcblk0rpmb: small hidden parts of the tablet's
# one eMMC, listed in /sys/block beside it); an NVMe multipath's hidden path device (nvme0c0n1).
NOT_A_DISK = re.compile(r"^(loop|ram|zram|sr|fd|dm-|md|nbd)|^mmcblk\d+(boot\d+|rpmb)$|^nvme\d+c\d+n\d+$")


def layout_script(esp_mib: int = ESP_MIB, *, root_mib: int | None = None, claims_mib: int = 0) -> str:
    """sfdisk's input for the layout: 1 MiB BIOS boot, the EFI system partition, the root over the rest (GPT).

    The stick (`claims_mib`): the root has `root_mib` and a fourth partition, FAT for any computer to read (Microsoft's
    basic data type), holds the claims over the rest."""
    script = ("label: gpt\n"
              f"size=1MiB, type={BIOS_BOOT}, name=bios-boot\n"
              f"size={esp_mib}MiB, type={ESP}, name=efi\n")
    if not claims_mib:
        return script + f"type={LINUX}, name=palim-root\n"
    return script + (f"size={root_mib}MiB, type={LINUX}, name=palim-root\n"
                     f"type={BASIC_DATA}, name=palim-claims\n")


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
class Partition:
    """A partition of a disk as sysfs (and udev's notes, when it has made them) show it."""

    name: str  # sda1, nvme0n1p3
    size_bytes: int = 0
    fs: str = ""  # udev's ID_FS_TYPE: ntfs, vfat, ext4, BitLocker, ...; "" when udev has not said
    esp: bool = False  # an EFI system partition: the firmware boots an installed system from it
    label: str = ""  # the GPT partition name (PARTNAME), e.g. "Basic data partition"

    def kind(self) -> str:
        """What it holds in a word ("EFI", "NTFS", "ext4"), or "" when neither sysfs nor udev say."""
        if self.esp:
            return "EFI"
        return FS_NAMES.get(self.fs, self.fs)


# File system names as staff know them (udev's ID_FS_TYPE on the left).
FS_NAMES = {"ntfs": "NTFS", "vfat": "FAT", "exfat": "exFAT", "swap": "Swap", "crypto_LUKS": "LUKS",
            "LVM2_member": "LVM", "linux_raid_member": "RAID", "hfsplus": "HFS+", "apfs": "APFS"}


@dataclass(frozen=True)
class Disk:
    """A block device as /sys/block shows it."""

    name: str  # sda, nvme0n1, vda, mmcblk0
    size_bytes: int
    removable: bool
    model: str = ""
    rotational: bool = False
    # How it is attached (see `transport`): nvme, emmc, sata, virtio, usb, sd; "" when sysfs does not say.
    transport: str = ""
    partitions: tuple[Partition, ...] = ()

    @property
    def path(self) -> str:
        return f"/dev/{self.name}"

    def describe(self) -> str:
        model = f" ({self.model})" if self.model else ""
        return f"{self.path}, {self.size_bytes / 1000 ** 3:.0f} GB{model}"

    def kind_de(self) -> str:
        """What it is, with its article, for the screen: "die SSD", "die drehende Festplatte", ..."""
        if self.rotational:
            return "die drehende Festplatte"
        return {"nvme": "die NVMe-SSD", "emmc": "der eMMC-Speicher", "sata": "die SSD",
                "virtio": "die virtuelle Festplatte"}.get(self.transport, "die nicht drehende Festplatte")

    def kind(self) -> str:
        """The same in English."""
        if self.rotational:
            return "the spinning disk"
        return {"nvme": "the NVMe SSD", "emmc": "the eMMC storage", "sata": "the SSD",
                "virtio": "the virtual disk"}.get(self.transport, "the non-spinning disk")

    def partitions_de(self) -> str:
        """"3 Partitionen: EFI, NTFS", "1 Partition", or "ohne Partitionen"."""
        return self._partitions("ohne Partitionen", "Partition", "Partitionen")

    def partitions_en(self) -> str:
        return self._partitions("no partitions", "partition", "partitions")

    def _partitions(self, none: str, one: str, many: str) -> str:
        if not self.partitions:
            return none
        kinds = ", ".join(dict.fromkeys(k for p in self.partitions if (k := p.kind())))
        count = f"{len(self.partitions)} {one if len(self.partitions) == 1 else many}"
        return f"{count}: {kinds}" if kinds else count


def transport(name: str, sysfs_path: str, mmc_type: str = "") -> str:
    """How a block device is attached, from its sysfs path (/sys/block/NAME and its device link, resolved: the bus it
    hangs off is in there) and, for an MMC card, its device/type ("MMC" for soldered eMMC, "SD" for an SD card).
    usb comes first: a USB disk's path runs through a USB controller whatever it says about itself (a USB hard disk
    often says removable=0), and a card reader on USB is USB too."""
    if "/usb" in sysfs_path:
        return "usb"
    if name.startswith("mmcblk") or "/mmc_host/" in sysfs_path:
        return "emmc" if mmc_type.strip().upper() == "MMC" else "sd"
    if name.startswith("nvme") or "/nvme/" in sysfs_path:
        return "nvme"
    if "/virtio" in sysfs_path:
        return "virtio"
    if re.search(r"/ata\d+/", sysfs_path):
        return "sata"
    return ""


# Block devices that are never an install target, and what to call them on the screen ("" for those not worth
# naming: loop devices, optical drives, eMMC boot areas, the stick itself).
NEVER_DE = {"usb": "USB-Laufwerk", "sd": "SD-Karte", "removable": "Wechseldatenträger"}
NEVER_EN = {"usb": "USB drive", "sd": "SD card", "removable": "removable media"}


def _never(disk: Disk, stick: str | None) -> str | None:
    """Why this block device is never an install target (a key of NEVER_DE, or "" for one not worth naming), or None
    for an internal disk. A disk sysfs says nothing of (no transport) counts as internal unless it is removable."""
    if NOT_A_DISK.match(disk.name) or disk.name == stick or disk.size_bytes <= 0:
        return ""
    if disk.transport in ("usb", "sd"):
        return disk.transport
    if disk.removable:
        return "removable"
    return None


def _rank(disk: Disk) -> tuple[bool, bool, str]:
    """The order among internal disks large enough: not spinning first, then one with partitions (the old operating
    system, which the firmware boots), then by name."""
    return disk.rotational, not disk.partitions, disk.name


@dataclass(frozen=True)
class DiskChoice:
    """Which disk the stick installs onto and why, or why none."""

    disk: Disk | None
    # With a disk: why this one among several internal disks ("" when it is the only one). Without: whole sentences
    # saying why there is none.
    why_de: str = ""
    why: str = ""
    # Every other disk worth naming, left untouched, with what it is in German and English.
    others: tuple[tuple[Disk, str, str], ...] = ()

    def lines_de(self) -> list[str]:
        """The screen's "Ziel:" line (and which disks stay as they are) before staff confirm the erase."""
        if self.disk is None:
            return [self.why_de]
        why = f" – {self.why_de}" if self.why_de else ""
        lines = [f"Ziel: {self.disk.describe()}{why}. Alles darauf wird gelöscht."]
        if self.others:
            stay = "; ".join(f"{d.describe()}, {what}" for d, what, _ in self.others)
            lines.append(f"Unberührt {'bleibt' if len(self.others) == 1 else 'bleiben'}: {stay}.")
        return lines


def plan_disk(disks: list[Disk], stick: str | None, min_bytes: int) -> DiskChoice:
    """The disk to install onto. Never the stick, a USB disk, an SD card, removable media, an eMMC boot or RPMB area,
    a loop, RAM or optical device. Of the internal disks (NVMe, SATA, eMMC, virtio, and those sysfs says nothing of)
    at least `min_bytes` large: the one that does not spin, then the one with partitions (the old operating
    system), then the first by name (`_rank`)."""
    internal, others = [], []
    for d in disks:
        never = _never(d, stick)
        if never is None:
            internal.append(d)
        elif never:
            others.append((d, NEVER_DE[never], NEVER_EN[never]))
    gb = f"{min_bytes / 1000 ** 3:.0f} GB"
    if not internal:
        why_de = "Keine eingebaute Festplatte gefunden."
        why = "no internal disk found"
        if others:
            why_de += " Nie ein Ziel: " + "; ".join(f"{d.describe()}, {de}" for d, de, _ in others) + "."
            why += "; never a target: " + "; ".join(f"{d.describe()}, {en}" for d, _, en in others)
        return DiskChoice(None, why_de, why, tuple(others))
    large = sorted((d for d in internal if d.size_bytes >= min_bytes), key=_rank)
    if not large:
        if len(internal) == 1:
            return DiskChoice(None, f"Die Festplatte {internal[0].describe()} ist zu klein (mindestens {gb}).",
                              f"the disk {internal[0].describe()} is too small (at least {gb})", tuple(others))
        names = "; ".join(d.describe() for d in internal)
        return DiskChoice(None, f"Die eingebauten Festplatten ({names}) sind alle zu klein (mindestens {gb}).",
                          f"the internal disks ({names}) are all too small (at least {gb})", tuple(others))
    chosen = large[0]
    if len(internal) == 1:
        why_de = why = ""
    elif len(large) == 1:
        why_de, why = (f"die einzige eingebaute Festplatte mit mindestens {gb}",
                       f"the only internal disk of at least {gb}")
    elif chosen.rotational != large[1].rotational:
        why_de, why = (f"{chosen.kind_de()}, schneller als eine drehende Festplatte",
                       f"{chosen.kind()}, faster than a spinning disk")
    elif bool(chosen.partitions) != bool(large[1].partitions):
        why_de, why = (f"{chosen.kind_de()} mit dem bisherigen System ({chosen.partitions_de()})",
                       f"{chosen.kind()} with the old system ({chosen.partitions_en()})")
    else:
        why_de, why = (f"{chosen.kind_de()}; die eingebauten Festplatten sind gleichwertig, genommen wird die erste "
                       f"nach Namen", f"{chosen.kind()}; the internal disks are alike, the first by name is taken")
    left = []
    for d in internal:
        if d is chosen:
            continue
        de, en = ["drehend"] if d.rotational else [], ["spinning"] if d.rotational else []
        if d.size_bytes < min_bytes:
            de.append("zu klein")
            en.append("too small")
        de.append(d.partitions_de())
        en.append(d.partitions_en())
        left.append((d, ", ".join(de), ", ".join(en)))
    return DiskChoice(chosen, why_de, why, tuple(left + others))


def choose_disk(disks: list[Disk], stick: str | None, min_bytes: int) -> tuple[Disk | None, str]:
    """The internal disk to install onto, as `plan_disk` chooses it: (disk, why this one in German, "" when it is the
    only internal disk) or (None, why there is none, in German)."""
    choice = plan_disk(disks, stick, min_bytes)
    return choice.disk, choice.why_de


def install_disk_finding(disks: list[Disk], stick: str | None) -> Finding:
    """The triage's disk line on the stick: the internal disk it would install onto (and why, when there are several),
    judged by its size (the free space of / that `palim-provision check` reports is the stick's own there), or
    plainly why there is none it would take."""
    choice = plan_disk(disks, stick, DISK_MIN_GB * GB)
    chosen = choice.disk
    if chosen is None:
        return Finding("disk", "fail", "no internal disk to install onto",
                       f"the stick installs onto an internal disk of at least {DISK_MIN_GB} GB (never a USB drive, "
                       f"an SD card or removable media): {choice.why}",
                       "keine passende eingebaute Festplatte", choice.why_de)
    notes, notes_de = disk_notes(chosen.size_bytes, chosen.rotational)
    value = (chosen.describe() + (", spinning" if chosen.rotational else "")
             + (f" – {choice.why}" if choice.why else ""))
    value_de = (chosen.describe() + (", drehend" if chosen.rotational else "")
                + (f" – {choice.why_de}" if choice.why_de else ""))
    return Finding("disk", "note" if notes else "ok", value, "; ".join(notes), value_de, "; ".join(notes_de))


@dataclass(frozen=True)
class StickDevice:
    """A device the stick can install: its id and how it recognises itself (from the device list's match:)."""

    id: str
    mac: str | None = None
    serial: str | None = None
    rotate: int = 0  # the device list's display.rotate: its triage measures a turned screen as turned


def identify(devices: list[StickDevice], macs: set[str], serial: str | None) -> list[StickDevice]:
    """The stick's devices that fit this machine's MAC addresses or DMI serial (as apply recognises a device)."""
    macs = {m.lower() for m in macs}
    return [d for d in devices
            if (d.mac is not None and d.mac.lower() in macs)
            or (d.serial is not None and serial is not None and d.serial.strip().lower() == serial.strip().lower())]


def blocking_findings(findings: list[Finding], waived: set[str]) -> list[Finding]:
    """The triage's failures that stop the install, minus those the image waived (--waive NAME)."""
    return [f for f in findings if f.status == "fail" and f.name not in waived]


def root_mib(root_bytes: int) -> int:
    """The root file system's size for `root_bytes` of files: a fifth more for the file system and room for the
    logs, at least 256 MiB more, in whole MiB."""
    mib = 1024 ** 2
    return -(-max(root_bytes * 6 // 5, root_bytes + 256 * mib) // mib)


def image_size_bytes(root_bytes: int, esp_mib: int = ESP_MIB, claims_mib: int = CLAIMS_MIB) -> int:
    """The stick image's size for a root of `root_bytes`: the root (`root_mib`), the partitions before it, the
    claims partition and GPT's backup at the end."""
    return (1 + 1 + esp_mib + root_mib(root_bytes) + claims_mib + 1) * 1024 ** 2
