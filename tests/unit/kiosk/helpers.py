"""Helpers the kiosk's Qt tests share (controllers, web, e2e): configs pointing at the stand-in, fresh rooms, page
scripts. Imported by name; the fixtures stay in conftest.py."""

from __future__ import annotations

import secrets
from pathlib import Path

from jitsi_standin import StandinServer

STAFF_PIN = "735194"
_PIN_HASH: list[str] = []


def fresh_room() -> str:
    """A room of its own for each test, so a page left over from another test cannot take its events."""
    return "palim-" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(26))


def standin_config_text(server: StandinServer, state: Path, *, room: str | None = None, pin_hash: str | None = None,
                        **extra: str) -> str:
    """A kiosk config for the stand-in, its certificate pinned, a staff PIN (STAFF_PIN unless `pin_hash`), its files
    under `state`, a fresh room unless `room`."""
    if pin_hash is None:
        if not _PIN_HASH:
            from kiosk.staff import hash_pin

            _PIN_HASH.append(hash_pin(STAFF_PIN))
        pin_hash = _PIN_HASH[0]
    lines = [f"server: {server.url}", f"room: {room or fresh_room()}", "resident: Erna Müller",
             f"tls_pins: ['{server.cert_sha256}']", f"admin_pin_hash: '{pin_hash}'",
             "jitsi: {connect_timeout_s: 15}", "device_id: ebh-01", "home: erich-burger-heim",
             f"health: {{usage_log: '{state}/usage.jsonl', metrics_file: '{state}/palim_kiosk.prom'}}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def run_js(qtbot, page, script: str, timeout: int = 10000):
    """Run a script in a page's main world and wait for its result."""
    result: list = []
    page.runJavaScript(script, 0, result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=timeout)
    return result[0]
