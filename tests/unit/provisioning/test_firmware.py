"""The firmware audit's decisions on small roots made here (the audit of the real device root: tests/vm)."""

from __future__ import annotations

from pathlib import Path

from provisioning.firmware import DRIVER_TABLE, FIRMWARE_PACKAGES, ChipFamily, audit, kernels

WIFI = ChipFamily("Intel Wi-Fi", "wifi", "laptops", ("iwlwifi",))
SOF = ChipFamily("Intel SOF", "sound", "laptops", ("snd_sof_pci_intel_tgl",), extra=("intel/sof/**/sof-*.ri",))


def firmware(root: Path, *names: str) -> Path:
    for name in names:
        path = root / "lib/firmware" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"fw")
    return root


def declared(table: dict[str, list[str]]):
    return lambda module: table.get(module)


def test_a_family_with_one_of_its_files_present_passes(tmp_path):
    root = firmware(tmp_path, "iwlwifi-8265-36.ucode")
    [result] = audit(root, declared({"iwlwifi": ["iwlwifi-9000-pu-b0-jf-b0-77.ucode", "iwlwifi-8265-36.ucode"]}),
                     [WIFI])
    assert result.ok and result.present == ("iwlwifi-8265-36.ucode",) and result.declared == 2


def test_a_family_without_any_of_its_firmware_fails(tmp_path):
    root = firmware(tmp_path, "rtl_nic/rtl8168h-2.fw")
    [result] = audit(root, declared({"iwlwifi": ["iwlwifi-8265-36.ucode"]}), [WIFI])
    assert not result.ok and result.present == ()


def test_a_compressed_file_counts_as_the_kernel_loads_it(tmp_path):
    root = firmware(tmp_path, "iwlwifi-8265-36.ucode.xz")
    [result] = audit(root, declared({"iwlwifi": ["iwlwifi-8265-36.ucode"]}), [WIFI])
    assert result.ok


def test_a_module_the_kernel_lacks_fails_the_family_even_with_firmware(tmp_path):
    root = firmware(tmp_path, "iwlwifi-8265-36.ucode")
    [result] = audit(root, declared({}), [WIFI])
    assert not result.ok and result.missing_modules == ("iwlwifi",)


def test_firmware_a_driver_does_not_declare_is_found_by_the_familys_own_pattern(tmp_path):
    module = {"snd_sof_pci_intel_tgl": []}
    assert not audit(tmp_path, declared(module), [SOF])[0].ok
    [result] = audit(firmware(tmp_path, "intel/sof/intel-signed/sof-tgl.ri"), declared(module), [SOF])
    assert result.ok and result.present == ("intel/sof/**/sof-*.ri",)


def test_the_table_covers_the_donated_laptop_classes_and_their_packages_are_installed():
    parts = {family.part for family in DRIVER_TABLE}
    assert parts == {"wifi", "ethernet", "display", "sound"}
    modules = {m for family in DRIVER_TABLE for m in family.modules}
    for module in ("iwlwifi", "ath9k_htc", "ath10k_pci", "ath11k_pci", "brcmfmac", "mt7921e", "r8169", "i915",
                   "amdgpu", "radeon", "r8723bs", "snd_intel_sst_acpi"):
        assert module in modules
    assert any(m.startswith("rtw88_") for m in modules) and any(m.startswith("rtl8") for m in modules)
    assert "firmware-amd-graphics" in FIRMWARE_PACKAGES and "firmware-sof-signed" in FIRMWARE_PACKAGES


def test_kernels_are_the_module_folders_with_a_modules_dep(tmp_path):
    (tmp_path / "lib/modules/6.1.0-28-amd64").mkdir(parents=True)
    (tmp_path / "lib/modules/6.1.0-28-amd64/modules.dep").write_text("")
    (tmp_path / "lib/modules/6.1.0-9-amd64").mkdir(parents=True)  # a removed kernel's leftovers
    assert kernels(tmp_path) == ["6.1.0-28-amd64"]


def test_the_docs_name_every_family_and_package():
    docs = (Path(__file__).parents[3] / "docs" / "installer-stick.md").read_text()
    for family in DRIVER_TABLE:
        assert f"| {family.name} | " in docs, family.name
    for package in FIRMWARE_PACKAGES:
        assert package in docs, package
