"""palim-provision tokens: each device's login token for a Jitsi server with token authentication."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.core.files import write_atomic

from ..devicelist import DeviceListError, load_file
from ..prepare import UnknownDevice, pick
from ..tokens import device_tokens
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  PALIM_JITSI_SECRET=... palim-provision tokens devices.yaml                  # prints '<id> <token>' per device
  PALIM_JITSI_SECRET=... palim-provision tokens devices.yaml --device ebh-01 --out tokens/

The device list names the app id and where its secret is (never the secret itself):
  defaults:
    jitsi_token: {app_id: palim, secret_env: PALIM_JITSI_SECRET}   # or secret_file: secrets/jitsi-app-secret
Claims: iss and aud the app id, sub the server's domain (jitsi_token.sub; default: the server's host name),
room the device's own room, exp after valid_days (default 365), context.user.name the resident, moderator.
apply and render mint them by themselves and write /etc/palim-kiosk/secrets/jwt (0640 root:kiosk).
exit codes: 0 ok, 1 could not write, 2 invalid list, no token login, or the secret is missing.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("tokens", help="mint each device's login token for a Jitsi server with token authentication",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Mint one login token (JWT, HS256) per device for the city's Jitsi server, from "
                                   "the jitsi_token settings of the device list.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--device", metavar="ID", help="only this device (default: every device with token login)")
    p.add_argument("--out", metavar="DIR", help="write DIR/<id>.jwt (0600) instead of printing '<id> <token>'")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return tokens(out, args.file, device_id=args.device, folder=None if args.out is None else Path(args.out))


def tokens(out: Output, file: str, *, device_id: str | None = None, folder: Path | None = None) -> int:
    """Mint the tokens; print '<id> <token>' lines, or write FOLDER/<id>.jwt (0600)."""
    loaded = load_file(file)
    try:
        targets = pick(loaded, device_id)
    except UnknownDevice as exc:
        return out.fail(str(exc), EXIT_INVALID)
    targets = [t for t in targets if t.jitsi_token is not None]
    if not targets:
        which = f"device {device_id}" if device_id else "no device"
        return out.fail(f"{which} has token login: set jitsi_token under defaults or the home", EXIT_INVALID)
    minted, unavailable, wrong = device_tokens(loaded, targets)
    if unavailable or wrong:
        raise DeviceListError(sorted(unavailable + wrong, key=lambda p: (p.line, p.col)))
    if folder is None:
        for target in targets:
            out.say(f"{target.id} {minted[target.id]}")
        return EXIT_OK
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for target in targets:
            path = folder / f"{target.id}.jwt"
            write_atomic(path, f"{minted[target.id]}\n".encode(), 0o600)
            out.say(f"wrote {path} (room {target.config.room}, valid {target.jitsi_token.valid_days} days)")
    except OSError as exc:
        return out.fail(f"could not write {exc.filename or folder}: {exc.strerror or exc}", EXIT_FAILED)
    return EXIT_OK
