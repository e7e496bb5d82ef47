"""The triage of a real donated laptop's parts: the CPU the shipped Qt needs (checked against the wheel itself under
qemu-user), Wi-Fi, graphics, sound, and a portrait panel the kiosk turns.

The sysfs trees here are laid out as the kernel does, with its links (sys/class/net/wlp4s0 -> ../../devices/...,
device/driver -> .../bus/pci/drivers/iwlwifi); data/machines holds copies, where the links became folders.
"""

import importlib.util
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from provisioning.check import CPU_FLAGS_REQUIRED, Finding, Result, check
from provisioning.firmware import declared_firmware
from provisioning.cli import main
from tests.requirements import need, need_tool

MACHINES = Path(__file__).parent / "data" / "machines"
TODAY = date(2026, 11, 27)
PLENTY = 50 * 1024 ** 3
EDID = (MACHINES / "good-laptop/sys/class/drm/card0-eDP-1/edid").read_bytes()  # a 13.2" panel


# --------------------------------------------------------------------------- the CPU the shipped Qt needs

# Qt's names for CPU features (qsimd's "This Qt build requires the following features:") as /proc/cpuinfo has them.
QT_TO_CPUINFO = {
    "sse2": "sse2", "sse3": "pni", "ssse3": "ssse3", "sse4.1": "sse4_1", "sse4.2": "sse4_2", "popcnt": "popcnt",
    "cx16": "cx16", "lahf": "lahf_lm", "sahf": "lahf_lm", "movbe": "movbe", "aes": "aes", "pclmul": "pclmulqdq",
    "avx": "avx", "f16c": "f16c", "fma": "fma", "rdrnd": "rdrand", "bmi": "bmi1", "bmi1": "bmi1", "bmi2": "bmi2",
    "lzcnt": "abm", "avx2": "avx2", "rdseed": "rdseed", "sha": "sha_ni", "xsave": "xsave", "avx512f": "avx512f",
    "avx512cd": "avx512cd", "avx512bw": "avx512bw", "avx512dq": "avx512dq", "avx512vl": "avx512vl",
}
# A processor with none of the features beyond x86-64's baseline (SSE2): Qt names every one it needs.
BARE_CPU = "qemu64,-pni,-ssse3,-sse4.1,-sse4.2,-popcnt,-cx16,-lahf-lm,-abm,-sse4a"


def _qt_on(cpu: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Import the .venv's PyQt6 (the wheel the stick ships) on an emulated processor."""
    need(platform.machine() == "x86_64", "the Qt wheel under qemu-x86_64 needs an x86_64 host and its wheel")
    need(importlib.util.find_spec("PyQt6") is not None, "PyQt6 is not installed in .venv (./scripts/setup does it)")
    qemu = need_tool("qemu-x86_64", apt="qemu-user")
    return subprocess.run([qemu, "-cpu", cpu, sys.executable, "-c", "from PyQt6 import QtCore; print('started')"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))  # no qemu core file


def _named_features(proc: subprocess.CompletedProcess) -> list[str]:
    out = proc.stdout + proc.stderr
    m = re.search(r"requires the following features:\s*\n\s*(.+)", out)
    assert proc.returncode != 0 and m, f"Qt did not refuse the processor (rc {proc.returncode}):\n{out}"
    unknown = [f for f in m.group(1).split() if f not in QT_TO_CPUINFO]
    assert not unknown, f"Qt names {unknown}: add their /proc/cpuinfo names to QT_TO_CPUINFO"
    return [QT_TO_CPUINFO[f] for f in m.group(1).split()]


def test_the_shipped_qt_stops_on_a_core_2_and_the_check_requires_what_qt_names(tmp_path):
    proc = _qt_on("Penryn", tmp_path)
    named = _named_features(proc)
    assert "started" not in proc.stdout
    assert named and set(named) <= set(CPU_FLAGS_REQUIRED), named
    cpu = _cpu_finding(tmp_path, CORE2_PENRYN)
    assert cpu.status == "fail"
    assert all(flag.upper().replace("_", ".") in cpu.reason for flag in named), (named, cpu.reason)


def test_the_check_requires_exactly_what_the_shipped_qt_requires(tmp_path):
    """Every feature Qt needs (or the kiosk aborts after the disk was erased), and no more (or good laptops are
    turned away)."""
    assert set(_named_features(_qt_on(BARE_CPU, tmp_path))) == set(CPU_FLAGS_REQUIRED)


def test_the_shipped_qt_starts_on_a_nehalem(tmp_path):
    proc = _qt_on("Nehalem", tmp_path)
    assert proc.returncode == 0 and "started" in proc.stdout, proc.stderr
    assert _cpu_finding(tmp_path, NEHALEM_I5).status == "ok"


def cpuinfo(vendor: str, family: int, model: int, name: str, threads: int, flags: str) -> str:
    return "\n".join(f"processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\n"
                     f"model name\t: {name}\nstepping\t: 10\ncpu MHz\t\t: 1600.000\ncache size\t: 3072 KB\n"
                     f"physical id\t: 0\nsiblings\t: {threads}\ncore id\t\t: {i}\ncpu cores\t: {threads}\n"
                     f"fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\nflags\t\t: {flags}\n"
                     for i in range(threads))


CORE2_PENRYN = cpuinfo(
    "GenuineIntel", 6, 23, "Intel(R) Core(TM)2 Duo CPU     P8600  @ 2.40GHz", 2,
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht "
    "tm pbe syscall nx lm constant_tsc arch_perfmon pebs bts rep_good nopl cpuid aperfmperf pni dtes64 monitor ds_cpl "
    "vmx smx est tm2 ssse3 cx16 xtpr pdcm sse4_1 xsave lahf_lm pti tpr_shadow vnmi flexpriority vpid dtherm ida")
ATOM_N270 = cpuinfo(
    "GenuineIntel", 6, 28, "Intel(R) Atom(TM) CPU N270   @ 1.60GHz", 2,
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat clflush dts acpi mmx fxsr sse sse2 ss ht tm "
    "pbe nx constant_tsc arch_perfmon pebs bts cpuid aperfmperf pni dtes64 monitor ds_cpl est tm2 ssse3 xtpr pdcm "
    "movbe lahf_lm dtherm")
ATOM_N450 = cpuinfo(
    "GenuineIntel", 6, 28, "Intel(R) Atom(TM) CPU N450   @ 1.66GHz", 2,
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat clflush dts acpi mmx fxsr sse sse2 ss ht tm "
    "pbe syscall nx lm constant_tsc arch_perfmon pebs bts nopl cpuid aperfmperf pni dtes64 monitor ds_cpl est tm2 "
    "ssse3 cx16 xtpr pdcm movbe lahf_lm dtherm")
ATHLON_II = cpuinfo(
    "AuthenticAMD", 16, 6, "AMD Athlon(tm) II X2 250 Processor", 2,
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx "
    "mmxext fxsr_opt pdpe1gb rdtscp lm 3dnowext 3dnow constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid pni "
    "monitor cx16 popcnt lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs "
    "skinit wdt hw_pstate vmmcall npt lbrv svm_lock nrip_save")
NEHALEM_I5 = cpuinfo(
    "GenuineIntel", 6, 30, "Intel(R) Core(TM) i5 CPU         750  @ 2.67GHz", 4,
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht "
    "tm pbe syscall nx rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid "
    "aperfmperf pni dtes64 monitor ds_cpl vmx smx est tm2 ssse3 cx16 xtpr pdcm sse4_1 sse4_2 popcnt lahf_lm pti ssbd "
    "ibrs ibpb stibp tpr_shadow vnmi flexpriority ept vpid dtherm ida flush_l1d")
BAYTRAIL_Z3735F = cpuinfo(
    "GenuineIntel", 6, 55, "Intel(R) Atom(TM) CPU  Z3735F @ 1.33GHz", 4,
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht "
    "tm pbe syscall nx rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid "
    "aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm sse4_1 sse4_2 "
    "movbe popcnt tsc_deadline_timer rdrand lahf_lm 3dnowprefetch epb pti ibrs ibpb stibp tpr_shadow vnmi "
    "flexpriority ept vpid tsc_adjust smep erms dtherm ida arat")


def _cpu_finding(tmp_path: Path, info: str) -> Finding:
    root = tmp_path / "cpu"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(MACHINES / "good-laptop", root)
    (root / "proc/cpuinfo").write_text(info)
    threads = info.count("processor\t:")
    (root / "sys/devices/system/cpu/online").write_text(f"0-{threads - 1}\n")
    return _found(check(root, today=TODAY, free_bytes=PLENTY))["cpu"]


@pytest.mark.parametrize("info, missing", [
    (CORE2_PENRYN, "SSE4.2, POPCNT"),
    (ATOM_N450, "SSE4.1, SSE4.2, POPCNT"),
    (ATHLON_II, "SSSE3, SSE4.1, SSE4.2"),
], ids=["core2-penryn", "atom-n450", "athlon-ii"])
def test_a_processor_the_shipped_qt_refuses_is_unsuitable(tmp_path, info, missing):
    cpu = _cpu_finding(tmp_path, info)
    assert cpu.status == "fail"
    assert cpu.reason.startswith(f"lacks {missing}: the kiosk's Qt is built for x86-64-v2")
    assert cpu.reason_de == f"Prozessor zu alt: der Kiosk startet darauf nicht (ihm fehlt: {missing})"


def test_a_32_bit_atom_is_unsuitable_for_being_32_bit(tmp_path):
    cpu = _cpu_finding(tmp_path, ATOM_N270)
    assert cpu.status == "fail" and "64-bit" in cpu.reason and "nur 32 Bit" in cpu.reason_de


@pytest.mark.parametrize("info, model", [(NEHALEM_I5, "Core(TM) i5 CPU 750"), (BAYTRAIL_Z3735F, "Z3735F")],
                         ids=["nehalem-i5", "baytrail-z3735f"])
def test_an_x86_64_v2_processor_with_four_cores_is_fine(tmp_path, info, model):
    cpu = _cpu_finding(tmp_path, info)
    assert cpu.status == "ok" and cpu.value.startswith("4 cores, ") and model in cpu.value, cpu


def test_the_help_names_the_flags(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert "SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT (x86-64-v2" in capsys.readouterr().out


# --------------------------------------------------------------------------- a sysfs tree as the kernel lays it out

def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(target, link.parent))


def _put(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


class Sysfs:
    """A machine: the good laptop's memory, CPU, disk, camera and battery; Wi-Fi, graphics and sound as a test adds
    them (with the kernel's links)."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(MACHINES / "good-laptop", root)
        for part in ("sys/class/net", "sys/bus", "sys/class/drm"):
            shutil.rmtree(root / part)
        self.sys = root / "sys"

    def _bind(self, dev: Path, bus: str, driver: str | None, module: str | None) -> None:
        if driver:
            drv = self.sys / "bus" / bus / "drivers" / driver
            drv.mkdir(parents=True, exist_ok=True)
            _link(dev / "driver", drv)
            if module and not (drv / "module").exists():
                (self.sys / "module" / module).mkdir(parents=True, exist_ok=True)
                _link(drv / "module", self.sys / "module" / module)
        _put(dev / "uevent", f"DRIVER={driver}\n" if driver else "")

    def pci(self, slot: str, klass: str, ident: str, driver: str | None = None, module: str | None = None) -> Path:
        dev = self.sys / "devices/pci0000:00" / slot
        vendor, device = ident.split(":")
        _put(dev / "class", f"{klass}\n")
        _put(dev / "vendor", f"0x{vendor}\n")
        _put(dev / "device", f"0x{device}\n")
        self._bind(dev, "pci", driver, module)
        _link(self.sys / "bus/pci/devices" / slot, dev)
        return dev

    def sdio(self, name: str, klass: str, ident: str, driver: str | None = None, module: str | None = None) -> Path:
        dev = self.sys / "devices/pci0000:00/0000:00:1e.3/mmc_host/mmc1" / name.split(":")[0] / name
        vendor, device = ident.split(":")
        _put(dev / "class", f"{klass}\n")
        _put(dev / "vendor", f"0x{vendor}\n")
        _put(dev / "device", f"0x{device}\n")
        self._bind(dev, "sdio", driver, module)
        _link(self.sys / "bus/sdio/devices" / name, dev)
        return dev

    def usb(self, interface: str, ident: str, driver: str | None = None) -> Path:
        dev = self.sys / "devices/pci0000:00/0000:00:14.0/usb1" / interface.split(":")[0] / interface
        vendor, product = ident.upper().split(":")
        _put(dev / "modalias", f"usb:v{vendor}p{product}d0200dc00dsc00dp00icFFiscFFipFFin00\n")
        self._bind(dev, "usb", driver, None)
        _link(self.sys / "bus/usb/devices" / interface, dev)
        return dev

    def netdev(self, dev: Path, name: str, wireless: bool) -> None:
        net = dev / "net" / name
        _put(net / "type", "1\n")
        _put(net / "uevent", ("DEVTYPE=wlan\n" if wireless else "") + f"INTERFACE={name}\n")
        if wireless:
            (net / "wireless").mkdir()
            _put(dev / "ieee80211/phy0/name", "phy0\n")
            _link(net / "phy80211", dev / "ieee80211/phy0")
        _link(net / "device", dev)
        _link(self.sys / "class/net" / name, net)

    def virtual_netdev(self, name: str) -> None:
        _put(self.sys / "devices/virtual/net" / name / "type", "772\n" if name == "lo" else "1\n")
        _link(self.sys / "class/net" / name, self.sys / "devices/virtual/net" / name)

    def rfkill(self, kind: str, hard: int) -> None:
        node = self.sys / "devices/rfkill0"
        _put(node / "type", f"{kind}\n")
        _put(node / "hard", f"{hard}\n")
        _link(self.sys / "class/rfkill/rfkill0", node)

    def drm(self, dev: Path, card: str, *connectors: str, mode: str = "1920x1080") -> None:
        node = dev / "drm" / card
        node.mkdir(parents=True)
        _link(node / "device", dev)
        _link(self.sys / "class/drm" / card, node)
        for connector in connectors:
            conn = node / f"{card}-{connector}"
            _put(conn / "status", "connected\n")
            _put(conn / "modes", f"{mode}\n")
            _put(conn / "edid", EDID)
            _link(self.sys / "class/drm" / conn.name, conn)

    def platform(self, name: str, driver: str) -> Path:
        dev = self.sys / "devices/platform" / name
        dev.mkdir(parents=True)
        self._bind(dev, "platform", driver, None)
        return dev

    def firmware(self, *names: str) -> None:
        (self.root / "lib/firmware").mkdir(parents=True, exist_ok=True)
        for name in names:
            _put(self.root / "lib/firmware" / name, b"\0")

    def check(self, **kw) -> Result:
        result = check(self.root, today=TODAY, free_bytes=PLENTY, **kw)
        _assert_german(result)
        return result


def _found(result: Result) -> dict[str, Finding]:
    return {f.name: f for f in result.findings}


def _assert_german(result: Result) -> None:
    for f in result.findings:
        assert bool(f.reason) == bool(f.reason_de), f
        assert f.value_de or (f.name in {"camera", "microphone", "speaker", "touch", "wifi", "graphics"}
                              and f.value != "none"), f


@pytest.fixture
def machine(tmp_path) -> Sysfs:
    """The good laptop's Intel graphics and panel, and its sound; no network device yet."""
    m = Sysfs(tmp_path / "m")
    m.virtual_netdev("lo")
    m.drm(m.pci("0000:00:02.0", "0x030000", "8086:5916", "i915", "i915"), "card0", "eDP-1", "HDMI-A-1")
    return m


# --------------------------------------------------------------------------- Wi-Fi

def test_a_working_wi_fi_interface_is_fine(machine):
    machine.netdev(machine.pci("0000:04:00.0", "0x028000", "8086:24fd", "iwlwifi", "iwlwifi"), "wlp4s0", True)
    machine.virtual_netdev("docker0")  # no hardware: neither Wi-Fi nor Ethernet
    result = machine.check()
    wifi = _found(result)["wifi"]
    assert (wifi.status, wifi.value) == ("ok", "wlp4s0 (iwlwifi)")
    assert result.verdict == "suitable"
    assert "  ok    wifi        wlp4s0 (iwlwifi)" in result.lines()
    assert "  gut        WLAN            wlp4s0 (iwlwifi)" in result.lines_de()


def test_wi_fi_switched_off_by_its_switch_is_a_note(machine):
    machine.netdev(machine.pci("0000:04:00.0", "0x028000", "8086:24fd", "iwlwifi", "iwlwifi"), "wlp4s0", True)
    machine.rfkill("wlan", 1)
    wifi = _found(machine.check())["wifi"]
    assert wifi.status == "note" and "Wi-Fi switch" in wifi.reason and "WLAN-Schalter" in wifi.reason_de


def test_a_wi_fi_chip_whose_firmware_is_missing_fails_without_ethernet(machine):
    machine.pci("0000:04:00.0", "0x028000", "8086:24fd", "iwlwifi", "iwlwifi")
    machine.firmware("regulatory.db")
    result = machine.check(firmware_names={"iwlwifi": ["iwlwifi-8265-36.ucode", "iwlwifi-8265-34.ucode"]})
    wifi = _found(result)["wifi"]
    assert wifi.status == "fail" and result.verdict == "unsuitable"
    assert wifi.value == "PCI 8086:24fd (iwlwifi), not working"
    assert wifi.reason == ("the Wi-Fi chip does not work (its driver iwlwifi has no firmware in /lib/firmware): the "
                           "kiosk gets no network; add a USB Wi-Fi adapter and check again")
    assert wifi.reason_de == ("der WLAN-Chip funktioniert nicht (dem Treiber iwlwifi fehlt seine Firmware): der Kiosk "
                              "bekommt kein Netz; einen USB-WLAN-Stick anschließen und erneut prüfen")
    assert "  - WLAN: der WLAN-Chip funktioniert nicht (dem Treiber iwlwifi fehlt seine Firmware): der Kiosk bekommt " \
           "kein Netz; einen USB-WLAN-Stick anschließen und erneut prüfen" in result.lines_de()


def test_firmware_that_is_there_compressed_counts(machine):
    machine.pci("0000:04:00.0", "0x028000", "8086:24fd", "iwlwifi", "iwlwifi")
    machine.firmware("iwlwifi-8265-34.ucode.xz")
    wifi = _found(machine.check(firmware_names={"iwlwifi": ["iwlwifi-8265-36.ucode", "iwlwifi-8265-34.ucode"]}))["wifi"]
    assert wifi.status == "fail"
    assert "(driver iwlwifi loaded, but no network interface; firmware missing or too old?)" in wifi.reason


def test_a_wi_fi_chip_without_driver_beside_ethernet_is_a_note(machine):
    machine.pci("0000:02:00.0", "0x028000", "14e4:4727")  # Broadcom BCM4313: only the non-free wl drives it
    machine.netdev(machine.pci("0000:00:19.0", "0x020000", "8086:1502", "e1000e", "e1000e"), "enp0s25", False)
    wifi = _found(machine.check())["wifi"]
    assert wifi.status == "note"
    assert wifi.value == "PCI 14e4:4727, not working, Ethernet enp0s25 (e1000e)"
    assert wifi.reason.startswith("the Wi-Fi chip does not work (no driver): only Ethernet works")
    assert wifi.value_de == "PCI 14e4:4727, funktioniert nicht, Netzwerkkabel enp0s25 (e1000e)"


def test_ethernet_only_is_a_note(machine):
    machine.netdev(machine.pci("0000:00:19.0", "0x020000", "8086:1502", "e1000e", "e1000e"), "enp0s25", False)
    result = machine.check()
    wifi = _found(result)["wifi"]
    assert (wifi.status, wifi.value) == ("note", "none, Ethernet enp0s25 (e1000e)")
    assert wifi.reason == "no Wi-Fi, only Ethernet: needs a network cable to the bed, or a USB Wi-Fi adapter"
    assert result.verdict == "suitable with notes"


def test_no_network_device_at_all_fails(machine):
    wifi = _found(machine.check())["wifi"]
    assert (wifi.status, wifi.value, wifi.value_de) == ("fail", "none", "nicht gefunden")
    assert wifi.reason == "no network device: add a USB Wi-Fi adapter and check again"


def test_a_tablets_sdio_wi_fi_bound_without_interface_names_its_module(machine):
    """Bay Trail tablets: rtl8723bs on SDIO; the driver is rtl8723bs, its module r8723bs (what modinfo knows)."""
    machine.sdio("mmc1:0001:1", "0x07", "024c:b723", "rtl8723bs", "r8723bs")
    machine.firmware("rtlwifi/rtl8723bs_nic.bin")
    wifi = _found(machine.check(firmware_names={"r8723bs": ["rtlwifi/rtl8723bs_nic.bin"]}))["wifi"]
    assert wifi.status == "fail" and wifi.value == "SDIO 024c:b723 (rtl8723bs), not working"
    assert "driver rtl8723bs loaded, but no network interface" in wifi.reason
    machine.firmware()
    (machine.root / "lib/firmware/rtlwifi/rtl8723bs_nic.bin").unlink()
    wifi = _found(machine.check(firmware_names={"r8723bs": ["rtlwifi/rtl8723bs_nic.bin"]}))["wifi"]
    assert "its driver rtl8723bs has no firmware" in wifi.reason


def test_a_usb_wi_fi_adapter_without_interface_is_found_by_its_driver(machine):
    machine.usb("1-2:1.0", "0bda:8179", "r8188eu")
    wifi = _found(machine.check())["wifi"]
    assert wifi.status == "fail" and wifi.value == "USB 0bda:8179 (r8188eu), not working"


def test_a_working_usb_adapter_makes_up_for_a_broken_chip(machine):
    machine.pci("0000:02:00.0", "0x028000", "14e4:4727")
    machine.netdev(machine.usb("1-2:1.0", "0bda:8179", "rtl8xxxu"), "wlx00e04c", True)
    assert _found(machine.check())["wifi"].value == "wlx00e04c (rtl8xxxu)"


def test_a_chip_whose_interface_hangs_below_a_child_device_works(machine):
    """Broadcom's bcma bridge: the PCI chip's netdev belongs to its child bcma0:1, not to the chip."""
    chip = machine.pci("0000:02:00.0", "0x028000", "14e4:4727", "bcma-pci-bridge", "bcma")
    child = chip / "bcma0:1"
    _put(child / "uevent", "DRIVER=brcmsmac\n")
    machine.netdev(child, "wlp2s0", True)
    (chip / "net").mkdir(exist_ok=True)  # the chip itself has none
    assert _found(machine.check())["wifi"].status == "ok"


def test_modinfo_on_the_live_machine(tmp_path):
    fake = _put(tmp_path / "modinfo", "#!/bin/sh\n[ \"$1 $2 $3\" = '-F firmware iwlwifi' ] || exit 1\n"
                                      "echo iwlwifi-8265-36.ucode\necho iwlwifi-8265-34.ucode\n")
    fake.chmod(0o755)
    assert declared_firmware("iwlwifi", command=str(fake)) == ["iwlwifi-8265-36.ucode", "iwlwifi-8265-34.ucode"]
    assert declared_firmware("nosuchmodule", command=str(fake)) is None
    assert declared_firmware("iwlwifi", command=str(tmp_path / "missing")) is None  # no kmod: firmware not judged


def test_a_captured_tree_without_firmware_names_does_not_guess(machine):
    machine.pci("0000:04:00.0", "0x028000", "8086:24fd", "iwlwifi", "iwlwifi")
    machine.firmware()  # lib/firmware is there, but nobody said what iwlwifi needs
    wifi = _found(machine.check())["wifi"]
    assert "firmware missing or too old?" in wifi.reason


# --------------------------------------------------------------------------- graphics

def test_a_graphics_driver_with_a_connector_is_fine(machine):
    gfx = _found(machine.check())["graphics"]
    assert (gfx.status, gfx.value) == ("ok", "i915 (eDP-1, HDMI-A-1)")


def test_an_amd_chip_without_its_firmware_fails(tmp_path):
    m = Sysfs(tmp_path / "m")
    m.pci("0000:01:00.0", "0x030000", "1002:6760", "radeon", "radeon")  # Radeon HD 6470M: radeon, no card
    m.firmware("i915/kbl_dmc_ver1_04.bin")
    result = m.check(firmware_names={"radeon": ["radeon/CAICOS_pfp.bin", "radeon/CAICOS_me.bin"]})
    gfx = _found(result)["graphics"]
    assert gfx.status == "fail" and result.verdict == "unsuitable"
    assert gfx.value == "PCI 1002:6760 (radeon), no picture"
    assert gfx.reason == ("graphics chip without a working driver (its driver radeon has no firmware in "
                          "/lib/firmware): the kiosk cannot show anything")
    assert gfx.reason_de == ("Grafikkarte ohne Treiber: der Kiosk kann nichts anzeigen (dem Treiber radeon fehlt "
                             "seine Firmware)")


def test_a_graphics_chip_without_driver_fails_even_with_the_firmwares_frame_buffer(tmp_path):
    m = Sysfs(tmp_path / "m")
    m.pci("0000:01:00.0", "0x030000", "1002:7340")
    m.drm(m.platform("simple-framebuffer.0", "simple-framebuffer"), "card0", "Unknown-1")
    gfx = _found(m.check())["graphics"]
    assert gfx.status == "fail" and gfx.value == "PCI 1002:7340, no picture" and "(no driver)" in gfx.reason
    assert gfx.reason_de == "Grafikkarte ohne Treiber: der Kiosk kann nichts anzeigen (kein Treiber)"


def test_only_the_firmwares_frame_buffer_is_a_note(tmp_path):
    m = Sysfs(tmp_path / "m")
    m.drm(m.platform("simple-framebuffer.0", "simple-framebuffer"), "card0", "Unknown-1")
    gfx = _found(m.check())["graphics"]
    assert gfx.status == "note" and "frame buffer" in gfx.reason


def test_an_undriven_second_gpu_does_not_matter(machine):
    """Optimus laptops: Intel draws the panel, the NVIDIA chip (3D controller) may have no driver."""
    machine.pci("0000:01:00.0", "0x030200", "10de:1c8d")
    assert _found(machine.check())["graphics"].status == "ok"


def test_no_graphics_at_all_fails(tmp_path):
    gfx = _found(Sysfs(tmp_path / "m").check())["graphics"]
    assert (gfx.status, gfx.value) == ("fail", "none") and "cannot show anything" in gfx.reason


# --------------------------------------------------------------------------- sound

def test_sound_found_in_sys_class_sound_alone_is_fine(machine):
    (machine.root / "proc/asound/pcm").unlink()
    for name in ("pcmC0D0p", "pcmC0D0c", "pcmC0D3p"):
        _put(machine.sys / "class/sound" / name / "dev", "116:3\n")
    _put(machine.sys / "class/sound/card0/id", "PCH\n")
    found = _found(machine.check())
    assert (found["speaker"].status, found["speaker"].value) == ("ok", "PCH")
    assert (found["microphone"].status, found["microphone"].value) == ("ok", "PCH")


def test_usb_speakers_only_when_there_is_no_sound_device(machine):
    (machine.root / "proc/asound/pcm").write_text("")
    speaker = _found(machine.check())["speaker"]
    assert (speaker.status, speaker.value) == ("fail", "none")
    assert speaker.reason == "no ALSA playback device: add USB speakers"  # as before
    assert speaker.reason_de == "kein ALSA-Wiedergabegerät: USB-Lautsprecher anschließen"


def test_a_sound_chip_that_gives_no_sound_is_named(machine):
    (machine.root / "proc/asound/pcm").write_text("")
    machine.pci("0000:00:1f.3", "0x040100", "8086:a0c8", "sof-audio-pci-intel-tgl", "snd_sof_pci_intel_tgl")
    speaker = _found(machine.check())["speaker"]
    assert speaker.status == "fail"
    assert speaker.reason == ("no ALSA playback device: add USB speakers; the sound chip PCI 8086:a0c8 gives no sound "
                              "(driver sof-audio-pci-intel-tgl loaded, but no sound device; firmware missing or too "
                              "old?)")
    assert speaker.reason_de.startswith("kein ALSA-Wiedergabegerät: USB-Lautsprecher anschließen; der Soundchip PCI "
                                        "8086:a0c8 gibt keinen Ton (Treiber sof-audio-pci-intel-tgl geladen")


def test_hdmi_sound_alone_stays_a_note(machine):
    (machine.root / "proc/asound/pcm").write_text("00-03: HDMI 0 : HDMI 0 : playback 1\n")
    assert _found(machine.check())["speaker"].status == "note"


# --------------------------------------------------------------------------- a portrait panel the kiosk turns

@pytest.fixture
def portrait(tmp_path) -> Sysfs:
    """A 10" tablet whose panel is 800x1280 (Bay Trail tablets, many convertibles' DSI panels)."""
    m = Sysfs(tmp_path / "m")
    m.drm(m.pci("0000:00:02.0", "0x030000", "8086:0f31", "i915", "i915"), "card0", "DSI-1", mode="800x1280")
    m.netdev(m.sdio("mmc1:0001:1", "0x07", "024c:b723", "rtl8723bs", "r8723bs"), "wlan0", True)
    return m


def test_a_portrait_panel_fails_unturned_and_says_how_to_turn_it(portrait):
    screen = _found(portrait.check())["screen"]
    assert screen.status == "fail" and screen.value == '13.2", 800x1280'
    assert screen.reason == ("below 1024x600: the kiosk's screens do not fit; a portrait panel: give the device "
                             "display: {rotate: 90} (or 270) in the device list and check with --rotate 90")
    assert "display: {rotate: 90}" in screen.reason_de
    assert _found(portrait.check(rotation=180))["screen"].status == "fail"


@pytest.mark.parametrize("rotation", [90, 270])
def test_a_portrait_panel_turned_to_landscape_passes(portrait, rotation):
    screen = _found(portrait.check(rotation=rotation))["screen"]
    assert screen.status == "ok"
    assert screen.value == f'13.2", 800x1280, turned {rotation}° (1280x800)'
    assert screen.value_de == f"13,2 Zoll, 800x1280, um {rotation}° gedreht (1280x800)"


def test_a_landscape_panel_turned_to_portrait_is_measured_so(machine, tmp_path):
    m = Sysfs(tmp_path / "l")
    m.drm(m.pci("0000:00:02.0", "0x030000", "8086:0166", "i915", "i915"), "card0", "LVDS-1", mode="1366x768")
    screen = _found(m.check(rotation=90))["screen"]
    assert screen.status == "fail" and "(768x1366)" in screen.value and "portrait" not in screen.reason
    with pytest.raises(ValueError, match="rotation"):
        m.check(rotation=45)


def test_the_cli_takes_the_rotation(portrait, capsys):
    assert main(["check", "--sysfs-root", str(portrait.root), "--rotate", "90"]) == 0
    assert "turned 90° (1280x800)" in capsys.readouterr().out
    assert main(["check", "--sysfs-root", str(portrait.root)]) == 1
    with pytest.raises(SystemExit) as info:
        main(["check", "--sysfs-root", str(portrait.root), "--rotate", "45"])
    assert info.value.code == 2
