"""What the installer stick reads of the machine it started on: disks and partitions, how the firmware started it,
its built-in network cards. Only files are read (sysfs, udev's notes, efivars), no tool is run.
"""

from __future__ import annotations

import os
from pathlib import Path

from .stickplan import ESP, Disk, Partition, transport


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


def built_in_macs(sys_net: Path = Path("/sys/class/net")) -> set[str]:
    """The MAC addresses of the machine's own network cards: those with a device behind them that is not on USB
    (a USB adapter moves from laptop to laptop; a bridge or loopback has no device)."""
    macs = set()
    for entry in sorted(sys_net.iterdir()) if sys_net.is_dir() else []:
        try:
            where = str((entry / "device").resolve(strict=True))
        except (OSError, RuntimeError):
            continue
        address = _read(entry / "address").lower()
        if "/usb" not in where and address and address != "00:00:00:00:00:00":
            macs.add(address)
    return macs
