"""The triage of a real donated laptop's parts: the CPU the shipped Qt needs (checked against the wheel itself under
qemu-user)."""

import importlib.util
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
from provisioning.cli import main
from tests.requirements import need, need_tool

MACHINES = Path(__file__).parent / "data" / "machines"
TODAY = date(2026, 11, 27)
PLENTY = 50 * 1024 ** 3


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


def _found(result: Result) -> dict[str, Finding]:
    return {f.name: f for f in result.findings}
