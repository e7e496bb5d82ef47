"""palim-provision settings: the reference of every setting (docs/settings.md is its output)."""

from __future__ import annotations

import argparse

from ..settingsref import reference
from .output import EXIT_OK, Output


def register(sub, fmt) -> None:
    p = sub.add_parser("settings", help="print the reference of every setting (docs/settings.md)", formatter_class=fmt,
                       epilog="examples:\n  palim-provision settings > docs/settings.md   # after a change to the "
                              "models\n",
                       description="Print every key a device list and a kiosk config accept, where each may be set, "
                                   "its default and an example, as Markdown (docs/settings.md is this).")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return settings(out)


def settings(out: Output) -> int:
    """Print the reference."""
    out.say(reference(), end="")
    return EXIT_OK
