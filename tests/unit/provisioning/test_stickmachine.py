"""What the stick reads of the machine: disks from /sys/block, how the firmware started it, built-in network cards."""

from provisioning import stickmachine
from provisioning.stickplan import Disk

from .helpers import sys_block


def test_block_disks_reads_size_removable_model_and_rotation(tmp_path):
    sys_block(tmp_path, ("vda", 41943040, "0", None, "0"), ("sda", 4194304, "1", "Cruzer Blade", "1"))
    (tmp_path / "sda" / "queue" / "rotational").unlink()  # an old kernel's USB stick may not say
    assert stickmachine.block_disks(tmp_path) == [Disk("sda", 4194304 * 512, True, "Cruzer Blade"),
                                               Disk("vda", 41943040 * 512, False, "")]


def _efi(tmp_path, size: str | None = "64", secure: bytes | None = None):
    from provisioning.stickmachine import SECURE_BOOT_VAR

    efi = tmp_path / "efi"
    (efi / "efivars").mkdir(parents=True)
    if size is not None:
        (efi / "fw_platform_size").write_text(size + "\n")
    if secure is not None:
        (efi / SECURE_BOOT_VAR).write_bytes(b"\x06\x00\x00\x00" + secure)
    return efi


def test_the_installer_says_how_the_firmware_started_the_stick(tmp_path):
    from provisioning.stickmachine import boot_mode

    assert boot_mode(tmp_path / "no-efi") == "BIOS"
    assert boot_mode(_efi(tmp_path / "a", secure=b"\x01")) == "UEFI mit Secure Boot"
    assert boot_mode(_efi(tmp_path / "b", secure=b"\x00")) == "UEFI ohne Secure Boot"
    assert boot_mode(_efi(tmp_path / "c")) == "UEFI ohne Secure Boot"
    assert boot_mode(_efi(tmp_path / "d", size="32", secure=b"\x00")) == "UEFI (32 Bit)"


def test_only_built_in_network_cards_count_never_a_usb_adapter_or_a_bridge(tmp_path):
    devices = tmp_path / "devices"
    for name, where, mac in (("enp0s3", "pci0000:00/0000:00:03.0", "3C:52:82:1A:2B:3C"),
                             ("wlp2s0", "pci0000:00/0000:02:00.0", "a4:4e:31:00:00:01"),
                             ("enx00e04c", "pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0", "00:e0:4c:68:00:01")):
        (devices / where).mkdir(parents=True)
        (tmp_path / "net" / name).mkdir(parents=True)
        (tmp_path / "net" / name / "device").symlink_to(devices / where)
        (tmp_path / "net" / name / "address").write_text(mac.lower() + "\n")
    for name in ("lo", "br0"):  # no device behind them
        (tmp_path / "net" / name).mkdir()
        (tmp_path / "net" / name / "address").write_text("00:00:00:00:00:00\n" if name == "lo" else "02:00:00:00:00:09\n")
    assert stickmachine.built_in_macs(tmp_path / "net") == {"3c:52:82:1a:2b:3c", "a4:4e:31:00:00:01"}
