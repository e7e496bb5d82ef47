"""palim-provision's command line: the parser made from the commands (provisioning/commands/, one module each),
and what every command shares: the exit codes, a device list's problems, Ctrl-C and a reader that stops early."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from .commands import COMMANDS
from .commands.output import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output
from .devicelist import DeviceListError

MAIN_EPILOG = """\
examples:
  palim-provision validate devices.yaml
  palim-provision rooms devices.yaml --fill
  EBH_WIFI_PSK=... palim-provision render devices.yaml --device ebh-01 --out /tmp/bundles
  EBH_WIFI_PSK=... palim-provision apply devices.yaml --dry-run
  EBH_WIFI_PSK=... palim-provision apply devices.yaml --device ebh-01 --root /
  palim-provision inventory devices.yaml > inventory.yml            # then ansible-playbook: see inventory --help
  palim-provision hub-config devices.yaml --out hub/                 # the fleet hub's WireGuard peers, Prometheus
  palim-provision cards devices.yaml --out karten.pdf                # invitation cards for the families
  palim-provision check                                              # on a donated device: is it suitable?
  palim-provision report collected-logs/ --since 2026-01-01          # the town's usage figures
  palim-provision server-check --devices devices.yaml                # is the city's Jitsi server ready?
  PALIM_JITSI_SECRET=... palim-provision tokens devices.yaml         # login tokens for token authentication
  palim-provision settings                                           # every setting, where it may be set
  EBH_WIFI_PSK=... sudo -E palim-provision image devices.yaml --out palim-stick.img   # an installer stick
  palim-provision helper-sheet devices.yaml --out helfer.pdf        # the helpers' sheet for the stick (German)
  sudo palim-provision claims import /dev/sdb devices.yaml           # afterwards: which laptop took which place
  palim-provision release --version 1.4 --lock kiosk.lock --key-file city.key --out repo   # a signed release
  palim-provision status --prometheus http://127.0.0.1:9090 --html status.html   # the fleet, as the hub sees it

exit codes: 0 ok, 2 the input is wrong (nothing was changed), 1 something failed while writing or applying.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command's sub-parser."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="palim-provision", formatter_class=fmt, epilog=MAIN_EPILOG,
                                     description="Turn a freshly installed Debian 12 device into a Palim kiosk, "
                                                 "from one YAML device list.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub, fmt)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code. A reader that stops early (`check --json | head`) ends it quietly."""
    try:
        code = _run(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Python would report the unflushed rest at exit as well: send it nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    out = Output()
    try:
        return args.run(args, out)
    except DeviceListError as exc:
        return out.problems(exc.problems)
    except KeyboardInterrupt:
        out.note("interrupted")
        return 130


__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_INVALID", "EXIT_BROKEN_PIPE"]

if __name__ == "__main__":
    sys.exit(main())
