"""Issue 16, item 2: every validated field refuses a value with anything around it, at the value's exact position.

Each field of the device list and of the kiosk config gets, in a YAML double-quoted string, a trailing line break,
a NUL, a lone surrogate and U+2028 (LINE SEPARATOR) after a value that is otherwise valid. The refusal must name
the file:line:col of that value (a lone surrogate is refused by the YAML parser itself, at the escape).
"""

from __future__ import annotations

import json

import pytest

from kiosk.config import ConfigError, config_from_text
from kiosk.staff import hash_pin
from provisioning.cli import main

PIN_HASH = hash_pin("730518")
PIN = "a" * 64
TAILS = {"newline": "\\n", "nul": "\\0", "surrogate": "\\ud800", "u2028": "\\u2028"}

# (path shown in the message, YAML with {v} where the value goes, the valid value)
LIST_FIELDS = [
    ("defaults.server", "defaults:\n  server: {v}\n", "https://konferenz.example.org"),
    ("defaults.language", "defaults:\n  language: {v}\n", "de"),
    ("defaults.support_contact", "defaults:\n  support_contact: {v}\n", "IT, 07223 935-000"),
    ("defaults.tls_pins[0]", "defaults:\n  tls_pins: [{v}]\n", PIN),
    ("defaults.admin_pin_hash", "defaults:\n  admin_pin_hash: {v}\n", PIN_HASH),
    ("defaults.reboot_time", "defaults:\n  reboot_time: {v}\n", "03:30"),
    ("defaults.brand", "defaults:\n  brand: {v}\n", "palim"),
    ("defaults.health.nightly_restart", "defaults:\n  health: {{nightly_restart: {v}}}\n", "03:00-04:00"),
    ("defaults.presence.url", "defaults:\n  presence: {{url: {v}}}\n", "https://k.example.org/size?room={room}"),
    ("defaults.family.smtp.sender", "defaults:\n  family: {{smtp: {{host: m.example.org, sender: {v}}}}}\n",
     "kiosk@example.org"),
    ("homes.ebh.name", "homes:\n  ebh:\n    name: {v}\n", "EBH"),
    ("homes.ebh.reboot_time", "homes:\n  ebh:\n    reboot_time: {v}\n", "04:00"),
    ("homes.ebh.wifi.ssid", "homes:\n  ebh:\n    wifi: {{ssid: {v}, psk_env: EBH_PSK}}\n", "EBH-Bewohner"),
    ("homes.ebh.wifi.psk_env", "homes:\n  ebh:\n    wifi: {{ssid: EBH, psk_env: {v}}}\n", "EBH_PSK"),
    ("devices[0].id", "devices:\n  - id: {v}\n", "ebh-01"),
    ("devices[0].home", "devices:\n  - home: {v}\n", "ebh"),
    ("devices[0].resident", "devices:\n  - resident: {v}\n", "Erna Müller"),
    ("devices[0].greeting_name", "devices:\n  - greeting_name: {v}\n", "Erna"),
    ("devices[0].room", "devices:\n  - room: {v}\n", "palim-l2hdeebeoie5kzya3mw4pgrmnb"),
    ("devices[0].match.mac", "devices:\n  - match: {{mac: {v}}}\n", "3c:52:82:1a:2b:3c"),
    ("devices[0].match.serial", "devices:\n  - match: {{serial: {v}}}\n", "5CG1234XYZ"),
    ("devices[0].label", "devices:\n  - label: {v}\n", "Zimmer 12"),
    ("devices[0].donor", "devices:\n  - donor: {v}\n", "Sparkasse"),
    ("devices[0].address", "devices:\n  - address: {v}\n", "10.20.0.11"),
    ("devices[0].family.contacts[0].email", "devices:\n  - family: {{contacts: [{{name: Anna, email: {v}}}]}}\n",
     "anna@example.org"),
    ("devices[0].family.contacts[0].ntfy.url",
     "devices:\n  - family: {{contacts: [{{name: Anna, ntfy: {{url: {v}}}}}]}}\n", "https://ntfy.example.org/t"),
]

BASE = {
    "defaults": "  server: https://konferenz.example.org\n",
    "homes": "  ebh:\n    name: EBH\n",
    "devices": ("  - id: ebh-01\n    home: ebh\n    resident: Erna Müller\n"
                "    room: palim-l2hdeebeoie5kzya3mw4pgrmnb\n    match: {mac: \"3c:52:82:1a:2b:3c\"}\n"),
}


def _merge(section: str, snippet: str) -> str:
    """The base device list with one section's first entry extended (or replaced key by key) by the snippet."""
    body = snippet.split("\n", 1)[1]
    lines = BASE[section].splitlines(keepends=True)
    if section == "devices":
        body = body.replace("  - ", "    ", 1)
        keys = {line.split(":")[0].strip() for line in body.splitlines()}
        kept = [line.replace("  - ", "    ", 1) for line in lines]
        merged = body + "".join(line for line in kept if line.split(":")[0].strip() not in keys)
        return "  - " + merged[4:]
    if section == "homes":
        body = body.split("\n", 1)[1]
        keys = {line.split(":")[0].strip() for line in body.splitlines()}
        return lines[0] + body + "".join(line for line in lines[1:] if line.split(":")[0].strip() not in keys)
    keys = {line.split(":")[0].strip() for line in body.splitlines()}
    return body + "".join(line for line in lines if line.split(":")[0].strip() not in keys)


def _device_list(snippet: str, value: str) -> str:
    section = snippet.split(":")[0]
    quoted = '"' + value + '"'
    parts = {name: (_merge(name, snippet.format(v=quoted)) if name == section else text)
             for name, text in BASE.items()}
    return "version: 1\n" + "".join(f"{name}:\n{text}" for name, text in parts.items())


def _where(text: str, marker: str, offset: int = 0) -> tuple[int, int]:
    index = text.index(marker)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1 + offset


def _validate(tmp_path, capsys, text: str) -> tuple[int, list[str]]:
    path = tmp_path / "devices.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", str(path), "--skip-secrets"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.splitlines()


def test_every_base_value_is_valid(tmp_path, capsys):
    for path, snippet, value in LIST_FIELDS:
        code, err = _validate(tmp_path, capsys, _device_list(snippet, json.dumps(value)[1:-1]))
        assert code == 0, (path, err)


@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("path, snippet, value", LIST_FIELDS, ids=[f[0] for f in LIST_FIELDS])
def test_a_device_list_value_with_anything_after_it_is_refused_at_its_position(tmp_path, capsys, path,
                                                                                snippet, value, tail):
    text = _device_list(snippet, json.dumps(value)[1:-1] + TAILS[tail])
    code, err = _validate(tmp_path, capsys, text)
    assert code == 2
    file = tmp_path / "devices.yaml"
    if tail == "surrogate":
        line, col = _where(text, "\\ud800", 2)
        assert err[0].startswith(f"{file}:{line}:{col}: not valid YAML"), err
    else:
        line, col = _where(text, '"' + json.dumps(value)[1:-1] + TAILS[tail] + '"')
        assert any(e.startswith(f"{file}:{line}:{col}: {path}: ") for e in err), (f"{line}:{col}", err)


CONFIG_BASE = {"server": "https://konferenz.example.org", "room": "palim-l2hdeebeoie5kzya3mw4pgrmnb",
               "resident": "Erna Müller"}
CONFIG_FIELDS = [
    ("server", "server: {v}\n", CONFIG_BASE["server"]),
    ("room", "room: {v}\n", CONFIG_BASE["room"]),
    ("resident", "resident: {v}\n", CONFIG_BASE["resident"]),
    ("greeting_name", "greeting_name: {v}\n", "Erna"),
    ("support_contact", "support_contact: {v}\n", "IT, 07223 935-000"),
    ("admin_pin_hash", "admin_pin_hash: {v}\n", PIN_HASH),
    ("tls_pins[0]", "tls_pins: [{v}]\n", PIN),
    ("device_id", "device_id: {v}\n", "ebh-01"),
    ("home", "home: {v}\n", "ebh"),
    ("language", "language: {v}\n", "de"),
    ("brand.id", "brand: {{id: {v}}}\n", "palim"),
    ("brand.name", "brand: {{name: {v}}}\n", "Hallo Familie!"),
    ("brand.colors.call", "brand: {{colors: {{call: {v}}}}}\n", "#0b4f6c"),
    ("health.nightly_restart", "health: {{nightly_restart: {v}}}\n", "03:00-04:00"),
    ("health.usage_log", "health: {{usage_log: {v}}}\n", "/var/lib/palim-kiosk/usage.jsonl"),
    ("presence.url", "presence: {{url: {v}}}\n", "https://k.example.org/size?room={room}"),
    ("presence.quiet_hours[0]", "presence: {{quiet_hours: [{v}]}}\n", "20:00-08:00"),
    ("family.contacts[0].email", "family: {{contacts: [{{name: Anna, email: {v}}}]}}\n", "anna@example.org"),
    ("family.smtp.sender", "family: {{smtp: {{host: m.example.org, sender: {v}}}}}\n", "kiosk@example.org"),
]


def _config(snippet: str, value: str) -> str:
    key = snippet.split(":")[0]
    base = "".join(f"{k}: {v}\n" for k, v in CONFIG_BASE.items() if k != key)
    return base + snippet.format(v='"' + value + '"')


@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("path, snippet, value", CONFIG_FIELDS, ids=[f[0] for f in CONFIG_FIELDS])
def test_a_config_value_with_anything_after_it_is_refused_at_its_position(path, snippet, value, tail):
    config_from_text(_config(snippet, json.dumps(value)[1:-1]), "kiosk.yaml")  # valid without the tail
    text = _config(snippet, json.dumps(value)[1:-1] + TAILS[tail])
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "kiosk.yaml")
    shown = [str(p) for p in info.value.problems]
    if tail == "surrogate":
        line, col = _where(text, "\\ud800", 2)
        assert shown[0].startswith(f"kiosk.yaml:{line}:{col}: not valid YAML"), shown
    else:
        line, col = _where(text, '"' + json.dumps(value)[1:-1] + TAILS[tail] + '"')
        assert any(s.startswith(f"kiosk.yaml:{line}:{col}: {path}: ") for s in shown), (f"{line}:{col}", shown)
