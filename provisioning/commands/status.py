"""palim-provision status: every device the fleet hub's Prometheus watches, per home, as text and as an HTML page."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.core.files import write_atomic

from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision status --prometheus http://127.0.0.1:9090                     # on the hub
  ssh -L 9090:127.0.0.1:9090 hub.stadt.example.org                             # or from IT's desk, then as above
  palim-provision status --prometheus http://127.0.0.1:9090 --html /var/www/palim/status.html --language de

Per home, each device: online since (or offline since), the kiosk's release, its last call, the days its server
login has left, and its open alerts (docs/fleet.md says what each means). Times in the homes' time zone.
exit codes: 0 ok, 1 Prometheus could not be asked or the page not written, 2 wrong input.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("status", help="the fleet as the hub's Prometheus sees it: per home, each device, its "
                                      "release, last call, token and open alerts", formatter_class=fmt,
                       epilog=EPILOG, description="Ask the fleet hub's Prometheus (HTTP API) and print, per home, "
                                                  "each device's status; optionally write it as an HTML page.")
    p.add_argument("--prometheus", metavar="URL", required=True,
                   help="Prometheus' address, like http://127.0.0.1:9090 (https is checked against the system's "
                        "CA store)")
    p.add_argument("--html", metavar="FILE", help="also write the page as HTML to FILE (replaced whole)")
    p.add_argument("--timezone", metavar="ZONE", default="Europe/Berlin",
                   help="the time zone the times are shown in (default: Europe/Berlin, the homes')")
    p.add_argument("--language", choices=("en", "de"), default="en",
                   help="the page's words: en (default) or de (for a care home's office)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return status(out, args.prometheus, html=args.html, zone_name=args.timezone, language=args.language)


def status(out: Output, url: str, *, html: str | None = None, zone_name: str = "Europe/Berlin",
           language: str = "en") -> int:
    """Ask Prometheus, print the page, write it as HTML when asked; 1 when Prometheus or the file fails."""
    from ..fleetstatus import collect, html_page, text_page
    from ..prometheusapi import Prometheus, PrometheusError

    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return out.fail(f"--timezone {zone_name!r} is not a time zone (like Europe/Berlin)", EXIT_INVALID)
    target = Path(html) if html else None
    if target is not None and (target.is_dir() or not target.parent.is_dir()):
        where = "is a folder" if target.is_dir() else f"is in {target.parent}, which is not a folder that exists"
        return out.fail(f"--html {html} {where}: name a file in an existing folder", EXIT_INVALID)
    try:
        prometheus = Prometheus(url)
    except PrometheusError as exc:
        return out.fail(f"--prometheus: {exc}", EXIT_INVALID)
    try:
        page = collect(prometheus, datetime.now(timezone.utc))
    except PrometheusError as exc:
        return out.fail(str(exc), EXIT_FAILED)
    out.say(text_page(page, zone, language), end="")
    if target is not None:
        try:
            write_atomic(target, html_page(page, zone, language).encode("utf-8"), 0o644)
        except OSError as exc:
            return out.fail(f"could not write {html}: {exc.strerror or exc}", EXIT_FAILED)
        out.note(f"wrote the status page to {html}")
    return EXIT_OK
