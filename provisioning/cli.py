"""palim-provision's command line: over 400 lines because every sub-command's --help carries its examples.

Validate the device list, fill in rooms, render bundles, apply one to a device, and the fleet commands; this
module only parses arguments and prints, the work is done by the module each command names.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from kiosk.core.files import write_atomic

from .apply import ApplyError, NotRecognised, apply_bundle, is_live, recognise
from .bundle import project_source, render_bundle, write_bundle
from .devicelist import (
    DeviceListError, Loaded, Target, load_file, presence_warnings, read_secrets, resolve_secrets, summary,
)
from .photos import DEVICE_PHOTO_SIDE, LIMITS as PHOTO_LIMITS
from .rooms import RoomsError, fill_rooms, generate_room
from . import stickcli
from .steps import SkipRunner, SystemRunner
from .tokens import device_tokens

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
PLAYBOOK = Path(__file__).resolve().parent / "ansible" / "site.yml"

MAIN_EPILOG = """\
examples:
  palim-provision validate devices.yaml
  palim-provision rooms devices.yaml --fill
  EBH_WIFI_PSK=... palim-provision render devices.yaml --device ebh-01 --out /tmp/bundles
  EBH_WIFI_PSK=... palim-provision apply devices.yaml --dry-run
  EBH_WIFI_PSK=... palim-provision apply devices.yaml --device ebh-01 --root /
  palim-provision inventory devices.yaml > inventory.yml            # then ansible-playbook: see inventory --help
  palim-provision cards devices.yaml --out karten.pdf                # invitation cards for the families
  palim-provision check                                              # on a donated device: is it suitable?
  palim-provision report collected-logs/ --since 2026-01-01          # the town's usage figures
  palim-provision server-check --devices devices.yaml                # is the city's Jitsi server ready?
  PALIM_JITSI_SECRET=... palim-provision tokens devices.yaml         # login tokens for token authentication
  EBH_WIFI_PSK=... sudo -E palim-provision image devices.yaml --out palim-stick.img   # an installer stick

exit codes: 0 ok, 2 the input is wrong (nothing was changed), 1 something failed while writing or applying.
"""

VALIDATE_EPILOG = """\
examples:
  palim-provision validate devices.yaml                   # a password that is not here is only a warning
  EBH_WIFI_PSK=... palim-provision validate devices.yaml --strict   # before render or apply: every password too
  palim-provision validate devices.yaml --skip-secrets    # do not look for the passwords at all

Checks the list's structure and references without needing the secrets: a Wi-Fi password whose environment
variable is not set or whose secrets file is missing (or not readable by this user) is a warning, shown as
FILE:LINE:COL: warning: path: message; with --strict it is an error. A password that is there but wrong
(length, characters) is always an error. render and apply always need every password of their devices.
Every problem is shown at once as FILE:LINE:COL: path: message. Exit 0 when valid, 2 otherwise.
"""
VALIDATE_EPILOG += f"""
Photos (family.contacts[].photo, a device's home_photo; a file next to the list, like photos/anna.jpg) must
exist and decode.
Limits: {PHOTO_LIMITS}.
The device gets each one as a JPEG at most {DEVICE_PHOTO_SIDE} px on its longer side, without its metadata.
"""

ROOMS_EPILOG = """\
examples:
  palim-provision rooms devices.yaml            # which devices lack a room or have a guessable one
  palim-provision rooms devices.yaml --fill     # write new rooms into the file, comments kept
  palim-provision rooms --new 3                 # just print three fresh room names

--fill keeps a copy of the old file as FILE.palim-bak; running it again changes nothing.
"""

RENDER_EPILOG = """\
examples:
  palim-provision render devices.yaml --device ebh-01 --out /tmp/bundles
  palim-provision render devices.yaml --out /tmp/bundles      # every device

Writes OUT/<id>/ with the device's files at their paths and OUT/<id>/manifest.json (path, mode, owner, sha256).
The Wi-Fi keyfiles hold the password: keep OUT private.
"""

APPLY_EPILOG = """\
examples:
  palim-provision apply devices.yaml --dry-run                 # which device am I, what would change
  palim-provision apply devices.yaml                           # on the device itself, as root
  palim-provision apply devices.yaml --device ebh-01 --root /srv/staging/ebh-01

Without --device the device recognises itself by a MAC address or the DMI serial number.
With --root / it also installs packages, creates the kiosk user, enables the unit and sets the hostname;
with any other root those steps are listed as skipped.
"""


INVENTORY_EPILOG = """\
examples:
  palim-provision inventory devices.yaml > inventory.yml
  ansible-inventory -i inventory.yml --graph
  EBH_WIFI_PSK=... ansible-playbook -i inventory.yml {playbook} --check --diff
  EBH_WIFI_PSK=... ansible-playbook -i inventory.yml {playbook} --become

Groups: palim_kiosks, with one child group per home (home_<key>, '-' as '_'); hosts are the device ids,
ansible_host is the device's 'address:' when it has one. No Wi-Fi password is written: each home's
palim_wifi_psk reads the environment variable or secrets file the device list names, on the controller;
set palim_wifi_psk in group_vars/<group>/vault.yml (Ansible Vault) to override it.
"""

EXTRACT_EPILOG = """\
examples:
  palim-provision extract devices.yaml --device ebh-01 > ebh-01.yaml
  PALIM_WIFI_PSK=... palim-provision apply ebh-01.yaml --device ebh-01 --root /srv/staging/ebh-01

Other homes and devices are left out, so a device never holds other residents' names or rooms.
The Wi-Fi password is referenced as the environment variable PALIM_WIFI_PSK.
"""


TOKENS_EPILOG = """\
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


CARDS_EPILOG = """\
examples:
  palim-provision cards devices.yaml --out karten.pdf                     # every device, four A6 cards per A4
  palim-provision cards devices.yaml --out ebh-01.pdf --device ebh-01
  palim-provision cards devices.yaml --out ebh.pdf --home erich-burger-heim --paper a5

Each card (German): "So erreichen Sie <resident> per Video", the room link in large type and as a QR code,
three steps for a phone, the home's support contact and the logo. Print at 100 % ("actual size"), then cut
along the marks. The link is the key to the resident's room: hand the cards to the family only.
"""


CHECK_EPILOG = """\
examples:
  palim-provision check                                  # on the donated device itself (a live USB is fine)
  palim-provision check --json > hp-840.json
  palim-provision check --sysfs-root /srv/captures/eee-1005ha   # a tree copied from another machine
  palim-provision check --rotate 90                      # a portrait tablet the kiosk turns to landscape

Reads proc/meminfo, proc/cpuinfo, sys/devices/system/cpu/online, sys/class/dmi/id, sys/block,
sys/class/video4linux (and asks /dev/video* on the live system), proc/asound/pcm, sys/class/sound,
sys/class/power_supply, sys/class/drm (cards, modes, edid), sys/class/net, sys/class/rfkill,
sys/bus/{{pci,sdio,usb}}/devices (chips and their drivers), lib/firmware (the files `modinfo -F firmware` names, on
the live system) and proc/bus/input/devices below the root; free space is measured at the root.

{thresholds}
exit codes: 0 suitable (with or without notes), 1 unsuitable, 2 the root cannot be read.
"""


SERVER_CHECK_EPILOG = """\
examples:
  palim-provision server-check https://konferenz.example.org
  palim-provision server-check --devices devices.yaml            # every distinct server, with its tls_pins
  PALIM_JITSI_SECRET=... palim-provision server-check --devices devices.yaml   # with token login: a device's token
  palim-provision server-check https://konferenz.example.org --token-file ebh-01.jwt --json

One line per finding: ok, warn or fail, and for warn and fail the fix. The setup it checks against:
docs/jitsi-server.md. Run it before the roll-out and after every update of the server.
exit codes: 0 every server ok (warnings allowed), 1 any failure, 2 wrong input.
"""


REPORT_EPILOG = """\
examples:
  ansible palim_kiosks -m fetch -a "src=/var/lib/palim-kiosk/usage.jsonl dest=logs/"   # collect the logs
  palim-provision report logs/ --since 2026-01-01 --until 2026-12-31
  palim-provision report logs/ --devices devices.yaml --format csv --out nutzung-2026.csv
  palim-provision report ebh-01.jsonl ebh-02.jsonl.1.gz

LOGS are files or folders; folders are searched for *.jsonl (also rotated *.jsonl.1 and .gz).
A call counts in the ISO week (Monday to Sunday) and on the day its start falls in, in the kiosk's local time.
When a line has no device, it is taken from where the log lies (<dest>/<host>/var/lib/palim-kiosk/usage.jsonl
as Ansible fetch lays it out, or a file or folder named after the device); a missing home is looked up in
--devices. The same call collected twice counts once. Broken lines are skipped and reported.
CSV: one row per home and week, a 'total' row per home, then the grand total.
exit codes: 0 ok (also with broken lines), 1 a log file could not be read, 2 bad arguments or no logs.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its sub-commands."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="palim-provision", formatter_class=fmt, epilog=MAIN_EPILOG,
                                     description="Turn a freshly installed Debian 12 device into a Palim kiosk, "
                                                 "from one YAML device list.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="check the device list and show every problem", formatter_class=fmt,
                       epilog=VALIDATE_EPILOG, description="Check the device list and show every problem at once.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    secrets = p.add_mutually_exclusive_group()
    secrets.add_argument("--strict", action="store_true",
                         help="a Wi-Fi password that is not available here is an error (exit 2), not a warning")
    secrets.add_argument("--skip-secrets", action="store_true",
                         help="do not look for the Wi-Fi passwords at all")

    p = sub.add_parser("rooms", help="list missing rooms, or fill them in", formatter_class=fmt,
                       epilog=ROOMS_EPILOG, description="Room names: unguessable, generated, written into the list.")
    p.add_argument("file", metavar="FILE", nargs="?", help="the device list (YAML)")
    p.add_argument("--fill", action="store_true", help="write generated rooms for devices that lack one")
    p.add_argument("--new", type=int, metavar="N", help="print N fresh room names and exit")

    p = sub.add_parser("render", help="write device bundles into a directory", formatter_class=fmt,
                       epilog=RENDER_EPILOG, description="Render the files a device needs into a directory.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--device", metavar="ID", help="only this device (default: all)")
    p.add_argument("--out", metavar="DIR", required=True, help="where to write the bundles")

    p = sub.add_parser("apply", help="make this device (or a staging root) match its bundle", formatter_class=fmt,
                       epilog=APPLY_EPILOG, description="Apply a device's bundle: diffs, atomic writes, backups.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--device", metavar="ID", help="the device's id (default: recognise by MAC or serial)")
    p.add_argument("--root", metavar="DIR", default="/", help="the root to write into (default: /)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument("--kiosk-source", metavar="DIR",
                   help="the Palim project to pip install into /opt/palim-kiosk/venv (default: the one running)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (changes, masked diff, steps) instead of text; for the Ansible role")
    p.add_argument("--offline", action="store_true",
                   help="download nothing: the packages and the kiosk's wheels must be there (the installer stick)")

    p = sub.add_parser("inventory", help="print an Ansible inventory of the fleet", formatter_class=fmt,
                       epilog=INVENTORY_EPILOG.format(playbook=PLAYBOOK),
                       description="Print an Ansible YAML inventory: one group per home, one host per device.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")

    p = sub.add_parser("cards", help="print family invitation cards (PDF, A6) with the room link and a QR code",
                       formatter_class=fmt, epilog=CARDS_EPILOG,
                       description="Make a printable PDF with one invitation card per device for the family.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--out", metavar="PDF", required=True, help="the PDF to write")
    p.add_argument("--device", metavar="ID", action="append", help="only this device (may be repeated)")
    p.add_argument("--home", metavar="KEY", help="only the devices of this home")
    p.add_argument("--paper", choices=("a4", "a5"), default="a4",
                   help="a4: four cards per page (default); a5: two cards per page")

    from .check import THRESHOLDS_TEXT

    p = sub.add_parser("check", help="triage a donated device: suitable, suitable with notes, or unsuitable",
                       formatter_class=fmt, epilog=CHECK_EPILOG.format(thresholds=THRESHOLDS_TEXT),
                       description="Check memory, CPU, disk, Wi-Fi, camera, microphone, speaker, battery, graphics, "
                                   "screen and touch of this machine (or of a captured tree) against the kiosk's "
                                   "needs.")
    p.add_argument("--sysfs-root", metavar="DIR", default="/",
                   help="read /proc, /sys and /dev below this directory (default: /, this machine)")
    p.add_argument("--rotate", metavar="DEGREES", type=int, choices=(0, 90, 180, 270), default=0,
                   help="how the kiosk turns the screen (the device list's display rotate): with 90 or 270 a portrait "
                        "panel is checked as the landscape screen it becomes (default: 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = sub.add_parser("report", help="usage figures from the kiosks' logs: calls, hours, devices, homes",
                       formatter_class=fmt, epilog=REPORT_EPILOG,
                       description="Aggregate the kiosks' usage logs into the figures the town publishes.")
    p.add_argument("logs", metavar="LOGS", nargs="+", help="usage log files or folders holding them")
    p.add_argument("--since", metavar="DATE", help="only calls starting on or after this day (2026-11-01)")
    p.add_argument("--until", metavar="DATE", help="only calls starting on or before this day")
    p.add_argument("--format", choices=("text", "csv"), default="text", help="text (default) or csv")
    p.add_argument("--out", metavar="FILE", help="write the report here instead of printing it")
    p.add_argument("--devices", metavar="FILE", help="the device list, to look up homes missing in the logs")

    p = sub.add_parser("extract", help="print the device list of one device only (used by the Ansible role)",
                       formatter_class=fmt, epilog=EXTRACT_EPILOG,
                       description="Print a device list holding only one device, its home and the defaults.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--device", metavar="ID", required=True, help="the device's id")

    p = sub.add_parser("server-check", help="is the city's Jitsi server ready for kiosks? (before roll-out, after "
                                            "every server update)", formatter_class=fmt, epilog=SERVER_CHECK_EPILOG,
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

    p = sub.add_parser("tokens", help="mint each device's login token for a Jitsi server with token authentication",
                       formatter_class=fmt, epilog=TOKENS_EPILOG,
                       description="Mint one login token (JWT, HS256) per device for the city's Jitsi server, from "
                                   "the jitsi_token settings of the device list.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--device", metavar="ID", help="only this device (default: every device with token login)")
    p.add_argument("--out", metavar="DIR", help="write DIR/<id>.jwt (0600) instead of printing '<id> <token>'")

    stickcli.add_parsers(sub, fmt)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return {"validate": cmd_validate, "rooms": cmd_rooms, "render": cmd_render, "apply": cmd_apply,
                "inventory": cmd_inventory, "extract": cmd_extract, "cards": cmd_cards,
                "check": cmd_check, "report": cmd_report, "server-check": cmd_server_check,
                "tokens": cmd_tokens, "image": stickcli.cmd_image, "install": stickcli.cmd_install}[args.command](args)
    except DeviceListError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        noun = "problem" if len(exc.problems) == 1 else "problems"
        print(f"{len(exc.problems)} {noun}; nothing was changed", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _err(message: str, code: int) -> int:
    print(f"palim-provision: {message}", file=sys.stderr)
    return code


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load_file(args.file)
    for problem in presence_warnings(loaded):
        print(f"{problem.file}:{problem.line}:{problem.col}: warning: {problem.path}: {problem.message}",
              file=sys.stderr)
    if args.skip_secrets:
        print(summary(loaded))
        return EXIT_OK
    _, unavailable, wrong = read_secrets(loaded, loaded.targets)
    # The Jitsi app secret (jitsi_token) is looked for like the Wi-Fi passwords.
    _, token_unavailable, token_wrong = device_tokens(loaded, loaded.targets)
    wrong += token_wrong + (token_unavailable if args.strict else [])
    if not args.strict:
        for problem in token_unavailable:
            print(f"{problem.file}:{problem.line}:{problem.col}: warning: {problem.path}: {problem.message}",
                  file=sys.stderr)
    if wrong or (unavailable and args.strict):
        raise DeviceListError(sorted(unavailable + wrong, key=lambda p: (p.line, p.col)))
    if not unavailable:
        print(summary(loaded) + ", every Wi-Fi password readable")
        return EXIT_OK
    # The list itself is fine; a password that is not here is for render and apply to need (a desk, a fresh clone).
    for problem in unavailable:
        print(f"{problem.file}:{problem.line}:{problem.col}: warning: {problem.path}: {problem.message}",
              file=sys.stderr)
    count = len(unavailable)
    print(summary(loaded) + f"; {count} Wi-Fi password{'' if count == 1 else 's'} not available here "
          f"(render and apply need {'it' if count == 1 else 'them'}; --strict makes this an error)")
    return EXIT_OK


def cmd_rooms(args: argparse.Namespace) -> int:
    if args.new is not None:
        if not 1 <= args.new <= 10000:
            return _err("--new takes a number from 1 to 10000", EXIT_INVALID)
        print("\n".join(generate_room() for _ in range(args.new)))
        return EXIT_OK
    if args.file is None:
        return _err("rooms needs FILE (or --new N)", EXIT_INVALID)
    path = Path(args.file)
    text = _read_text(path)
    if not args.fill:
        loaded = load_file(path, require_rooms=False)
        missing = [t.id for t in loaded.targets if t.device.room is None]
        for device_id in missing:
            print(f"{device_id}: no room yet")
        print(f"{len(missing)} of {len(loaded.targets)} devices without a room"
              + (f"; run 'palim-provision rooms {path} --fill'" if missing else ""))
        return EXIT_OK
    try:
        new_text, added = fill_rooms(text)
    except RoomsError as exc:
        return _err(f"{path}: {exc}", EXIT_INVALID)
    if not added:
        print(f"every device in {path} already has a room; nothing changed")
        return EXIT_OK
    backup = path.with_name(path.name + ".palim-bak")
    try:
        st = path.stat()
        write_atomic(backup, text.encode("utf-8"), st.st_mode & 0o7777)
        write_atomic(path, new_text.encode("utf-8"), st.st_mode & 0o7777,
                     st.st_uid if os.geteuid() == 0 else None, st.st_gid)
    except OSError as exc:
        return _err(f"could not write {path}: {exc.strerror or exc}; the file is unchanged", EXIT_FAILED)
    for item in added:
        print(f"{path}:{item.line}: {item.device}: room {item.room}")
    print(f"added {len(added)} room(s) to {path} (the old file is {backup})")
    return EXIT_OK


def _read_text(path: Path) -> str:
    # Reading through load_file's checks gives the same plain-words messages for every command.
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        load_file(path, require_rooms=False)
        raise


def _pick(loaded: Loaded, device_id: str | None) -> list[Target]:
    if device_id is None:
        return loaded.targets
    target = loaded.target(device_id)
    if target is None:
        known = [t.id for t in loaded.targets]
        shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
        raise _Invalid(f"{loaded.file}: no device with id '{device_id}' (known: {shown or 'none'})")
    return [target]


class _Invalid(Exception):
    """A user mistake found outside the device list itself."""


def cmd_render(args: argparse.Namespace) -> int:
    loaded = load_file(args.file)
    try:
        targets = _pick(loaded, args.device)
    except _Invalid as exc:
        return _err(str(exc), EXIT_INVALID)
    psks, problems = resolve_secrets(loaded, targets)
    tokens, token_unavailable, token_wrong = device_tokens(loaded, targets)
    problems += token_unavailable + token_wrong
    if problems:
        raise DeviceListError(problems)
    out = Path(args.out)
    source = project_source()
    try:
        for target in targets:
            bundle = render_bundle(target, psks.get(target.home_key), source, tokens.get(target.id))
            manifest = write_bundle(bundle, out)[-1]
            print(f"rendered {target.id}: {len(bundle.files)} files in {manifest.parent} (manifest {manifest})")
    except OSError as exc:
        where = exc.filename or out
        return _err(f"could not write {where}: {exc.strerror or exc}", EXIT_FAILED)
    return EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    loaded = load_file(args.file)
    root = Path(args.root)
    if not root.is_dir():
        return _err(f"--root {root} is not a directory", EXIT_INVALID)
    try:
        target = _pick(loaded, args.device)[0] if args.device else _recognise(loaded)
    except (_Invalid, NotRecognised) as exc:
        return _err(str(exc), EXIT_INVALID)
    psks, problems = resolve_secrets(loaded, [target])
    tokens, token_unavailable, token_wrong = device_tokens(loaded, [target])
    problems += token_unavailable + token_wrong
    if problems:
        raise DeviceListError(problems)
    live = is_live(root)
    source = args.kiosk_source or project_source()
    if live and source is None and not args.dry_run:
        return _err("cannot find the Palim project to install the kiosk from; give --kiosk-source DIR", EXIT_INVALID)
    bundle = render_bundle(target, psks.get(target.home_key), source if live else None, tokens.get(target.id),
                           offline=args.offline)
    runner = SystemRunner() if live else SkipRunner()
    try:
        report = apply_bundle(bundle, root, dry_run=args.dry_run, runner=runner)
    except ApplyError as exc:
        if args.json:
            print(json.dumps(exc.report.as_json(), indent=1))
            return EXIT_FAILED
        print(exc.report.diff_text(), end="")
        print("\n".join(exc.report.lines()))
        hint = " (are you root?)" if exc.report.error and "Permission denied" in exc.report.error else ""
        return _err(f"applying {target.id} failed{hint}; see above for what was done", EXIT_FAILED)
    except OSError as exc:
        return _err(f"cannot read {exc.filename or root}: {exc.strerror or exc}", EXIT_FAILED)
    if args.json:
        print(json.dumps(report.as_json(), indent=1))
        return EXIT_OK
    print(report.diff_text(), end="")
    print("\n".join(report.lines()))
    return EXIT_OK


def cmd_tokens(args: argparse.Namespace) -> int:
    loaded = load_file(args.file)
    try:
        targets = _pick(loaded, args.device)
    except _Invalid as exc:
        return _err(str(exc), EXIT_INVALID)
    targets = [t for t in targets if t.jitsi_token is not None]
    if not targets:
        which = f"device {args.device}" if args.device else "no device"
        return _err(f"{which} has token login: set jitsi_token under defaults or the home", EXIT_INVALID)
    tokens, unavailable, wrong = device_tokens(loaded, targets)
    if unavailable or wrong:
        raise DeviceListError(sorted(unavailable + wrong, key=lambda p: (p.line, p.col)))
    if args.out is None:
        for target in targets:
            print(f"{target.id} {tokens[target.id]}")
        return EXIT_OK
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for target in targets:
            path = out / f"{target.id}.jwt"
            write_atomic(path, f"{tokens[target.id]}\n".encode(), 0o600)
            days = target.jitsi_token.valid_days
            print(f"wrote {path} (room {target.config.room}, valid {days} days)")
    except OSError as exc:
        return _err(f"could not write {exc.filename or out}: {exc.strerror or exc}", EXIT_FAILED)
    return EXIT_OK


def cmd_inventory(args: argparse.Namespace) -> int:
    from .inventory import render_inventory

    loaded = load_file(args.file)
    print(render_inventory(loaded, [sys.executable, "-m", "provisioning.cli"], args.file), end="")
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    from .inventory import extract_device

    loaded = load_file(args.file)
    try:
        _pick(loaded, args.device)
    except _Invalid as exc:
        return _err(str(exc), EXIT_INVALID)
    print(extract_device(loaded, args.device), end="")
    return EXIT_OK


def cmd_cards(args: argparse.Namespace) -> int:
    loaded = load_file(args.file)
    out = Path(args.out)
    if out.is_dir():
        return _err(f"--out {out} is a directory; give a file name like {out / 'karten.pdf'}", EXIT_INVALID)
    if not out.parent.is_dir():
        return _err(f"--out: the folder {out.parent} does not exist", EXIT_INVALID)
    targets = loaded.targets
    if args.home is not None:
        if args.home not in loaded.model.homes:
            return _err(f"{loaded.file}: no home '{args.home}' (known: {', '.join(loaded.model.homes)})", EXIT_INVALID)
        targets = [t for t in targets if t.home_key == args.home]
    if args.device:
        try:
            chosen = {t.id for device_id in args.device for t in _pick(loaded, device_id)}
        except _Invalid as exc:
            return _err(str(exc), EXIT_INVALID)
        targets = [t for t in targets if t.id in chosen]
    if not targets:
        return _err("no device matches --home and --device together; nothing to print", EXIT_INVALID)
    try:
        import segno  # noqa: F401
    except ImportError:
        return _err("the QR codes need segno: pip install 'palim-kiosk[fleet]' (or pip install segno)", EXIT_FAILED)
    from .cards import CardsError, cards_for, write_cards

    try:
        cards = [card for t in targets for card in cards_for(t)]  # one per language the family reads
        pages = write_cards(cards, out, args.paper)
    except CardsError as exc:
        return _err(f"could not make the cards: {exc}", EXIT_FAILED)
    except OSError as exc:
        return _err(f"could not write {out}: {exc.strerror or exc}", EXIT_FAILED)
    print(f"wrote {len(cards)} card(s) on {pages} {args.paper.upper()} page(s) to {out}; print at actual size "
          f"(100 %) and cut along the marks")
    return EXIT_OK


def cmd_server_check(args: argparse.Namespace) -> int:
    from .servercheck import ServerTarget, run_server_check, targets_from_devices

    if args.devices:
        if args.pin or args.presence:
            return _err("--pin and --presence go with URL; with --devices they come from the list", EXIT_INVALID)
        targets, problems = targets_from_devices(load_file(args.devices))
        for problem in problems:  # no token here: the check goes on without one and says so
            print(f"{problem.file}:{problem.line}:{problem.col}: warning: {problem.path}: {problem.message}",
                  file=sys.stderr)
    else:
        try:
            targets = [ServerTarget.from_url(args.url, tuple(args.pin), args.presence)]
        except ValueError as exc:
            return _err(str(exc), EXIT_INVALID)
    token = None
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            return _err(f"cannot read --token-file {args.token_file}: {getattr(exc, 'strerror', None) or exc}",
                        EXIT_INVALID)
    reports = run_server_check(targets, token)
    if args.json:
        print(json.dumps({"ok": all(r.ok for r in reports), "servers": [r.as_json() for r in reports]}, indent=1))
    else:
        for report in reports:
            print(report.server)
            for finding in report.findings:
                print("  " + finding.line())
        failed = sum(1 for r in reports if not r.ok)
        print(f"{len(reports)} server(s) checked, {failed} with failures" if failed else
              f"{len(reports)} server(s) checked: ready for kiosks" + (" (see the warnings)" if any(
                  f.status == "warn" for r in reports for f in r.findings) else ""))
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check

    root = Path(args.sysfs_root)
    if not root.is_dir():
        return _err(f"--sysfs-root {root} is not a directory", EXIT_INVALID)
    if not (root / "proc" / "meminfo").is_file() and not (root / "sys" / "class").is_dir():
        return _err(f"--sysfs-root {root} holds neither proc/meminfo nor sys/class: not a machine's tree",
                    EXIT_INVALID)
    result = check(root, rotation=args.rotate)
    if args.json:
        print(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(result.lines()))
    return EXIT_FAILED if result.verdict == "unsuitable" else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .report import (ReportError, csv_report, find_logs, parse_window, read_logs, reading_notes, summarise,
                         text_report)

    try:
        since, until = parse_window(args.since, args.until)
        files = find_logs([Path(p) for p in args.logs])
    except ReportError as exc:
        return _err(str(exc), EXIT_INVALID)
    homes = {t.id: t.home_key for t in load_file(args.devices, require_rooms=False).targets} if args.devices else None
    reading = read_logs(files, homes)
    summary = summarise(reading.calls, since, until)
    if args.format == "csv":
        text = csv_report(summary)
        for line in reading_notes(reading):
            print(line, file=sys.stderr)
    else:
        text = text_report(summary, reading, since, until)
    if args.out:
        try:
            write_atomic(Path(args.out), text.encode("utf-8"), 0o644)
        except OSError as exc:
            return _err(f"could not write {args.out}: {exc.strerror or exc}", EXIT_FAILED)
        print(f"wrote the report ({summary.calls} calls, {summary.hours:.1f} hours) to {args.out}")
    else:
        print(text, end="")
    return EXIT_FAILED if reading.unreadable else EXIT_OK


def _recognise(loaded: Loaded) -> Target:
    target, seen = recognise(loaded)
    print(f"this device is {target.id} ({seen})")
    return target


if __name__ == "__main__":
    sys.exit(main())
