"""Helpers the provisioning tests share (imported by name, never from a conftest)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from PyQt6.QtGui import QColor, QImage

VALID = textwrap.dedent("""\
    version: 1
    defaults:
      server: https://konferenz.example.org
    homes:
      ebh:
        name: EBH
        wifi: {ssid: EBH-Bewohner, psk_env: EBH_PSK}
    devices:
      - id: ebh-01
        home: ebh
        resident: Erna Müller
        room: palim-l2hdeebeoie5kzya3mw4pgrmnb
        match: {mac: "3c:52:82:1a:2b:3c"}
      - id: ebh-02
        home: ebh
        resident: Karl Bauer
        room: palim-ztrcxt2gj4ooxf57vnkpbgxi37
        match: {serial: "5CG1234XYZ"}
    """)


HUB_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
FLEET = ("fleet:\n  endpoint: vpn.stadt.example.org:51820\n  hub_public_key: " + HUB_KEY + "\n"
         "  network: 10.77.0.0/16\n  hub_address: 10.77.0.1\n")


def fleet_list(fleet: str = FLEET, text: str = VALID) -> str:
    """A device list with the fleet: block (the city's WireGuard hub) before its homes."""
    return text.replace("homes:\n", fleet + "homes:\n", 1)


def photo(path: Path, width: int = 1600, height: int = 1200, fmt: str | None = None) -> Path:
    """A test photo written by Qt, never downloaded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor(120, 90, 70, 200))
    assert image.save(str(path), fmt)
    return path


def sys_block(root, *disks):
    """A /sys/block as the kernel lays it out: size in 512-byte sectors, removable, device/model, queue/rotational."""
    for name, sectors, removable, model, rotational in disks:
        (root / name / "device").mkdir(parents=True)
        (root / name / "queue").mkdir()
        (root / name / "size").write_text(f"{sectors}\n")
        (root / name / "removable").write_text(removable + "\n")
        (root / name / "queue" / "rotational").write_text(rotational + "\n")
        if model:
            (root / name / "device" / "model").write_text(model + "  \n")
    return root
