"""Laying a device root onto a disk (or an image's loop device): partitions, file systems, copy, fstab, GRUB.

The image command does this for the stick, the installer on the stick for the device's internal disk, with the
same steps, so what boots the stick is what boots the device. Only Debian's tools do the work (sfdisk, mkfs, tar,
grub-install, grub-mkconfig); every command goes to the caller's log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .rootfs import Log
from .stickplan import fstab, layout_script, partition_path

# Kernel command line of the stick and of every installed device: messages on the screen and, where the machine has
# one, the serial port (servers, virtual machines); GRUB waits one second.
GRUB_DEFAULTS = """\
# Palim: written by palim-provision image
GRUB_TIMEOUT=1
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0,115200 console=tty1"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_OS_PROBER=true
"""
GRUB_DEFAULTS_PATH = "etc/default/grub.d/palim.cfg"
# What the ESP's removable path must hold afterwards: shim, the signed GRUB it starts, shim's MOK manager (which
# shim starts when a key needs confirming), and GRUB for 32-bit UEFI.
EFI_BOOT_FILES = ("BOOTX64.EFI", "grubx64.efi", "mmx64.efi", "grub.cfg", "BOOTIA32.EFI")


def partition(log: Log, disk: str, script: str | None = None) -> tuple[str, str]:
    """Erase the disk's partition table and lay out bios-boot, ESP and root (or `script`, the stick's layout with
    its claims partition); (esp, root) partition paths. The protective MBR is marked active only once GRUB is on
    the disk (install_grub): an install cut short leaves nothing a BIOS would try to start."""
    log.run(["sfdisk", "--quiet", "--wipe", "always", "--wipe-partitions", "always", disk],
            input=script or layout_script())
    log.run(["partx", "--update", disk], check=False)  # the kernel must see the new partitions before mkfs
    if shutil.which("udevadm"):  # a build host in a container may have no udev; devtmpfs makes the nodes
        log.run(["udevadm", "settle"], check=False)
    esp, root = partition_path(disk, 2), partition_path(disk, 3)
    count = sum(1 for line in (script or layout_script()).splitlines() if "type=" in line)
    for _ in range(50):
        if all(Path(partition_path(disk, n)).exists() for n in range(2, count + 1)):
            break
        time.sleep(0.2)
    return esp, root


def make_filesystems(log: Log, esp: str, root: str) -> None:
    log.run(["mkfs.vfat", "-F", "32", "-n", "PALIM-EFI", esp])
    log.run(["mkfs.ext4", "-q", "-F", "-L", "palim-root", root], timeout=600)


def uuid(log: Log, device: str) -> str:
    return log.run(["blkid", "-s", "UUID", "-o", "value", device]).stdout.strip()


def kernel_has_vfat() -> bool:
    return "vfat" in Path("/proc/filesystems").read_text()


def esp_through_fuse() -> bool:
    """Whether `mounted` puts the ESP on FUSE (fusefat) and rewrites it with mtools afterwards."""
    return not kernel_has_vfat()


@contextmanager
def mounted(log: Log, root_dev: str, esp_dev: str, where: Path):
    """The new root at `where`, its ESP at boot/efi; unmounted (after a sync) however the block ends.

    A build host whose kernel has no vfat (a container) mounts the ESP with FUSE (fusefat) and afterwards rewrites
    it with mtools, so its names are plain 8.3 names as mkfs.vfat and firmware expect."""
    where.mkdir(parents=True, exist_ok=True)
    log.run(["mount", root_dev, str(where)])
    mounts = [where]
    fuse = esp_through_fuse()
    esp = where / "boot" / "efi"
    try:
        esp.mkdir(parents=True, exist_ok=True)
        log.run(["fusefat", "-o", f"rw+,fsname={esp_dev}", esp_dev, str(esp)] if fuse else ["mount", esp_dev, str(esp)])
        mounts.append(esp)
        yield where
    finally:
        os.sync()
        for point in reversed(mounts):
            log.run(["umount", str(point)], check=False)
    if fuse:
        _rewrite_esp(log, esp_dev)


def _rewrite_esp(log: Log, esp_dev: str) -> None:
    """Copy the ESP's files out with mtools, make the file system again (same volume id), copy them back."""
    volume_id = log.run(["blkid", "-s", "UUID", "-o", "value", esp_dev]).stdout.strip().replace("-", "")
    with tempfile.TemporaryDirectory(prefix="palim-esp-") as tmp:
        log.run(["mcopy", "-s", "-n", "-i", esp_dev, "::/EFI", tmp])
        redirect = Path(tmp) / "EFI/BOOT/grub.cfg"
        if redirect.is_file():
            redirect.write_text(complete_redirect(redirect.read_text()))
        log.run(["mkfs.vfat", "-F", "32", "-n", "PALIM-EFI", "-i", volume_id, esp_dev])
        log.run(["mcopy", "-s", "-i", esp_dev, f"{tmp}/EFI", "::/"])
    log.run(["fsck.vfat", "-n", esp_dev])


def copy_root(log: Log, source: Path, target: Path, exclude: tuple[str, ...] = ()) -> None:
    """Copy a root file system (owners, modes, links, extended attributes such as file capabilities) with tar; only
    the file system `source` is on (/proc, /sys, /dev, /run and an ESP stay behind, their folders are copied empty)."""
    excludes = [f"--exclude=./{path.lstrip('/')}" for path in exclude]
    pack = ["tar", "-C", str(source), "--one-file-system", "--xattrs", "--xattrs-include=*", "--numeric-owner",
            *excludes, "-cf", "-", "."]
    unpack = ["tar", "-C", str(target), "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", "-"]
    log.write(f"$ {' '.join(pack)} | {' '.join(unpack)}")
    with subprocess.Popen(pack, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as packer:
        done = subprocess.run(unpack, stdin=packer.stdout, capture_output=True, text=True)
        packer.stdout.close()
        errors = packer.stderr.read().decode(errors="replace")
        packer.wait()
    # Exit 1 from the packing tar only says a file changed while it was read (a log of the running system).
    changed_only = packer.returncode == 1 and all("file changed as we read it" in line
                                                  for line in errors.strip().splitlines())
    if (packer.returncode != 0 and not changed_only) or done.returncode != 0:
        log.write(errors + done.stderr)
        raise OSError(f"copying the root failed: {(errors + done.stderr).strip()[-400:]}")
    if errors:
        log.write(errors)


def write_fstab(log: Log, target: Path, root_dev: str, esp_dev: str) -> None:
    (target / "etc" / "fstab").write_text(fstab(uuid(log, root_dev), uuid(log, esp_dev)))


@contextmanager
def chroot_mounts(log: Log, target: Path):
    """/dev, /proc and /sys of this system inside `target`, for grub-install and apply (run with chroot)."""
    done = []
    try:
        for name, how in (("dev", ["--bind", "/dev"]), ("proc", ["-t", "proc", "proc"]), ("sys", ["-t", "sysfs", "sysfs"])):
            log.run(["mount", *how, str(target / name)])
            done.append(target / name)
        yield
    finally:
        for point in reversed(done):
            log.run(["umount", "--lazy", str(point)], check=False)


@contextmanager
def _uuid_link(log: Log, device: str):
    """/dev/disk/by-uuid/<uuid> of the new root while GRUB is set up: grub-mkconfig names the root by UUID only when
    that link exists, else by its device name (/dev/loop0p3), which no other machine has. udev makes it; a build
    host without udev (a container) gets it made here and removed again."""
    link = Path("/dev/disk/by-uuid") / uuid(log, device)
    made = not link.exists()
    if made:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(device)
    try:
        yield
    finally:
        if made:
            link.unlink(missing_ok=True)


def complete_redirect(text: str) -> str:
    """EFI/BOOT/grub.cfg as grub-install writes it for Debian's signed GRUB (the root's UUID and prefix), plus the
    line that shows the root's GRUB menu. Debian's signed GRUB runs its built-in config, which on a removable path
    (no /EFI/debian) sources this file and then stops at a grub> prompt unless the file itself goes on (seen in
    QEMU with Secure Boot on)."""
    line = "configfile $prefix/grub.cfg"
    return text if line in text else text.rstrip("\n") + f"\n{line}\n"


def install_grub(log: Log, target: Path, disk: str, root_dev: str) -> None:
    """GRUB for every way a machine boots, all at the removable paths of the ESP (found by any UEFI firmware without
    an NVRAM entry), then grub.cfg from Debian's own grub-mkconfig:
    - legacy BIOS: GRUB's core in the bios-boot partition;
    - 64-bit UEFI, Secure Boot on or off: Debian's signed chain, EFI/BOOT/BOOTX64.EFI is shim (signed by
      Microsoft's UEFI CA), which starts Debian's signed GRUB (grubx64.efi), which starts the signed kernel;
      grub-install copies the signed files when it finds them (shim-signed, grub-efi-amd64-signed in the root);
    - 32-bit UEFI (Bay Trail tablets): EFI/BOOT/BOOTIA32.EFI, unsigned GRUB for ia32 (there is no signed one), which
      starts the 64-bit kernel in mixed mode."""
    defaults = target / GRUB_DEFAULTS_PATH
    defaults.parent.mkdir(parents=True, exist_ok=True)
    defaults.write_text(GRUB_DEFAULTS)
    # The order keeps a power cut harmless: GRUB's menu first (on the root, which nothing starts yet), then the boot
    # loaders, the BIOS's last, then the active mark the old BIOSes look for.
    with chroot_mounts(log, target), _uuid_link(log, root_dev):
        chroot = ["chroot", str(target)]
        (target / "boot/grub").mkdir(parents=True, exist_ok=True)
        log.run([*chroot, "grub-mkconfig", "-o", "/boot/grub/grub.cfg"], timeout=300)
        log.run([*chroot, "grub-install", "--target=i386-efi", "--efi-directory=/boot/efi", "--removable",
                 "--no-nvram", "--no-uefi-secure-boot"], timeout=300)
        log.run([*chroot, "grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi", "--removable",
                 "--no-nvram", "--uefi-secure-boot"], timeout=300)
        log.run([*chroot, "grub-install", "--target=i386-pc", disk], timeout=300)
        # fusefat corrupts the FAT when a file is rewritten: on such a host the ESP's rewrite with mtools does this.
        redirect = target / "boot/efi/EFI/BOOT/grub.cfg"
        if not esp_through_fuse() and redirect.is_file():
            redirect.write_text(complete_redirect(redirect.read_text()))
        missing = [name for name in EFI_BOOT_FILES if not (target / "boot/efi/EFI/BOOT" / name).is_file()]
        if missing:
            raise OSError(f"grub-install left no {', '.join(missing)} in the EFI system partition")
    # Old Dell and HP BIOSes boot a disk only when its MBR marks a partition active: for GPT that is the protective
    # MBR's one entry (sfdisk enters the nested PMBR by itself).
    log.run(["sfdisk", "--activate", disk, "1"])
