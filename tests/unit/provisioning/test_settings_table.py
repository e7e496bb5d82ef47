"""One table of settings: KioskConfig declares each setting once (description, default, example, where it may be
set); the device list, its merge and docs/settings.md are derived from it. Every setting written at every level it
may be set at reaches the device's rendered kiosk config."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from kiosk.config import ANY_LEVEL, DEFAULTS, DERIVED, DEVICE, HOME, KioskConfig, config_from_text, setting_levels
from provisioning.bundle import render_bundle
from provisioning.cli import main
from provisioning.devicelist import INHERITED, MERGED, Defaults, Device, Home, load_file
from provisioning.settingsref import example, kiosk_rows, reference, rows

from .helpers import photo

ROOT = Path(__file__).resolve().parents[3]
# A list whose own values differ from every example, so a value found in the config came from the level under test.
BASE = {
    "version": 1,
    "defaults": {"server": "https://jitsi.example.net"},
    "brands": {"beispielstadt": {"name": "Hallo Familie!"}},
    "homes": {"ebh": {"name": "EBH"}},
    "devices": [{"id": "ebh-01", "home": "ebh", "resident": "Karl Bauer", "room": "palim-ztrcxt2gj4ooxf57vnkpbgxi37",
                 "match": {"mac": "3c:52:82:1a:2b:3c"}}],
}
LEVEL_PATH = {DEFAULTS: ("defaults",), HOME: ("homes", "ebh"), DEVICE: ("devices", 0)}


def _cases() -> list[tuple[str, str]]:
    """(key, level) for every kiosk setting and every option of a group, at every level it may be set at."""
    cases = []
    for key, where, info in kiosk_rows():
        name = key.split(".")[0]
        if setting_levels(name) == (DERIVED,) or name in MERGED and key.count(".") != 1:
            continue  # derived, a group's own row, or inside a group option's value (a contact's name)
        cases += [(key, level) for level in setting_levels(name)]
    return cases


def _example(key: str):
    name, _, option = key.partition(".")
    field = KioskConfig.model_fields[name]
    info = field.annotation.model_fields[option] if option else field
    value = example(info)
    assert value is not None, f"{key}: give it an example, Field(examples=[...]) in kiosk/config.py"
    return value


def _write(tmp_path: Path, key: str, level: str) -> Path:
    data = yaml.safe_load(yaml.safe_dump(BASE))
    place = data
    for part in LEVEL_PATH[level]:
        place = place[part]
    name, _, option = key.partition(".")
    place[name] = {option: _example(key)} if option else _example(key)
    if name == "home_photo":
        photo(tmp_path / _example(key))
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _expected(key: str):
    """The example as the kiosk's model holds it."""
    name, _, option = key.partition(".")
    base = {"server": "https://jitsi.example.net", "room": "palim-ztrcxt2gj4ooxf57vnkpbgxi37", "resident": "K"}
    if name == "brand":
        return "beispielstadt"
    value = {option: _example(key)} if option else _example(key)
    config = KioskConfig.model_validate({**base, name: value})
    return getattr(getattr(config, name), option) if option else getattr(config, name)


@pytest.mark.parametrize("key, level", _cases(), ids=[f"{k}@{lv}" for k, lv in _cases()])
def test_every_setting_from_every_level_reaches_the_device_kiosk_config(tmp_path, key, level):
    target = load_file(_write(tmp_path, key, level)).targets[0]
    files = {f.path: f.content for f in render_bundle(target, None).files}
    config = config_from_text(files["/etc/palim-kiosk/kiosk.yaml"].decode("utf-8"))
    name, _, option = key.partition(".")
    found = getattr(getattr(config, name), option) if option else getattr(config, name)
    if name == "brand":
        assert config.brand.id == "beispielstadt" and config.brand.name == "Hallo Familie!"
    elif name == "home_photo":  # scaled and put where the kiosk reads it
        assert found in files and found.startswith("/")
    else:
        assert found == _expected(key)


def test_each_level_gets_exactly_the_settings_marked_for_it():
    for level, model in ((DEFAULTS, Defaults), (HOME, Home), (DEVICE, Device)):
        marked = {name for name in KioskConfig.model_fields if level in setting_levels(name)}
        assert marked <= set(model.model_fields), level
        assert not {name for name in KioskConfig.model_fields if name not in marked} & set(model.model_fields) - {
            "home"}, level  # a device's home is its home's key, the kiosk's `home` is derived from it


def test_every_kiosk_setting_is_marked_and_the_merge_is_derived_from_the_marks():
    for name in KioskConfig.model_fields:
        assert setting_levels(name), f"{name}: mark where it may be set (set_at in kiosk/config.py)"
        assert set(setting_levels(name)) <= set(ANY_LEVEL) or setting_levels(name) == (DERIVED,)
    assert {"audio", "jitsi", "family", "presence"} <= set(MERGED)
    assert {"server", "admin_pin_hash", "resident", "home_photo"} <= set(INHERITED)
    assert not set(MERGED) & set(INHERITED)


def test_every_key_has_a_description():
    missing = [key for model, prefix in ((KioskConfig, ""), (Defaults, "defaults."), (Home, "homes.<key>."),
                                         (Device, "devices[]."))
               for key, info in rows(model, prefix) if not (info.description or "").strip()]
    assert missing == [], "give these a docstring under the field: " + ", ".join(missing)


def test_docs_settings_md_is_what_the_command_prints(capsys):
    assert main(["settings"]) == 0
    printed = capsys.readouterr().out
    assert printed == reference()
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == printed, (
        "docs/settings.md is stale: run 'palim-provision settings > docs/settings.md'")


def test_the_reference_names_every_key_an_admin_may_write():
    text = reference()
    for key in ("`admin_pin_hash`", "`audio.min_volume`", "`family.smtp.host`", "`defaults.reboot_time`",
                "`homes.<key>.wifi.ssid`", "`devices[].match.serial`", "`display.rotate`", "`brands.<key>.name`"):
        assert key in text
    assert "| `admin_pin_hash` | defaults, home, device |" in text


def test_readme_and_the_example_link_to_the_reference():
    assert "docs/settings.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    for example in ("provisioning/examples/devices.yaml", "examples/kiosk-real-server.yaml"):
        assert "docs/settings.md" in (ROOT / example).read_text(encoding="utf-8")


def test_a_setting_of_the_wrong_type_is_refused_where_it_is_written_even_without_devices(tmp_path):
    from provisioning.devicelist import DeviceListError

    data = yaml.safe_load(yaml.safe_dump(BASE))
    data["homes"]["leer"] = {"name": "Noch leer", "language": "fr", "tls_pins": "ab"}
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(DeviceListError) as info:
        load_file(path)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("homes.leer.language", "must be 'de', 'en', 'tr', 'ru' or 'pl'"),
        ("homes.leer.tls_pins", "must be a valid list")]
