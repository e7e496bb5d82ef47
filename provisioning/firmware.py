"""The firmware a donated laptop needs, and the table of chip families a device root is audited against.

Debian's kernel drivers for most Wi-Fi chips, sound DSPs and AMD graphics load nothing without firmware files from
Debian's non-free-firmware component: without them a laptop boots into "no internet" for ever, has no sound card, or
(AMD) shows no picture at all. `FIRMWARE_PACKAGES` go onto the stick's root and so onto every device;
`DRIVER_TABLE` names the chip families we promise, each with the kernel modules that drive it, and `audit` says,
from what the modules themselves declare (`modinfo -F firmware`), which family has none of its firmware in a root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

FIRMWARE_PACKAGES = (
    "firmware-iwlwifi",  # Intel Wi-Fi (nearly every Intel laptop since 2008)
    "firmware-realtek",  # Realtek Wi-Fi (rtw88, rtlwifi, rtl8723bs) and Ethernet (r8169)
    "firmware-atheros",  # Qualcomm Atheros Wi-Fi (ath10k, ath11k)
    "firmware-ath9k-htc",  # Atheros USB Wi-Fi sticks (ath9k_htc's open firmware 1.4.0, in main; the audit found it)
    "firmware-brcm80211",  # Broadcom Wi-Fi (brcmfmac)
    "firmware-misc-nonfree",  # Intel graphics (i915 DMC/GuC/HuC), MediaTek Wi-Fi (mt7921e) and more
    "firmware-amd-graphics",  # AMD and ATI graphics (amdgpu, radeon): without it no picture at all
    "firmware-sof-signed",  # Intel sound DSPs from 2019 on (Sound Open Firmware)
    "firmware-intel-sound",  # Intel Atom sound (Bay Trail, Cherry Trail: the SST driver)
    "intel-microcode", "amd64-microcode",  # CPU fixes, loaded at boot
    "alsa-ucm-conf",  # how the sound DSPs' mixers are wired on each board (SOF and SST need it for any sound)
)


@dataclass(frozen=True)
class ChipFamily:
    """One family of chips a donated laptop may have, the part it provides, and the modules that drive it.

    `extra` lists firmware files (relative to /lib/firmware, globs allowed) for drivers that load firmware by names
    they do not declare to modinfo (Sound Open Firmware picks its file at run time)."""

    name: str
    part: str  # wifi, ethernet, display, sound
    laptops: str  # which donated laptops have it, in words for the docs
    modules: tuple[str, ...]
    extra: tuple[str, ...] = ()


DRIVER_TABLE = (
    ChipFamily("Intel Wi-Fi (iwlwifi)", "wifi", "most Intel laptops since 2008", ("iwlwifi",)),
    ChipFamily("Atheros USB Wi-Fi (ath9k_htc)", "wifi", "USB Wi-Fi sticks", ("ath9k_htc",)),
    ChipFamily("Qualcomm Atheros Wi-Fi (ath10k)", "wifi", "many laptops 2014-2020", ("ath10k_pci",)),
    ChipFamily("Qualcomm Wi-Fi 6 (ath11k)", "wifi", "laptops from 2020", ("ath11k_pci",)),
    # rtw88's firmware is declared by the chip modules, not by their PCI glue (rtw88_8822ce and so on).
    ChipFamily("Realtek Wi-Fi (rtw88)", "wifi", "cheap laptops 2018 on",
               ("rtw88_8822c", "rtw88_8822b", "rtw88_8821c", "rtw88_8723d")),
    ChipFamily("Realtek Wi-Fi (rtlwifi)", "wifi", "cheap laptops 2010-2018",
               ("rtl8188ee", "rtl8192ce", "rtl8723be", "rtl8821ae")),
    ChipFamily("Realtek SDIO Wi-Fi (rtl8723bs)", "wifi", "Bay Trail and Cherry Trail tablets", ("r8723bs",),
               extra=("rtlwifi/rtl8723bs_nic.bin",)),  # the staging driver declares nothing
    ChipFamily("Broadcom Wi-Fi (brcmfmac)", "wifi", "some tablets and older laptops", ("brcmfmac",)),
    ChipFamily("MediaTek Wi-Fi 6 (mt7921e)", "wifi", "laptops from 2021", ("mt7921e",)),
    ChipFamily("Realtek Ethernet (r8169)", "ethernet", "most laptops with a network socket", ("r8169",)),
    ChipFamily("Intel graphics (i915)", "display", "every Intel laptop", ("i915",)),
    ChipFamily("AMD graphics (amdgpu)", "display", "AMD laptops from 2015", ("amdgpu",)),
    ChipFamily("ATI/AMD graphics (radeon)", "display", "AMD laptops 2011-2015", ("radeon",)),
    ChipFamily("Intel sound DSP (SOF)", "sound", "Intel laptops from 2019", ("snd_sof_pci_intel_cnl",
               "snd_sof_pci_intel_tgl", "snd_sof_pci_intel_icl", "snd_sof_pci_intel_apl"),
               extra=("intel/sof/**/sof-*.ri",)),
    ChipFamily("Intel Atom sound (SST)", "sound", "Bay Trail and Cherry Trail tablets", ("snd_intel_sst_acpi",),
               extra=("intel/fw_sst_0f28.bin*", "intel/fw_sst_22a8.bin*")),
)

# The kernel loads a firmware file as it is named or compressed beside it.
_COMPRESSED = ("", ".xz", ".zst")


@dataclass(frozen=True)
class FamilyAudit:
    """What one family has in a root: its modules, the firmware files they name, and how many are there."""

    family: ChipFamily
    missing_modules: tuple[str, ...]
    declared: int  # firmware files the modules declare (and the family's extra patterns)
    present: tuple[str, ...]  # those of them found in the root

    @property
    def ok(self) -> bool:
        return not self.missing_modules and bool(self.present)


def firmware_present(firmware_dir: Path, name: str) -> bool:
    """Whether a firmware file a driver names (a glob pattern allowed, as brcmfmac declares) is in `firmware_dir`,
    as it is named or compressed beside it."""
    try:
        if any(ch in name for ch in "*?["):
            return any(any(firmware_dir.glob(name + suffix)) for suffix in _COMPRESSED)
        return any((firmware_dir / (name + suffix)).exists() for suffix in _COMPRESSED)
    except (OSError, ValueError):  # a name no path can be made of
        return False


def audit(root: Path, declared_by: Callable[[str], list[str] | None],
          table: Iterable[ChipFamily] = DRIVER_TABLE) -> list[FamilyAudit]:
    """For each family: which of its modules the root's kernel lacks (`declared_by` returns None for those) and which
    of the firmware files they declare are in root/lib/firmware."""
    firmware_dir = root / "lib" / "firmware"
    out = []
    for family in table:
        missing, names = [], []
        for module in family.modules:
            declared = declared_by(module)
            if declared is None:
                missing.append(module)
            else:
                names += declared
        names += family.extra
        present = tuple(dict.fromkeys(n for n in names if firmware_present(firmware_dir, n)))
        out.append(FamilyAudit(family, tuple(missing), len(set(names)), present))
    return out


MODINFO_TIMEOUT_S = 10


def declared_firmware(module: str, *, root: Path | None = None, kernel: str | None = None,
                      command: str = "modinfo") -> list[str] | None:
    """The firmware files a kernel module names (`modinfo -F firmware`), of the running kernel or, with root and
    kernel, of that root's kernel (`-b ROOT -k KERNEL`). None when there is no such module, or no modinfo (kmod)."""
    path = command if "/" in command else \
        shutil.which(command, path=os.pathsep.join((os.environ.get("PATH", os.defpath), "/usr/sbin", "/sbin")))
    if path is None:
        return None
    where = ["-b", str(root), "-k", kernel] if root is not None and kernel is not None else []
    try:
        proc = subprocess.run([path, *where, "-F", "firmware", module], capture_output=True, text=True,
                              timeout=MODINFO_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.split() if proc.returncode == 0 else None


def modinfo_firmware(root: Path, kernel: str) -> Callable[[str], list[str] | None]:
    """What a root's own kernel modules declare (for `audit`)."""
    return lambda module: declared_firmware(module, root=root, kernel=kernel)


def kernels(root: Path) -> list[str]:
    """The kernel versions installed in a root (folders of lib/modules with a modules.dep)."""
    return sorted(p.parent.name for p in (root / "lib" / "modules").glob("*/modules.dep"))
