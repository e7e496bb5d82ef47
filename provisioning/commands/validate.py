"""palim-provision validate: check the device list and show every problem at once."""

from __future__ import annotations

import argparse

from ..devicelist import DeviceListError, load_file, presence_warnings, read_secrets, summary
from ..listwarnings import list_warnings, password_spaces
from ..photos import DEVICE_PHOTO_SIDE, LIMITS as PHOTO_LIMITS
from ..tokens import device_tokens
from .output import EXIT_OK, Output

EPILOG = f"""\
examples:
  palim-provision validate devices.yaml                   # a password that is not here is only a warning
  EBH_WIFI_PSK=... palim-provision validate devices.yaml --strict   # before render or apply: every password too
  palim-provision validate devices.yaml --skip-secrets    # do not look for the passwords at all

Checks the list's structure and references without needing the secrets: a Wi-Fi password whose environment
variable is not set or whose secrets file is missing (or not readable by this user) is a warning, shown as
FILE:LINE:COL: warning: path: message; with --strict it is an error. A password that is there but wrong
(length, characters) is always an error. render and apply always need every password of their devices.
It also warns about what is valid but very likely a slip: no staff PIN (admin_pin_hash), a value cut short by
' #' (YAML's comment: quote the value), an e-mail contact without family.smtp, a secrets file other users can
read, a Wi-Fi password with a space at either end. It refuses room names or serials that differ only in case.
Every problem is shown at once as FILE:LINE:COL: path: message. Exit 0 when valid, 2 otherwise.

Photos (family.contacts[].photo, a device's home_photo; a file next to the list, like photos/anna.jpg) must
exist and decode.
Limits: {PHOTO_LIMITS}.
The device gets each one as a JPEG at most {DEVICE_PHOTO_SIDE} px on its longer side, without its metadata.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("validate", help="check the device list and show every problem", formatter_class=fmt,
                       epilog=EPILOG, description="Check the device list and show every problem at once.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    secrets = p.add_mutually_exclusive_group()
    secrets.add_argument("--strict", action="store_true",
                         help="a Wi-Fi password that is not available here is an error (exit 2), not a warning")
    secrets.add_argument("--skip-secrets", action="store_true",
                         help="do not look for the Wi-Fi passwords at all")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return validate(out, args.file, strict=args.strict, skip_secrets=args.skip_secrets)


def validate(out: Output, file: str, *, strict: bool = False, skip_secrets: bool = False) -> int:
    """Load the list, then its warnings, then (unless skipped) its secrets: missing ones warn, wrong ones refuse."""
    loaded = load_file(file)
    warnings = presence_warnings(loaded) + list_warnings(loaded)
    if skip_secrets:
        _warn(out, warnings)
        out.say(summary(loaded))
        return EXIT_OK
    psks, unavailable, wrong = read_secrets(loaded, loaded.targets)
    # The Jitsi app secret (jitsi_token) is looked for like the Wi-Fi passwords.
    _, token_unavailable, token_wrong = device_tokens(loaded, loaded.targets)
    wrong += token_wrong + (token_unavailable if strict else [])
    if wrong or (unavailable and strict):
        raise DeviceListError(sorted(unavailable + wrong, key=lambda p: (p.line, p.col)))
    warnings += password_spaces(loaded, psks) + ([] if strict else token_unavailable)
    # The list itself is fine; a password that is not here is for render and apply to need (a desk, a fresh clone).
    _warn(out, warnings + unavailable)
    if not unavailable:
        out.say(summary(loaded) + ", every Wi-Fi password readable")
        return EXIT_OK
    count = len(unavailable)
    out.say(summary(loaded) + f"; {count} Wi-Fi password{'' if count == 1 else 's'} not available here "
            f"(render and apply need {'it' if count == 1 else 'them'}; --strict makes this an error)")
    return EXIT_OK


def _warn(out: Output, warnings: list) -> None:
    for problem in sorted(dict.fromkeys(warnings), key=lambda p: (p.line, p.col)):
        out.warning(problem)
