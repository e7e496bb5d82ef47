"""palim-provision release: the kiosk as Debian packages in the city's signed apt repository (provisioning/release.py
does the work)."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

from ..release import ReleaseError, build, check_version, promote, publish
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision release --version 1.4 --lock kiosk.lock --key-file city-release.key --out /srv/palim-repo
  palim-provision release --promote 1.4 --key-file city-release.key --out /srv/palim-repo --min-days 7

Builds palim-kiosk-V (the kiosk in its own venv under /opt/palim-kiosk/releases/V, the lock's wheels installed
with pip --require-hashes) and palim-kiosk V, and adds both to the ring 'first' of the signed apt repository OUT
(reprepro; made when new). Serve OUT/public over HTTPS. --promote copies a release to the ring 'all'.
The same source and SOURCE_DATE_EPOCH (default: the last commit's time) give the same packages.
exit codes: 0 ok, 1 building or publishing failed, 2 wrong input (a version not newer than the published ones).
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("release", help="build a kiosk release as Debian packages and publish it to the signed "
                                       "apt repository", formatter_class=fmt, epilog=EPILOG,
                       description="Build and publish a kiosk release, or promote one to the ring 'all'.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--version", metavar="V", help="the release's version (digits and dots, newer than any "
                                                     "published)")
    what.add_argument("--promote", metavar="V", help="copy release V from the ring 'first' to 'all'")
    p.add_argument("--out", metavar="REPO", required=True, help="the repository's folder (serve REPO/public)")
    p.add_argument("--key-file", metavar="FILE", required=True,
                   help="the city's OpenPGP secret key that signs the repository (never printed)")
    p.add_argument("--lock", metavar="FILE", help="the kiosk's dependencies, pinned with --hash=sha256 "
                                                  "(pip-compile --generate-hashes)")
    p.add_argument("--wheels", metavar="DIR", help="take the wheels from here instead of PyPI")
    p.add_argument("--kiosk-wheel", metavar="WHL", help="the kiosk's wheel (default: built from --source)")
    p.add_argument("--source", metavar="DIR", default=str(Path(__file__).resolve().parents[2]),
                   help="the Palim project to release (default: the one running)")
    p.add_argument("--skip-dependency-check", action="store_true",
                   help="do not require the lock to hold every dependency (tests of the release machinery only)")
    p.add_argument("--min-days", metavar="N", type=int, default=7,
                   help="with --promote: days on the ring 'first' first (default: 7)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    now = dt.datetime.now(dt.timezone.utc)
    try:
        if args.promote:
            promote(args.promote, Path(args.out), Path(args.key_file), args.min_days, now)
            out.say(f"release {args.promote} is on the ring 'all' of {args.out}")
            return EXIT_OK
        check_version(args.version)
        if not args.lock:
            return out.fail("--version needs --lock FILE (the pinned, hash-checked dependencies)", EXIT_INVALID)
        with tempfile.TemporaryDirectory(prefix="palim-release-") as tmp:
            built = build(args.version, Path(args.lock), Path(tmp), Path(args.source),
                          Path(args.kiosk_wheel) if args.kiosk_wheel else None,
                          Path(args.wheels) if args.wheels else None,
                          check_dependencies=not args.skip_dependency_check)
            size = built.release_deb.stat().st_size + built.meta_deb.stat().st_size
            public = publish(built, Path(args.out), Path(args.key_file), now)
    except ReleaseError as exc:
        return out.fail(str(exc), EXIT_INVALID if "not newer" in str(exc) or "--version" in str(exc) else EXIT_FAILED)
    except OSError as exc:
        return out.fail(f"{exc.filename or args.out}: {exc.strerror or exc}", EXIT_FAILED)
    out.say(f"release {args.version} ({size / 1e6:.1f} MB) is on the ring 'first'; serve {public}")
    return EXIT_OK
