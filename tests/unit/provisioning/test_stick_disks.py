"""Which disk the installer stick erases, on the machines donated laptops really are: sysfs trees as the kernel lays
them out (eMMC tablets with boot areas and an SD card, NVMe and SATA laptops, SSD beside HDD, a VM, USB disks that
do not say they are removable) read by installer.block_disks, and the rule stickplan.plan_disk chooses by."""

import os

import pytest

from provisioning import installer
from provisioning.stickplan import ESP, Disk, Partition, choose_disk, install_disk_finding, plan_disk, transport

GB = 1000 ** 3
MIN = 16 * GB

# Where the kernel hangs each kind of disk in /sys/devices (the bus is in the path).
NVME = "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0"
EMMC = "pci0000:00/0000:00:10.0/mmc_host/mmc0/mmc0:0001"  # Intel SDHCI, soldered eMMC
SD_SLOT = "pci0000:00/0000:00:12.0/mmc_host/mmc1/mmc1:aaaa"  # the tablet's SD card slot
SD_READER = "pci0000:00/0000:00:1c.0/0000:02:00.0/rtsx_pci_sdmmc.0/mmc_host/mmc0/mmc0:e624"  # a laptop's card reader
SATA = "pci0000:00/0000:00:17.0/ata{n}/host{h}/target{h}:0:0/{h}:0:0:0"
USB = "pci0000:00/0000:00:14.0/usb2/2-{port}/2-{port}:1.0/host{h}/target{h}:0:0/{h}:0:0:0"
VIRTIO = "pci0000:00/0000:00:04.0/virtio1"
WINDOWS = [  # GPT as Windows lays it out: its ESP, the reserved partition, the system; udev's notes where it has them
    ({"PARTNAME": "EFI system partition"}, 0.1, {"ID_FS_TYPE": "vfat", "ID_PART_ENTRY_TYPE": ESP.lower()}),
    ({"PARTNAME": "Microsoft reserved partition"}, 0.016,
     {"ID_PART_ENTRY_TYPE": "e3c9e316-0b5c-4db8-817d-f92df00215ae"}),
    ({"PARTNAME": "Basic data partition"}, 100, {"ID_FS_TYPE": "ntfs"}),
]


def disk(name, device, *, gb=None, sectors=None, removable=0, rotational=0, model=None, mmc=None, parts=(),
         block=None, hidden=None):
    """One block device: its folder in /sys/devices (`block`, by default DEVICE/block/NAME as for SCSI, MMC and
    virtio), the device its `device` link points at, and what sysfs shows there. mmc: (type, name) of an MMC card."""
    return {"name": name, "device": device, "block": block or f"{device}/block/{name}",
            "sectors": sectors if sectors is not None else int(gb * GB) // 512, "removable": removable,
            "rotational": rotational, "model": model, "mmc": mmc, "parts": parts, "hidden": hidden}


def sysfs(root, *disks, udev=True):
    """/sys/block and /run/udev/data under root as the kernel and udev lay them out: /sys/block/NAME a link into
    /sys/devices, its `device` link to the device (model, or an MMC card's type and name), size in 512-byte sectors,
    removable, queue/rotational, a subfolder per partition (partition, size, dev, uevent with PARTNAME)."""
    sys_block, data = root / "sys" / "block", root / "run" / "udev" / "data"
    sys_block.mkdir(parents=True)
    data.mkdir(parents=True)
    for major, d in enumerate(disks, start=8):
        block, device = root / "sys" / "devices" / d["block"], root / "sys" / "devices" / d["device"]
        (block / "queue").mkdir(parents=True)
        device.mkdir(parents=True, exist_ok=True)
        (block / "device").symlink_to(os.path.relpath(device, block))
        (sys_block / d["name"]).symlink_to(os.path.relpath(block, sys_block))
        (block / "size").write_text(f"{d['sectors']}\n")
        (block / "removable").write_text(f"{d['removable']}\n")
        (block / "queue" / "rotational").write_text(f"{d['rotational']}\n")
        (block / "dev").write_text(f"{major}:0\n")
        if d["hidden"] is not None:
            (block / "hidden").write_text(f"{d['hidden']}\n")
        if d["model"]:
            (device / "model").write_text(d["model"].ljust(40) + "\n")  # ATA pads its model with spaces
        if d["mmc"]:
            (device / "type").write_text(d["mmc"][0] + "\n")
            (device / "name").write_text(d["mmc"][1] + "\n")
        for number, (uevent, gb, notes) in enumerate(d["parts"], start=1):
            name = f"{d['name']}{'p' if d['name'][-1].isdigit() else ''}{number}"
            part = block / name
            part.mkdir()
            (part / "partition").write_text(f"{number}\n")
            (part / "size").write_text(f"{int(gb * GB) // 512}\n")
            (part / "dev").write_text(f"{major}:{number}\n")
            (part / "uevent").write_text(f"MAJOR={major}\nMINOR={number}\nDEVNAME={name}\nDEVTYPE=partition\n"
                                         f"PARTN={number}\n" + "".join(f"{k}={v}\n" for k, v in uevent.items()))
            if udev and notes:
                (data / f"b{major}:{number}").write_text("".join(f"E:{k}={v}\n" for k, v in notes.items()))
    return sys_block, data


def read(tmp_path, *disks, udev=True):
    sys_block, data = sysfs(tmp_path, *disks, udev=udev)
    return installer.block_disks(sys_block, data)


STICK = disk("sda", USB.format(port=1, h=0), gb=8, removable=1, model="Cruzer Blade", parts=WINDOWS[:1])


def test_an_emmc_tablet_installs_onto_its_emmc_not_its_boot_areas_or_the_sd_card(tmp_path):
    disks = read(tmp_path,
                 disk("mmcblk0", EMMC, gb=64, mmc=("MMC", "DF4064"), parts=WINDOWS),
                 disk("mmcblk0boot0", EMMC, sectors=8192, mmc=("MMC", "DF4064")),
                 disk("mmcblk0boot1", EMMC, sectors=8192, mmc=("MMC", "DF4064")),
                 disk("mmcblk0rpmb", EMMC, sectors=8192, mmc=("MMC", "DF4064")),  # a block device on old kernels
                 disk("mmcblk1", SD_SLOT, gb=32, mmc=("SD", "SC32G"), parts=[({}, 32, {"ID_FS_TYPE": "exfat"})]),
                 STICK, udev=False)
    assert [(d.name, d.transport, d.model) for d in disks] == [
        ("mmcblk0", "emmc", "DF4064"), ("mmcblk0boot0", "emmc", "DF4064"), ("mmcblk0boot1", "emmc", "DF4064"),
        ("mmcblk0rpmb", "emmc", "DF4064"), ("mmcblk1", "sd", "SC32G"), ("sda", "usb", "Cruzer Blade")]
    # without udev's notes: the partitions from sysfs, the ESP by its GPT name
    assert disks[0].partitions == (
        Partition("mmcblk0p1", int(0.1 * GB) // 512 * 512, "", True, "EFI system partition"),
        Partition("mmcblk0p2", int(0.016 * GB) // 512 * 512, "", False, "Microsoft reserved partition"),
        Partition("mmcblk0p3", 100 * GB, "", False, "Basic data partition"))
    choice = plan_disk(disks, "sda", MIN)
    assert choice.lines_de() == ["Ziel: /dev/mmcblk0, 64 GB (DF4064). Alles darauf wird gelöscht.",
                                 "Unberührt bleibt: /dev/mmcblk1, 32 GB (SC32G), SD-Karte."]
    assert install_disk_finding(disks, "sda").value_de == "/dev/mmcblk0, 64 GB (DF4064)"


def test_an_nvme_laptop_installs_onto_its_nvme_not_a_second_usb_stick(tmp_path):
    disks = read(tmp_path,
                 disk("nvme0c0n1", NVME, block=f"{NVME}/nvme0c0n1", gb=256, hidden=1),  # a multipath's path device
                 disk("nvme0n1", NVME, block=f"{NVME}/nvme0n1", gb=256, model="SAMSUNG MZVLB256HBHQ-000L7",
                      parts=WINDOWS, hidden=0),
                 STICK,
                 disk("sdb", USB.format(port=2, h=1), gb=32, removable=1, model="DataTraveler 3.0"))
    assert [(d.name, d.transport) for d in disks] == [("nvme0n1", "nvme"), ("sda", "usb"), ("sdb", "usb")]
    assert disks[0].partitions_de() == "3 Partitionen: EFI, NTFS"
    assert [p.fs for p in disks[0].partitions] == ["vfat", "", "ntfs"]
    assert plan_disk(disks, "sda", MIN).lines_de() == [
        "Ziel: /dev/nvme0n1, 256 GB (SAMSUNG MZVLB256HBHQ-000L7). Alles darauf wird gelöscht.",
        "Unberührt bleibt: /dev/sdb, 32 GB (DataTraveler 3.0), USB-Laufwerk."]


def test_a_laptop_with_ssd_and_hdd_installs_onto_the_ssd_even_when_the_old_system_is_on_the_hdd(tmp_path):
    disks = read(tmp_path,
                 disk("sda", SATA.format(n=1, h=0), gb=250, model="Samsung SSD 860 EVO 250GB"),
                 disk("sdb", SATA.format(n=2, h=1), gb=1000, rotational=1, model="ST1000LM035-1RK172",
                      parts=WINDOWS[2:]),
                 disk("sdc", USB.format(port=1, h=2), gb=8, removable=1, model="Cruzer Blade"))
    assert [(d.name, d.transport, d.rotational) for d in disks] == [
        ("sda", "sata", False), ("sdb", "sata", True), ("sdc", "usb", False)]
    assert plan_disk(disks, "sdc", MIN).lines_de() == [
        "Ziel: /dev/sda, 250 GB (Samsung SSD 860 EVO 250GB) – die SSD, schneller als eine drehende Festplatte. "
        "Alles darauf wird gelöscht.",
        "Unberührt bleibt: /dev/sdb, 1000 GB (ST1000LM035-1RK172), drehend, 1 Partition: NTFS."]
    finding = install_disk_finding(disks, "sdc")
    assert (finding.status, finding.value) == ("ok", "/dev/sda, 250 GB (Samsung SSD 860 EVO 250GB) – the SSD, faster "
                                                     "than a spinning disk")


def test_of_two_ssds_the_one_with_the_old_system_is_taken(tmp_path):
    disks = read(tmp_path,
                 disk("nvme0n1", NVME, block=f"{NVME}/nvme0n1", gb=512, model="WDC PC SN530 SDBPNPZ-512G"),
                 disk("sda", SATA.format(n=1, h=0), gb=128, model="SanDisk SD8SNAT128G", parts=WINDOWS),
                 disk("sdb", USB.format(port=1, h=2), gb=8, removable=1, model="Cruzer Blade"))
    assert plan_disk(disks, "sdb", MIN).lines_de() == [
        "Ziel: /dev/sda, 128 GB (SanDisk SD8SNAT128G) – die SSD mit dem bisherigen System (3 Partitionen: EFI, "
        "NTFS). Alles darauf wird gelöscht.",
        "Unberührt bleibt: /dev/nvme0n1, 512 GB (WDC PC SN530 SDBPNPZ-512G), ohne Partitionen."]


def test_a_virtual_machine_installs_onto_its_virtio_disk(tmp_path):
    disks = read(tmp_path, disk("vda", VIRTIO, gb=20),
                 disk("sda", USB.format(port=1, h=0), gb=2, removable=1, model="QEMU HARDDISK"))
    assert [(d.name, d.transport) for d in disks] == [("sda", "usb"), ("vda", "virtio")]
    assert plan_disk(disks, "sda", MIN).lines_de() == ["Ziel: /dev/vda, 20 GB. Alles darauf wird gelöscht."]
    # tests/vm/test_stick.py reads this on the unknown device's screen
    assert install_disk_finding(disks, "sda").value_de == "/dev/vda, 20 GB"


def test_a_usb_disk_that_says_it_is_not_removable_is_never_the_target(tmp_path):
    # an SSD in a USB case, with partitions, beside the laptop's empty spinning disk: by the ranking alone it would win
    disks = read(tmp_path,
                 disk("sda", SATA.format(n=1, h=0), gb=500, rotational=1, model="HGST HTS545050A7E680"),
                 disk("sdb", USB.format(port=3, h=1), gb=1000, removable=0, model="Portable SSD T5", parts=WINDOWS[2:]),
                 disk("sdc", USB.format(port=1, h=2), gb=8, removable=1, model="Cruzer Blade"))
    assert [(d.name, d.transport, d.removable) for d in disks] == [
        ("sda", "sata", False), ("sdb", "usb", False), ("sdc", "usb", True)]
    assert plan_disk(disks, "sdc", MIN).lines_de() == [
        "Ziel: /dev/sda, 500 GB (HGST HTS545050A7E680). Alles darauf wird gelöscht.",
        "Unberührt bleibt: /dev/sdb, 1000 GB (Portable SSD T5), USB-Laufwerk."]
    # nor when the stick's own disk is unknown (stick_disk found none): it is on USB too
    assert choose_disk(disks, None, MIN)[0].name == "sda"


def test_a_laptop_without_its_disk_says_plainly_that_nothing_would_do(tmp_path):
    disks = read(tmp_path,
                 disk("loop0", "virtual/block/loop0", block="virtual/block/loop0", gb=1),
                 disk("mmcblk0", SD_READER, gb=32, mmc=("SD", "SL32G")),
                 STICK,
                 disk("sr0", SATA.format(n=2, h=1), sectors=2097151, removable=1, model="DVD-RAM UJ8C2"))
    choice = plan_disk(disks, "sda", MIN)
    assert choice.disk is None
    assert choice.why_de == "Keine eingebaute Festplatte gefunden. Nie ein Ziel: /dev/mmcblk0, 32 GB (SL32G), SD-Karte."
    finding = install_disk_finding(disks, "sda")
    assert (finding.status, finding.value_de, finding.reason_de) == ("fail", "keine passende eingebaute Festplatte",
                                                                     choice.why_de)


@pytest.mark.parametrize("name, path, mmc_type, expected", [
    ("nvme0n1", f"/sys/devices/{NVME}/nvme0n1", "", "nvme"),
    ("sda", f"/sys/devices/{SATA.format(n=1, h=0)}/block/sda", "", "sata"),
    ("sda", f"/sys/devices/{USB.format(port=1, h=0)}/block/sda", "", "usb"),
    ("vda", f"/sys/devices/{VIRTIO}/block/vda", "", "virtio"),
    ("sda", "/sys/devices/pci0000:00/0000:00:05.0/virtio2/host2/target2:0:0/2:0:0:0/block/sda", "", "virtio"),
    ("mmcblk0", f"/sys/devices/{EMMC}/block/mmcblk0", "MMC", "emmc"),
    ("mmcblk1", f"/sys/devices/{SD_SLOT}/block/mmcblk1", "SD", "sd"),
    ("mmcblk1", f"/sys/devices/{SD_SLOT}/block/mmcblk1", "", "sd"),  # an MMC card that does not say: not eMMC
    ("sdb", "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0/host3/target3:0:0/3:0:0:0/block/sdb", "", "usb"),
    ("sda", "/sys/devices/pci0000:00/0000:00:1f.2/host0/target0:0:0/0:0:0:0/block/sda", "", ""),  # SAS, SCSI: unsaid
])
def test_how_a_disk_is_attached_is_read_from_its_sysfs_path(name, path, mmc_type, expected):
    assert transport(name, path, mmc_type) == expected


SSD = Disk("sda", 256 * GB, False, "SSD", transport="sata")
HDD = Disk("sdb", 1000 * GB, False, "HDD", rotational=True, transport="sata",
           partitions=(Partition("sdb1", 1000 * GB, "ntfs"),))
OLD_NVME = Disk("nvme0n1", 256 * GB, False, transport="nvme", partitions=(Partition("nvme0n1p1", GB, esp=True),))
EMPTY_NVME = Disk("nvme1n1", 256 * GB, False, transport="nvme")


@pytest.mark.parametrize("disks, chosen, why_de", [
    ([HDD, SSD], "sda", "die SSD, schneller als eine drehende Festplatte"),
    ([EMPTY_NVME, OLD_NVME], "nvme0n1", "die NVMe-SSD mit dem bisherigen System (1 Partition: EFI)"),
    ([SSD, EMPTY_NVME], "nvme1n1",
     "die NVMe-SSD; die eingebauten Festplatten sind gleichwertig, genommen wird die erste nach Namen"),
    ([HDD, SSD, EMPTY_NVME, OLD_NVME], "nvme0n1", "die NVMe-SSD mit dem bisherigen System (1 Partition: EFI)"),
    ([Disk("mmcblk0", 8 * GB, False, transport="emmc"), HDD], "sdb", "die einzige eingebaute Festplatte mit "
                                                                     "mindestens 16 GB"),
    ([Disk("sda", 64 * GB, False), Disk("sdb", 64 * GB, False, transport="sd")], "sda", ""),
])
def test_of_several_internal_disks_the_rule_chooses_and_says_why(disks, chosen, why_de):
    assert choose_disk(disks, "sdz", MIN) == (next(d for d in disks if d.name == chosen), why_de)


def test_the_disks_left_alone_are_named_with_what_they_are():
    small = Disk("mmcblk0", 8 * GB, False, "DF4008", transport="emmc")
    choice = plan_disk([small, HDD, Disk("mmcblk1", 32 * GB, False, transport="sd")], None, MIN)
    assert choice.lines_de() == [
        "Ziel: /dev/sdb, 1000 GB (HDD) – die einzige eingebaute Festplatte mit mindestens 16 GB. Alles darauf wird "
        "gelöscht.",
        "Unberührt bleiben: /dev/mmcblk0, 8 GB (DF4008), zu klein, ohne Partitionen; /dev/mmcblk1, 32 GB, SD-Karte."]
