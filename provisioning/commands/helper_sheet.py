"""palim-provision helper-sheet: the helpers' A4 sheet (German) for the installer stick, with the open places."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..devicelist import load_file
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision helper-sheet devices.yaml --out helfer.pdf
  palim-provision helper-sheet devices.yaml --out sonnenhang.pdf --home haus-am-sonnenhang

The sheet (A4, German, in the list's brand) is for the helpers at the table of donated laptops: the four actions
with pictures, the start-menu key of each maker, what to do when a laptop does not start from the stick, every
screen of the stick, and the open places (devices without match:) numbered as the stick shows them, to tick off.
Print it from the same list the stick was built from, so the numbers are the same.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("helper-sheet", help="print the helpers' sheet (PDF, A4, German) for the installer stick",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Make the printable sheet a helper follows to install laptops with the stick.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--out", metavar="PDF", required=True, help="the PDF to write")
    p.add_argument("--home", metavar="KEY", action="append",
                   help="only the open places of this home (may be repeated; default: all)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return helper_sheet(out, args.file, Path(args.out), homes=args.home)


def helper_sheet(out: Output, file: str, pdf: Path, *, homes: list[str] | None = None) -> int:
    """Write the sheet for the list's open places (all, or of the given homes)."""
    loaded = load_file(file, require_rooms=False)
    if pdf.is_dir():
        return out.fail(f"--out {pdf} is a directory; give a file name like {pdf / 'helfer.pdf'}", EXIT_INVALID)
    if not pdf.parent.is_dir():
        return out.fail(f"--out: the folder {pdf.parent} does not exist", EXIT_INVALID)
    unknown = [home for home in homes or [] if home not in loaded.model.homes]
    if unknown:
        return out.fail(f"{loaded.file}: no home '{unknown[0]}' (known: {', '.join(loaded.model.homes)})",
                        EXIT_INVALID)
    from ..helpersheet import sheet_for
    from ..helpersheetpdf import write_sheet
    from ..printing import PrintError

    sheet = sheet_for(loaded, homes)
    try:
        pages = write_sheet(sheet, pdf)
    except PrintError as exc:
        return out.fail(f"could not make the sheet: {exc}", EXIT_FAILED)
    except OSError as exc:
        return out.fail(f"could not write {pdf}: {exc.strerror or exc}", EXIT_FAILED)
    places = len(sheet.places)
    out.say(f"wrote the helpers' sheet ({pages} A4 pages, {places} open place{'' if places == 1 else 's'} to tick "
            f"off) to {pdf}; print it at actual size (100 %)")
    if not places:
        out.note(f"{loaded.file} has no open places (devices without match:): the table says so")
    return EXIT_OK
