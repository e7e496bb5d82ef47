"""The device root every stick carries (and so every device gets), audited as built: firmware for the chip families
of donated laptops, the signed boot chain, and the apt sources that bring security fixes and firmware.

Reads the cached machine root that `palim-provision image` builds (provisioning/rootfs.py); builds it when the cache
has none. The firmware check asks the root's own kernel modules what they load (`modinfo -b ROOT -k KVER -F
firmware`), so a new kernel naming new files is checked as it is, not against a list copied from here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provisioning import firmware, rootfs
from tests.requirements import need
from tests.system import appliance as ap
from tests.vm import stick as st
from tests.vm.test_stick import host_problem

pytestmark = pytest.mark.vm


@pytest.fixture(scope="module")
def machine_root() -> Path:
    problem = host_problem()
    need(problem is None, f"the device root cannot be built on this host: {problem}")
    need(shutil.which("modinfo"), "modinfo is not installed (install the Debian package kmod)")
    st.WORK.mkdir(parents=True, exist_ok=True)
    root, _ = rootfs.ensure_machine(rootfs.Log(st.WORK / "device-root.log"), st.CACHE, ap.MIRROR)
    return root


@pytest.fixture(scope="module")
def kernel(machine_root) -> str:
    found = firmware.kernels(machine_root)
    assert len(found) == 1, f"the device root should hold one kernel, not {found}"
    return found[0]


def test_every_chip_family_of_the_table_has_its_firmware(machine_root, kernel):
    results = firmware.audit(machine_root, firmware.modinfo_firmware(machine_root, kernel))
    lacking = [f"{r.family.name}: modules missing {r.missing_modules}" if r.missing_modules else
               f"{r.family.name}: none of {r.declared} firmware files" for r in results if not r.ok]
    assert not lacking, "\n".join(lacking)
    st.REPORT.append("firmware audit: " + "; ".join(f"{r.family.name} {len(r.present)}/{r.declared}"
                                                    for r in results))


def test_the_audit_fails_a_root_without_firmware(machine_root, kernel, tmp_path):
    """The same modules against a root whose /lib/firmware is empty: every family fails (the audit can fail)."""
    results = firmware.audit(tmp_path, firmware.modinfo_firmware(machine_root, kernel))
    assert results and not any(r.ok for r in results)


def test_the_root_carries_debians_signed_boot_chain_and_grub_for_32_bit_uefi(machine_root):
    for path in ("usr/lib/shim/shimx64.efi.signed", "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
                 "usr/lib/grub/i386-efi/modinfo.sh", "usr/lib/grub/i386-pc/modinfo.sh"):
        assert (machine_root / path).is_file(), path
    assert list((machine_root / "boot").glob("vmlinuz-*")), "no kernel"


def test_the_roots_apt_sources_bring_security_fixes_and_firmware(machine_root):
    lines = [line.split() for line in (machine_root / "etc/apt/sources.list").read_text().splitlines()
             if line.startswith("deb ")]
    suites = {line[2]: line[3:] for line in lines}
    assert set(suites) == {"bookworm", "bookworm-updates", "bookworm-security"}
    assert all(components == ["main", "non-free-firmware"] for components in suites.values())
