"""provisioning/disk.py: laying a root onto a disk; what needs no disk is tested here (the whole path: tests/vm)."""

import os
import subprocess
from contextlib import nullcontext
from pathlib import Path

import pytest

from provisioning.disk import (EFI_BOOT_FILES, GRUB_DEFAULTS, complete_redirect, copy_root, esp_through_fuse,
                               install_grub, kernel_has_vfat)
from provisioning.rootfs import Log

WRITTEN = "search.fs_uuid e89abe8c-f302-4022-adc2-41dad3c66331 root \nset prefix=($root)'/boot/grub'\n"


def test_the_signed_grubs_redirect_goes_on_to_the_roots_menu():
    text = complete_redirect(WRITTEN)
    assert text.startswith(WRITTEN) and text.endswith("\nconfigfile $prefix/grub.cfg\n")
    assert complete_redirect(text) == text  # once only
    assert complete_redirect(WRITTEN.rstrip("\n")).count("\n") == 3


def test_the_esp_holds_shim_its_grub_and_grub_for_32_bit_uefi():
    assert {"BOOTX64.EFI", "grubx64.efi", "mmx64.efi", "grub.cfg", "BOOTIA32.EFI"} <= set(EFI_BOOT_FILES)
    assert "fbx64.efi" not in EFI_BOOT_FILES  # shim's fallback would try to write NVRAM entries


def test_the_kernel_command_line_shows_messages_on_the_screen_and_the_serial_port():
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0,115200 console=tty1"' in GRUB_DEFAULTS  # tty1 last: /dev/console
    assert "GRUB_TIMEOUT=1\n" in GRUB_DEFAULTS and "GRUB_DISABLE_OS_PROBER=true" in GRUB_DEFAULTS


def test_the_esp_goes_through_fuse_only_when_the_kernel_has_no_vfat():
    assert kernel_has_vfat() == ("vfat" in Path("/proc/filesystems").read_text())
    assert esp_through_fuse() is not kernel_has_vfat()


def test_a_root_is_copied_with_modes_links_and_without_what_is_excluded(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    (source / "etc").mkdir(parents=True)
    (source / "etc/hostname").write_text("ebh-01\n")
    (source / "etc/shadow").write_text("root:*:1::::::\n")
    (source / "etc/shadow").chmod(0o640)
    (source / "etc/localtime").symlink_to("/usr/share/zoneinfo/Europe/Berlin")
    (source / "var/cache/apt").mkdir(parents=True)
    (source / "var/cache/apt/pkgcache.bin").write_bytes(b"x" * 100)
    target.mkdir()
    log = Log(tmp_path / "build.log")
    copy_root(log, source, target, exclude=("/var/cache/apt",))
    assert (target / "etc/hostname").read_text() == "ebh-01\n"
    assert (target / "etc/shadow").stat().st_mode & 0o777 == 0o640
    assert os.readlink(target / "etc/localtime") == "/usr/share/zoneinfo/Europe/Berlin"  # the link, not its target
    assert not (target / "var/cache/apt").exists() and (target / "var/cache").is_dir()
    assert log.path.read_text().startswith(f"$ tar -C {source} --one-file-system")


def test_a_copy_that_fails_says_why(tmp_path):
    (tmp_path / "target").mkdir()
    with pytest.raises(OSError, match="copying the root failed: tar: .*missing"):
        copy_root(Log(tmp_path / "build.log"), tmp_path / "missing", tmp_path / "target")


class _Recorded(Log):
    """A log that records the commands install_grub would run instead of running them (there is no disk here: the
    whole path runs in tests/vm); blkid answers with a UUID as it would."""

    def __init__(self, path):
        super().__init__(path)
        self.commands = []

    def run(self, argv, **kwargs):
        self.commands.append(list(argv))
        uuid = "e89abe8c-f302-4022-adc2-41dad3c66331\n" if argv[0] == "blkid" else ""
        return subprocess.CompletedProcess(argv, 0, uuid, "")


def test_an_install_cut_short_leaves_nothing_a_firmware_starts(tmp_path, monkeypatch):
    """GRUB's menu first, then the UEFI loaders, the BIOS boot code after them and the active mark last: power lost
    before the end leaves a disk no firmware boots, so the laptop starts from the stick again."""
    target = tmp_path / "target"
    (target / "boot/efi/EFI/BOOT").mkdir(parents=True)
    for name in EFI_BOOT_FILES:
        (target / "boot/efi/EFI/BOOT" / name).write_text("")
    monkeypatch.setattr("provisioning.disk.esp_through_fuse", lambda: False)
    monkeypatch.setattr("provisioning.disk._uuid_link", lambda log, device: nullcontext())
    log = _Recorded(tmp_path / "log")
    install_grub(log, target, "/dev/vda", "/dev/vda3")
    steps = [" ".join(c[2:4]) if c[0] == "chroot" else " ".join(c[:2]) for c in log.commands
             if c[0] in ("chroot", "sfdisk")]
    assert steps == ["grub-mkconfig -o", "grub-install --target=i386-efi", "grub-install --target=x86_64-efi",
                     "grub-install --target=i386-pc", "sfdisk --activate"]
