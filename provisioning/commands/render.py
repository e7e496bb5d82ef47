"""palim-provision render: write device bundles into a directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..bundle import project_source, write_bundle
from ..devicelist import load_file
from ..prepare import UnknownDevice, device_bundle, device_secrets, made_keys_note, pick, wireguard_keys
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision render devices.yaml --device ebh-01 --out /tmp/bundles
  palim-provision render devices.yaml --out /tmp/bundles      # every device

Writes OUT/<id>/ with the device's files at their paths and OUT/<id>/manifest.json (path, mode, owner, sha256).
The Wi-Fi keyfiles hold the password: keep OUT private.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("render", help="write device bundles into a directory", formatter_class=fmt,
                       epilog=EPILOG, description="Render the files a device needs into a directory.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--device", metavar="ID", help="only this device (default: all)")
    p.add_argument("--out", metavar="DIR", required=True, help="where to write the bundles")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return render(out, args.file, Path(args.out), args.device)


def render(out: Output, file: str, folder: Path, device_id: str | None = None) -> int:
    """Write OUT/<id>/ for the device (or every device)."""
    loaded = load_file(file)
    try:
        targets = pick(loaded, device_id)
    except UnknownDevice as exc:
        return out.fail(str(exc), EXIT_INVALID)
    psks, tokens = device_secrets(loaded, targets)
    wg_keys, made = wireguard_keys(loaded, targets)
    if made:
        out.note(made_keys_note(loaded, made))
    source = project_source()
    try:
        for target in targets:
            bundle = device_bundle(target, psks, tokens, source, wg_keys=wg_keys)
            manifest = write_bundle(bundle, folder)[-1]
            out.say(f"rendered {target.id}: {len(bundle.files)} files in {manifest.parent} (manifest {manifest})")
    except OSError as exc:
        return out.fail(f"could not write {exc.filename or folder}: {exc.strerror or exc}", EXIT_FAILED)
    return EXIT_OK
