"""The installer stick's decisions: disk layout, which disk, which device, what blocks an install."""

import subprocess

import pytest

from provisioning.check import Finding
from provisioning.stickplan import (BASIC_DATA, BIOS_BOOT, CLAIMS_MIB, ESP, Disk, StickDevice, blocking_findings, choose_disk,
                                    fstab, identify, image_size_bytes, install_disk_finding, layout_script, root_mib,
                                    partition_path)
from tests.requirements import need_tool

GB = 1000 ** 3
MIB = 1024 ** 2


def test_layout_is_bios_boot_then_esp_then_root_and_sfdisk_reads_it(tmp_path):
    script = layout_script()
    assert script.splitlines()[0] == "label: gpt"
    assert [BIOS_BOOT in script, ESP in script] == [True, True]
    sfdisk = need_tool("sfdisk", apt="fdisk")
    image = tmp_path / "disk.img"
    image.write_bytes(b"")
    with open(image, "r+b") as handle:
        handle.truncate(512 * MIB)
    subprocess.run([sfdisk, "--quiet", str(image)], input=script, text=True, check=True)
    dump = subprocess.run([sfdisk, "--dump", str(image)], capture_output=True, text=True, check=True).stdout
    parts = [line for line in dump.splitlines() if line.startswith(str(image))]
    assert len(parts) == 3
    assert "size=        2048" in parts[0] and f"type={BIOS_BOOT}" in parts[0]
    assert f"size=      {128 * 2048}" in parts[1] and f"type={ESP}" in parts[1]
    assert 'name="palim-root"' in parts[2]


@pytest.mark.parametrize("disk, part", [("/dev/sda", "/dev/sda2"), ("/dev/vda", "/dev/vda2"),
                                        ("/dev/nvme0n1", "/dev/nvme0n1p2"), ("/dev/mmcblk0", "/dev/mmcblk0p2"),
                                        ("/dev/loop3", "/dev/loop3p2")])
def test_partition_names(disk, part):
    assert partition_path(disk, 2) == part


def test_fstab_mounts_root_and_esp_by_uuid():
    text = fstab("1234-root", "ABCD-EF01")
    assert "UUID=1234-root / ext4 errors=remount-ro 0 1" in text
    assert "UUID=ABCD-EF01 /boot/efi vfat" in text
    assert "/boot/efi" not in fstab("1234-root", None)


def test_the_one_internal_disk_is_chosen_never_the_stick_or_a_removable_one():
    disks = [Disk("sda", 64 * GB, False, "SSD"), Disk("sdb", 8 * GB, True), Disk("loop0", 2 * GB, False),
             Disk("sr0", 1 * GB, True), Disk("zram0", 4 * GB, False)]
    assert choose_disk(disks, "sdb", 16 * GB) == (disks[0], "")
    # a USB stick that does not say it is removable is still the stick
    chosen, _ = choose_disk([Disk("sda", 64 * GB, False), Disk("sdb", 8 * GB, False)], "sdb", 16 * GB)
    assert chosen.name == "sda"


@pytest.mark.parametrize("disks, reason", [
    ([Disk("sdb", 8 * GB, True)], "Keine eingebaute Festplatte"),
    ([Disk("mmcblk0", 8 * GB, False)], "zu klein (mindestens 16 GB)"),
    ([Disk("sda", 8 * GB, False), Disk("mmcblk0", 4 * GB, False, transport="emmc")],
     "Die eingebauten Festplatten (/dev/sda, 8 GB; /dev/mmcblk0, 4 GB) sind alle zu klein (mindestens 16 GB)."),
    ([Disk("sda", 64 * GB, False, transport="usb"), Disk("mmcblk1", 32 * GB, False, transport="sd")],
     "Keine eingebaute Festplatte gefunden. Nie ein Ziel: /dev/sda, 64 GB, USB-Laufwerk; /dev/mmcblk1, 32 GB, "
     "SD-Karte."),
    ([Disk("mmcblk0boot0", 4 * 1024 ** 2, False, transport="emmc"), Disk("mmcblk0rpmb", 4 * 1024 ** 2, False),
      Disk("nvme0c0n1", 256 * GB, False, transport="nvme")], "Keine eingebaute Festplatte gefunden."),
])
def test_no_disk_is_chosen_when_none_would_do(disks, reason):
    chosen, why = choose_disk(disks, "sdb", 16 * GB)
    assert chosen is None and reason in why


def test_a_device_is_identified_by_mac_or_serial_case_aside():
    devices = [StickDevice("ebh-01", mac="3c:52:82:1a:2b:3c"), StickDevice("ebh-02", serial="5CG1234XYZ")]
    assert [d.id for d in identify(devices, {"3C:52:82:1A:2B:3C", "52:54:00:00:00:01"}, None)] == ["ebh-01"]
    assert [d.id for d in identify(devices, set(), " 5cg1234xyz ")] == ["ebh-02"]
    assert identify(devices, {"52:54:00:12:34:56"}, "OTHER") == []


def test_waived_checks_do_not_block_the_install():
    findings = [Finding("camera", "fail", "none"), Finding("memory", "ok", "8 GiB"), Finding("screen", "note", '10"'),
                Finding("speaker", "fail", "none")]
    assert [f.name for f in blocking_findings(findings, set())] == ["camera", "speaker"]
    assert [f.name for f in blocking_findings(findings, {"camera"})] == ["speaker"]


@pytest.mark.parametrize("disk, status, value_de, reason_de", [
    (Disk("nvme0n1", 256 * GB, False, "SAMSUNG MZVLB256"), "ok", "/dev/nvme0n1, 256 GB (SAMSUNG MZVLB256)", ""),
    (Disk("vda", 20 * GB, False), "note", "/dev/vda, 20 GB", "unter 32 GB: wenig Platz für Updates über die Jahre"),
    (Disk("sda", 160 * GB, False, rotational=True), "note", "/dev/sda, 160 GB, drehend",
     "eine drehende Festplatte: der Kiosk startet langsam; eine SSD hilft am meisten"),
])
def test_the_sticks_triage_judges_the_disk_it_would_install_onto(disk, status, value_de, reason_de):
    finding = install_disk_finding([disk, Disk("sdb", 4 * GB, True, "Cruzer Blade")], "sdb")
    assert (finding.name, finding.status, finding.value_de, finding.reason_de) == ("disk", status, value_de, reason_de)
    assert "free" not in finding.value  # the stick's own root is not the device's disk


@pytest.mark.parametrize("disks, reason_de", [
    ([Disk("sdb", 8 * GB, True)], "Keine eingebaute Festplatte gefunden."),
    ([Disk("mmcblk0", 8 * GB, False)], "Die Festplatte /dev/mmcblk0, 8 GB ist zu klein (mindestens 14 GB)."),
])
def test_the_sticks_triage_says_plainly_when_no_disk_would_do(disks, reason_de):
    finding = install_disk_finding(disks + [Disk("sdb", 8 * GB, True)], "sdb")
    assert (finding.status, finding.value_de) == ("fail", "keine passende eingebaute Festplatte")
    assert finding.reason_de.startswith(reason_de)


def test_the_image_has_room_for_the_root_and_its_partitions():
    size = image_size_bytes(1500 * MIB)
    assert size % MIB == 0
    assert size >= 1500 * MIB * 6 // 5 + 131 * MIB + CLAIMS_MIB * MIB
    assert image_size_bytes(100 * MIB) >= 356 * MIB + 131 * MIB + CLAIMS_MIB * MIB


def test_the_sticks_layout_ends_with_the_claims_partition_that_any_computer_reads(tmp_path):
    root = root_mib(10 * MIB)
    script = layout_script(root_mib=root, claims_mib=CLAIMS_MIB)
    sfdisk = need_tool("sfdisk", apt="fdisk")
    image = tmp_path / "stick.img"
    with open(image, "wb") as handle:
        handle.truncate(image_size_bytes(10 * MIB))
    subprocess.run([sfdisk, "--quiet", str(image)], input=script, text=True, check=True)
    dump = subprocess.run([sfdisk, "--dump", str(image)], capture_output=True, text=True, check=True).stdout
    parts = [line for line in dump.splitlines() if line.startswith(str(image))]
    assert len(parts) == 4
    assert f"size=      {root * 2048}" in parts[2] and 'name="palim-root"' in parts[2]
    assert f"type={BASIC_DATA}" in parts[3] and 'name="palim-claims"' in parts[3]
    assert f"size=       {CLAIMS_MIB * 2048}" in parts[3]  # the rest of the image is the claims partition


def test_a_tablets_16_gb_emmc_is_large_enough():
    """A "16 GB" eMMC holds about 15.6 GB (10^9 bytes): the tablets that have one are among the donated devices."""
    emmc = Disk("mmcblk0", 15_634_268_160, False, transport="emmc")
    from provisioning.check import DISK_MIN_GB, GB

    assert choose_disk([emmc], None, DISK_MIN_GB * GB)[0] == emmc
