"""palim-provision server-check: is the city's Jitsi server ready for kiosks?"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..devicelist import load_file
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision server-check https://konferenz.example.org
  palim-provision server-check --devices devices.yaml            # every distinct server, with its tls_pins
  PALIM_JITSI_SECRET=... palim-provision server-check --devices devices.yaml   # with token login: a device's token
  palim-provision server-check https://konferenz.example.org --token-file ebh-01.jwt --json

One line per finding: ok, warn or fail, and for warn and fail the fix. The setup it checks against:
docs/jitsi-server.md. Run it before the roll-out and after every update of the server.
exit codes: 0 every server ok (warnings allowed), 1 any failure, 2 wrong input.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("server-check", help="is the city's Jitsi server ready for kiosks? (before roll-out, after "
                                            "every server update)", formatter_class=fmt, epilog=EPILOG,
                       description="Check a Jitsi server the way the kiosks and the families use it: TLS, "
                                   "external_api.js, config.js, interface_config.js and presence.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("url", metavar="URL", nargs="?", help="the server's https:// address")
    where.add_argument("--devices", metavar="FILE", help="check every distinct server of this device list")
    p.add_argument("--pin", metavar="SHA256", action="append", default=[],
                   help="with URL: a tls_pins entry (may be repeated)")
    p.add_argument("--presence", metavar="URL", help="with URL: the presence URL, {room} for the room")
    p.add_argument("--token-file", metavar="FILE",
                   help="a token (JWT) the server accepts, as 'palim-provision tokens' makes them")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return server_check(out, url=args.url, devices=args.devices, pins=tuple(args.pin), presence=args.presence,
                        token_file=args.token_file, as_json=args.json)


def server_check(out: Output, *, url: str | None = None, devices: str | None = None, pins: tuple[str, ...] = (),
                 presence: str | None = None, token_file: str | None = None, as_json: bool = False) -> int:
    """Check the server at url, or every distinct server of a device list; 1 when any check fails."""
    from ..servercheck import ServerTarget, run_server_check, targets_from_devices

    if devices:
        if pins or presence:
            return out.fail("--pin and --presence go with URL; with --devices they come from the list", EXIT_INVALID)
        targets, problems = targets_from_devices(load_file(devices))
        for problem in problems:  # no token here: the check goes on without one and says so
            out.warning(problem)
    else:
        try:
            targets = [ServerTarget.from_url(url, pins, presence)]
        except ValueError as exc:
            return out.fail(str(exc), EXIT_INVALID)
    token = None
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            return out.fail(f"cannot read --token-file {token_file}: {getattr(exc, 'strerror', None) or exc}",
                            EXIT_INVALID)
    reports = run_server_check(targets, token)
    if as_json:
        out.json({"ok": all(r.ok for r in reports), "servers": [r.as_json() for r in reports]})
    else:
        for report in reports:
            out.say(report.server)
            for finding in report.findings:
                out.say("  " + finding.line())
        failed = sum(1 for r in reports if not r.ok)
        warned = any(f.status == "warn" for r in reports for f in r.findings)
        out.say(f"{len(reports)} server(s) checked, {failed} with failures" if failed else
                f"{len(reports)} server(s) checked: ready for kiosks" + (" (see the warnings)" if warned else ""))
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED
