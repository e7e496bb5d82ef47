"""Family invitation cards: one A6 card per device and language, with the room link, its QR code and three steps,
as a PDF. Each card is in the language of the contacts it is for (a contact's `language:`, else the kiosk's); its
words are catalog entries (kiosk/core/cardwords.py, translated in kiosk/locale).

The QR code comes from segno (pure Python), the PDF from Qt's own QPdfWriter; nothing else is needed to print.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.core.assets import DEFAULT_BRAND_ID, shipped_logo
from kiosk.core.cardwords import (
    CARD_BY_VIDEO, CARD_HELP, CARD_KEEP, CARD_REACH, CARD_STEP_ALLOW, CARD_STEP_JOIN, CARD_STEP_OPEN, CARD_SUBTITLE,
    CARD_TIP, say,
)
from kiosk.core.catalogs import SOURCE_LANGUAGE

from .devicelist import Target
from .photos import resolve
from .printing import FONT, INK, MONO, PrintError, fit, font, millimetres, pdf_painter, text

# Page layouts: (page size name, landscape, columns, rows). An A6 card is 105 x 148 mm.
PAPERS = {"a4": ("A4", False, 2, 2), "a5": ("A5", True, 2, 1)}
CARD_W, CARD_H = 105.0, 148.0
MARGIN = 8.0  # printers leave 3 to 5 mm unprinted at the page edge; text stays well inside
GREEN = "#17592f"  # the logo's green
MUTED = "#55554f"


@dataclass(frozen=True)
class Card:
    """What one card says."""

    device_id: str
    resident: str
    link: str
    home_name: str
    label: str | None
    support: str | None
    brand_name: str = "Palim! Palim!"
    logo: str | None = None  # SVG file; None: the default brand's
    photo: str | None = None  # the device's home_photo (JPEG or PNG): the family recognise their own card
    language: str = SOURCE_LANGUAGE  # the words' language (the five kiosk languages)


def card_for(target: Target, language: str | None = None) -> Card:
    """The card of a device, from its resolved kiosk config, in a language (default: the kiosk's)."""
    config = target.config
    photo = str(resolve(Path(target.list_dir), config.home_photo)) if config.home_photo else None
    return Card(target.id, config.resident, config.family_link, target.home.name, target.device.label,
                config.contact, config.brand.name, str(config.brand.logo_path()), photo,
                language or config.language)


def card_languages(target: Target) -> list[str]:
    """The languages a device's family reads, in the order of its contacts (each contact's `language:`, else the
    kiosk's); the kiosk's alone when it has no contacts."""
    config = target.config
    return list(dict.fromkeys(c.language or config.language for c in config.family.contacts)) or [config.language]


def cards_for(target: Target) -> list[Card]:
    """A device's cards: one per language its family reads."""
    return [card_for(target, language) for language in card_languages(target)]


def split_link(link: str) -> list[str]:
    """The link in lines a person can copy: the server with its slash, the room, then the part from "#" on."""
    address, hash_sign, rest = link.partition("#")
    head, sep, room = address.rpartition("/")
    lines = [head + sep, room] if head and room else [address]
    return lines + ([hash_sign + rest] if hash_sign else [])


def qr_matrix(link: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), without the quiet zone."""
    import segno

    code = segno.make_qr(link, error="m")
    return [[bool(cell) for cell in row] for row in code.matrix]


# The cards' errors are the printing's (Qt, fonts, writing the file).
CardsError = PrintError


def write_cards(cards: list[Card], out: Path, paper: str = "a4") -> int:
    """Write the cards to a PDF; returns the number of pages."""
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}")
    if not cards:
        raise ValueError("no cards to print")
    size_name, landscape, cols, rows = PAPERS[paper]
    with pdf_painter(out, "Palim! Palim! – Einladungskarten für Familien", "palim-provision cards", size_name,
                     landscape) as (writer, painter):
        pages = _paint_pages(cards, writer, painter, cols, rows)
    return pages


def _paint_pages(cards: list[Card], writer, painter, cols: int, rows: int) -> int:
    per_page = cols * rows
    pages = (len(cards) + per_page - 1) // per_page
    for page in range(pages):
        if page:
            writer.newPage()
        painter.save()
        millimetres(writer, painter)
        for slot, card in enumerate(cards[page * per_page:(page + 1) * per_page]):
            painter.save()
            painter.translate((slot % cols) * CARD_W, (slot // cols) * CARD_H)
            _paint_card(painter, card)
            painter.restore()
        _paint_cut_marks(painter, cols, rows)
        painter.restore()
    return pages


# --------------------------------------------------------------------------- painting (units: millimetres)


STEP_GAP = 1.0


def _steps(card: Card) -> list[str]:
    return [say(card.language, CARD_STEP_OPEN), say(card.language, CARD_STEP_ALLOW),
            say(card.language, CARD_STEP_JOIN, name=card.resident)]


def _paint_photo(painter, path: str, right: float, top: float, height: float) -> float:
    """The family's photo in the header's right corner, at most 22 mm wide; returns its width (0: unreadable)."""
    from PyQt6.QtCore import QRectF
    from PyQt6.QtGui import QImageReader

    reader = QImageReader(path)
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        return 0.0
    if max(image.width(), image.height()) > 600:  # 22 mm at about 700 dpi: sharp in print, small in the PDF
        from PyQt6.QtCore import Qt

        image = image.scaled(600, 600, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    width = min(22.0, height * image.width() / max(1, image.height()))
    shown = height if width < 22.0 else width * image.height() / max(1, image.width())
    painter.drawImage(QRectF(right - width, top + (height - shown) / 2, width, shown), image)
    return width


def _paint_card(painter, card: Card) -> None:
    from PyQt6.QtCore import QLineF, QRectF
    from PyQt6.QtGui import QColor, QPen
    from PyQt6.QtSvg import QSvgRenderer

    inner = CARD_W - 2 * MARGIN
    x = MARGIN
    # Header: the logo and what this is.
    logo = card.logo or str(shipped_logo(DEFAULT_BRAND_ID))
    QSvgRenderer(logo).render(painter, QRectF(x, MARGIN - 1, 13, 13))
    photo_w = _paint_photo(painter, card.photo, x + inner, MARGIN - 1, 13) if card.photo else 0.0
    header_w = inner - 16 - (photo_w + 2 if photo_w else 0)
    text(painter, (x + 16, MARGIN, header_w, 7), card.brand_name, font(FONT, 11, True), GREEN, wrap=False)
    text(painter, (x + 16, MARGIN + 6, header_w, 7), say(card.language, CARD_SUBTITLE), font(FONT, 8.5),
          MUTED, wrap=False)
    y = MARGIN + 15

    # Title: "So erreichen Sie" / NAME / "per Video"
    y += text(painter, (x, y, inner, 8), say(card.language, CARD_REACH), font(FONT, 11))
    name_font = fit(painter, FONT, card.resident, inner, 19, 12, bold=True)
    y += text(painter, (x, y, inner, 20), card.resident, name_font)
    y += text(painter, (x, y, inner, 8), say(card.language, CARD_BY_VIDEO), font(FONT, 11)) + 2

    # Measure what goes below the QR code, so the code takes the room that is left (at most 40 mm).
    lines = split_link(card.link)
    link_font = fit(painter, MONO, max(lines, key=len), inner, 13, 7, bold=True)
    link_h = sum(text(painter, (x, 0, inner, 8), line, link_font, wrap=False, draw=False) for line in lines)
    step_font, number_font, tip_font = font(FONT, 10), font(FONT, 10, True), font(FONT, 8.5)
    steps = _steps(card)
    tip = say(card.language, CARD_TIP)
    steps_h = sum(text(painter, (x + 5.5, 0, inner - 5.5, 20), step, step_font, draw=False) + STEP_GAP
                  for step in steps) + text(painter, (x + 5.5, 0, inner - 5.5, 8), tip, tip_font, draw=False)
    place = card.home_name + (f" · {card.label}" if card.label else "")
    footer = [(place, font(FONT, 8.5, True), INK)]
    if card.support:
        footer.append((say(card.language, CARD_HELP, support=card.support), font(FONT, 8.5), INK))
    footer.append((say(card.language, CARD_KEEP), font(FONT, 7), MUTED))
    footer_h = sum(text(painter, (x, 0, inner, 12), t, f, draw=False) for t, f, _ in footer)
    footer_top = CARD_H - 6.5 - footer_h
    qr_size = max(24.0, min(40.0, footer_top - 3 - y - 3 - link_h - 2.5 - steps_h))

    # The QR code, centred; segno's matrix has no quiet zone, the white card around it is one.
    matrix = qr_matrix(card.link)
    module = qr_size / len(matrix)
    qx, qy = (CARD_W - qr_size) / 2, y
    black = QColor("#000000")
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # a hair of overlap so viewers never show seams between modules
            painter.fillRect(QRectF(qx + start * module, qy + r * module, (c - start) * module + 0.02,
                                    module + 0.02), black)
    y = qy + qr_size + 3

    # The link in large type: the server, then the room, each on its own line.
    for line in lines:
        y += text(painter, (x, y, inner, 8), line, link_font, INK, "center", wrap=False)
    y += 2.5

    # Three steps for a phone.
    for number, step in enumerate(steps, 1):
        text(painter, (x, y, 6, 6), f"{number}.", number_font, GREEN, wrap=False)
        y += text(painter, (x + 5.5, y, inner - 5.5, 20), step, step_font) + STEP_GAP
    text(painter, (x + 5.5, y, inner - 5.5, 8), tip, tip_font, MUTED)

    # Footer: where, whom to ask, and that the link is the key to the room.
    painter.save()
    painter.setPen(QPen(QColor(GREEN), 0.3))
    painter.drawLine(QLineF(x, footer_top - 1.5, x + inner, footer_top - 1.5))
    painter.restore()
    y = footer_top
    for words, face, color in footer:
        y += text(painter, (x, y, inner, 12), words, face, color)


def _paint_cut_marks(painter, cols: int, rows: int) -> None:
    """Dashed light lines between the cards and short solid marks near the page edges, on the cut lines."""
    from PyQt6.QtCore import QLineF, Qt
    from PyQt6.QtGui import QColor, QPen

    width, height = cols * CARD_W, rows * CARD_H
    dashed = QPen(QColor("#b0b0a8"), 0.2)
    dashed.setStyle(Qt.PenStyle.DashLine)
    solid = QPen(QColor("#000000"), 0.25)
    painter.save()
    for c in range(1, cols):
        xc = c * CARD_W
        painter.setPen(dashed)
        painter.drawLine(QLineF(xc, 10, xc, height - 10))
        painter.setPen(solid)
        painter.drawLine(QLineF(xc, 3, xc, 9))
        painter.drawLine(QLineF(xc, height - 9, xc, height - 3))
    for r in range(1, rows):
        yc = r * CARD_H
        painter.setPen(dashed)
        painter.drawLine(QLineF(10, yc, width - 10, yc))
        painter.setPen(solid)
        painter.drawLine(QLineF(3, yc, 9, yc))
        painter.drawLine(QLineF(width - 9, yc, width - 3, yc))
    painter.restore()
