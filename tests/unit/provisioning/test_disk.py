"""Laying a root onto a disk: the decisions that need no disk (the whole path: tests/vm)."""

from provisioning.disk import EFI_BOOT_FILES, complete_redirect

WRITTEN = "search.fs_uuid e89abe8c-f302-4022-adc2-41dad3c66331 root \nset prefix=($root)'/boot/grub'\n"


def test_the_signed_grubs_redirect_goes_on_to_the_roots_menu():
    text = complete_redirect(WRITTEN)
    assert text.startswith(WRITTEN) and text.endswith("\nconfigfile $prefix/grub.cfg\n")
    assert complete_redirect(text) == text  # once only
    assert complete_redirect(WRITTEN.rstrip("\n")).count("\n") == 3


def test_the_esp_holds_shim_its_grub_and_grub_for_32_bit_uefi():
    assert {"BOOTX64.EFI", "grubx64.efi", "mmx64.efi", "grub.cfg", "BOOTIA32.EFI"} <= set(EFI_BOOT_FILES)
    assert "fbx64.efi" not in EFI_BOOT_FILES  # shim's fallback would try to write NVRAM entries
