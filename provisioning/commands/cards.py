"""palim-provision cards: the families' invitation cards (PDF, A6) with the room link and a QR code."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..devicelist import load_file
from ..prepare import UnknownDevice, pick
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  palim-provision cards devices.yaml --out karten.pdf                     # every device, four A6 cards per A4
  palim-provision cards devices.yaml --out ebh-01.pdf --device ebh-01
  palim-provision cards devices.yaml --out ebh.pdf --home erich-burger-heim --paper a5

Each card (German): "So erreichen Sie <resident> per Video", the room link in large type and as a QR code,
three steps for a phone, the home's support contact and the logo. Print at 100 % ("actual size"), then cut
along the marks. The link is the key to the resident's room: hand the cards to the family only.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("cards", help="print family invitation cards (PDF, A6) with the room link and a QR code",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Make a printable PDF with one invitation card per device for the family.")
    p.add_argument("file", metavar="FILE", help="the device list (YAML)")
    p.add_argument("--out", metavar="PDF", required=True, help="the PDF to write")
    p.add_argument("--device", metavar="ID", action="append", help="only this device (may be repeated)")
    p.add_argument("--home", metavar="KEY", help="only the devices of this home")
    p.add_argument("--paper", choices=("a4", "a5"), default="a4",
                   help="a4: four cards per page (default); a5: two cards per page")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return cards(out, args.file, Path(args.out), devices=args.device, home=args.home, paper=args.paper)


def cards(out: Output, file: str, pdf: Path, *, devices: list[str] | None = None, home: str | None = None,
          paper: str = "a4") -> int:
    """Write the cards of the chosen devices (all, a home's, or the named ones) into one PDF."""
    loaded = load_file(file)
    if pdf.is_dir():
        return out.fail(f"--out {pdf} is a directory; give a file name like {pdf / 'karten.pdf'}", EXIT_INVALID)
    if not pdf.parent.is_dir():
        return out.fail(f"--out: the folder {pdf.parent} does not exist", EXIT_INVALID)
    targets = loaded.targets
    if home is not None:
        if home not in loaded.model.homes:
            return out.fail(f"{loaded.file}: no home '{home}' (known: {', '.join(loaded.model.homes)})", EXIT_INVALID)
        targets = [t for t in targets if t.home_key == home]
    if devices:
        try:
            chosen = {t.id for device_id in devices for t in pick(loaded, device_id)}
        except UnknownDevice as exc:
            return out.fail(str(exc), EXIT_INVALID)
        targets = [t for t in targets if t.id in chosen]
    if not targets:
        return out.fail("no device matches --home and --device together; nothing to print", EXIT_INVALID)
    try:
        import segno  # noqa: F401
    except ImportError:
        return out.fail("the QR codes need segno: pip install 'palim-kiosk[fleet]' (or pip install segno)",
                        EXIT_FAILED)
    from ..cards import CardsError, cards_for, write_cards

    try:
        made = [card for t in targets for card in cards_for(t)]  # one per language the family reads
        pages = write_cards(made, pdf, paper)
    except CardsError as exc:
        return out.fail(f"could not make the cards: {exc}", EXIT_FAILED)
    except OSError as exc:
        return out.fail(f"could not write {pdf}: {exc.strerror or exc}", EXIT_FAILED)
    out.say(f"wrote {len(made)} card(s) on {pages} {paper.upper()} page(s) to {pdf}; print at actual size "
            f"(100 %) and cut along the marks")
    return EXIT_OK
