"""Benchmark (not a test): validate a generated list of 10,000 devices and render 1,000 bundles."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from provisioning.bundle import render_bundle
from provisioning.devicelist import load_text
from provisioning.rooms import generate_room

DEVICES = 10_000
BUNDLES = 1_000


def generated_list(devices: int = DEVICES, homes: int = 50) -> str:
    """A device list shaped like the example, with comments, `devices` entries spread over `homes` homes."""
    lines = ["# generated for the benchmark", "version: 1", "defaults:", "  server: https://konferenz.example.org",
             "  language: de", "homes:"]
    for h in range(homes):
        lines += [f"  home-{h}:", f"    name: Heim {h}", f"    wifi: {{ssid: Heim-{h}, psk_env: HOME_{h}_PSK}}"]
    lines.append("devices:")
    for d in range(devices):
        lines += [f"  - id: dev-{d}            # also the hostname", f"    home: home-{d % homes}",
                  f"    resident: Bewohnerin Nummer {d}", f"    room: {generate_room()}",
                  f'    match: {{mac: "02:00:00:{d >> 16 & 255:02x}:{d >> 8 & 255:02x}:{d & 255:02x}"}}',
                  f"    label: Zimmer {d % 40}", "    donor: Stadt Bühl"]
    return "\n".join(lines) + "\n"


def main() -> None:
    text = generated_list()
    print(f"device list: {DEVICES} devices, {len(text.splitlines())} lines, {len(text) / 1e6:.1f} MB")
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        loaded = load_text(text, "bench.yaml")
        runs.append(time.perf_counter() - start)
    assert len(loaded.targets) == DEVICES
    print(f"validate {DEVICES} devices: best {min(runs):.2f} s, median {sorted(runs)[1]:.2f} s (3 runs)")

    from kiosk.core.yamlpos import parse_yaml

    start = time.perf_counter()
    parse_yaml(text, "bench.yaml")
    parse = time.perf_counter() - start
    print(f"  of which kiosk.core.yamlpos.parse_yaml (pure-Python PyYAML): {parse:.2f} s")

    start = time.perf_counter()
    files = 0
    for target in loaded.targets[:BUNDLES]:
        files += len(render_bundle(target, "bench-passwort-123").files)
    elapsed = time.perf_counter() - start
    print(f"render {BUNDLES} bundles ({files} files): {elapsed:.2f} s, {elapsed / BUNDLES * 1e3:.2f} ms per bundle")


if __name__ == "__main__":
    main()
