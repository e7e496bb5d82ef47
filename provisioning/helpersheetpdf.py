"""The helpers' sheet as an A4 PDF (Qt's QPdfWriter through printing.py): the four actions with pictograms, the boot
keys, what to do when a laptop does not start, the stick's screens, and the open places to tick off.

Units are millimetres; every text is real text in the PDF (pdftotext reads it), in the brand's colours."""

from __future__ import annotations

from pathlib import Path

from .helpersheet import BOOT_KEYS, BOOT_TIPS, RULES, STEPS, TROUBLES, Screen, Sheet
from .printing import FONT, MONO, fit, font, millimetres, pdf_painter, pt_scale, text

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 16.0
INNER = PAGE_W - 2 * MARGIN
FOOTER_Y = PAGE_H - 12.0
CONSOLE_BG, CONSOLE_INK = "#101418", "#e8e8e8"
MUTED = "#4a4f55"
ROWS_PER_TABLE_PAGE = 19
SCREENS_PER_PAGE = 3


def write_sheet(sheet: Sheet, out: Path) -> int:
    """Write the sheet to `out` (whole or not at all); returns the number of pages."""
    table_pages = max(1, -(-len(sheet.places) // ROWS_PER_TABLE_PAGE))
    screen_pages = -(-len(sheet.screens) // SCREENS_PER_PAGE)
    total = 2 + screen_pages + table_pages
    painters = [_steps_page, _boot_page]
    painters += [lambda p, s, n=n: _screens_page(p, s, n) for n in range(screen_pages)]
    painters += [lambda p, s, n=n: _places_page(p, s, n, table_pages) for n in range(table_pages)]
    with pdf_painter(out, f"{sheet.brand.name} – Blatt für Helferinnen und Helfer", "palim-provision helper-sheet",
                     "A4") as (writer, painter):
        for number, paint in enumerate(painters, 1):
            if number > 1:
                writer.newPage()
            painter.save()
            millimetres(writer, painter)
            paint(painter, sheet)
            _footer(painter, sheet, number, total)
            painter.restore()
    return total


# --------------------------------------------------------------------------- the frame of every page


def _header(painter, sheet: Sheet, title: str) -> float:
    """Logo, brand and the page's title; returns where the content starts."""
    from PyQt6.QtCore import QRectF
    from PyQt6.QtSvg import QSvgRenderer

    accent, ink = sheet.colours["call"], sheet.colours["text"]
    QSvgRenderer(str(sheet.brand.logo_path())).render(painter, QRectF(MARGIN, 11, 13, 13))
    text(painter, (MARGIN + 16, 11.5, INNER - 16, 7), sheet.brand.name, font(FONT, 12, True), accent, wrap=False)
    text(painter, (MARGIN + 16, 17.5, INNER - 16, 6), "Laptops einrichten mit dem Stick · für Helferinnen und "
                                                      "Helfer", font(FONT, 9), MUTED, wrap=False)
    _rule(painter, 27.5, accent)
    return 31 + text(painter, (MARGIN, 31, INNER, 14), title, fit(painter, FONT, title, INNER, 20, 14, True), ink)


def _footer(painter, sheet: Sheet, number: int, total: int) -> None:
    left = ", ".join(sheet.homes) if sheet.homes else ""
    if sheet.support:
        left = (left + " · " if left else "") + f"Fragen: {sheet.support}"
    _rule(painter, FOOTER_Y - 2, sheet.colours["call"], 0.2)
    text(painter, (MARGIN, FOOTER_Y, INNER - 25, 6), left, fit(painter, FONT, left, INNER - 25, 8, 6), MUTED,
         wrap=False)
    text(painter, (PAGE_W - MARGIN - 25, FOOTER_Y, 25, 6), f"Seite {number} von {total}", font(FONT, 8), MUTED,
         "right", wrap=False)


def _rule(painter, y: float, colour: str, width: float = 0.4) -> None:
    from PyQt6.QtCore import QLineF
    from PyQt6.QtGui import QColor, QPen

    painter.save()
    painter.setPen(QPen(QColor(colour), width))
    painter.drawLine(QLineF(MARGIN, y, PAGE_W - MARGIN, y))
    painter.restore()


def _box(painter, rect, fill: str | None, border: str | None, radius: float = 2.5, width: float = 0.35) -> None:
    from PyQt6.QtCore import QRectF, Qt
    from PyQt6.QtGui import QBrush, QColor, QPen

    painter.save()
    painter.setPen(QPen(QColor(border), width) if border else Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(fill)) if fill else Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(*rect), radius, radius)
    painter.restore()


def _section(painter, sheet: Sheet, y: float, title: str) -> float:
    return y + text(painter, (MARGIN, y, INNER, 9), title, font(FONT, 13, True), sheet.colours["call"]) + 1.5


# --------------------------------------------------------------------------- page 1: the four actions


def _steps_page(painter, sheet: Sheet) -> None:
    accent, ink, paper = sheet.colours["call"], sheet.colours["text"], sheet.colours["background"]
    y = _header(painter, sheet, "Ein Laptop in vier Schritten") + 1
    y += text(painter, (MARGIN, y, INNER, 12), "Für jeden gespendeten Laptop dasselbe. Meist heißt es nur warten.",
              font(FONT, 11), ink) + 4
    panel_h = 47.0
    for number, step in enumerate(STEPS, 1):
        _box(painter, (MARGIN, y, INNER, panel_h), paper, accent)
        _number_badge(painter, MARGIN + 4, y + 4, number, accent, sheet.colours["on_button"])
        _PICTURES[step.picture](painter, MARGIN + 14, y + 6, 50, 35, accent, ink)
        tx = MARGIN + 68
        used = text(painter, (tx, y + 5, INNER - 72, 10), step.title,
                    fit(painter, FONT, step.title, INNER - 72, 14, 11, True), ink, wrap=False)
        text(painter, (tx, y + 6 + used, INNER - 72, panel_h - used - 8), step.text, font(FONT, 10.5), ink)
        y += panel_h + 3.5
    _box(painter, (MARGIN, y, INNER, PAGE_H - 16 - y), None, accent, width=0.6)
    inner_y = y + 3
    inner_y += text(painter, (MARGIN + 4, inner_y, INNER - 8, 8), "Wichtig", font(FONT, 11, True), accent) + 0.5
    for rule in RULES:
        inner_y += text(painter, (MARGIN + 4, inner_y, INNER - 8, 10), f"•  {rule}", font(FONT, 10), ink) + 0.3


def _number_badge(painter, x: float, y: float, number: int, fill: str, ink: str) -> None:
    from PyQt6.QtCore import QPointF, Qt
    from PyQt6.QtGui import QBrush, QColor

    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(fill)))
    painter.drawEllipse(QPointF(x + 4.5, y + 4.5), 4.5, 4.5)
    painter.restore()
    text(painter, (x, y + 1.6, 9, 7), str(number), font(FONT, 13, True), ink, "center", wrap=False)


def _pen(colour: str, width: float = 1.0):
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QColor, QPen

    pen = QPen(QColor(colour), width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _laptop(painter, x: float, y: float, ink: str) -> None:
    """A laptop seen from the front: lid with screen, flat base (about 30 x 24 mm)."""
    from PyQt6.QtCore import QPointF, QRectF
    from PyQt6.QtGui import QPolygonF

    painter.setPen(_pen(ink, 0.8))
    painter.drawRoundedRect(QRectF(x + 3, y, 24, 16), 1.2, 1.2)
    painter.drawRect(QRectF(x + 5, y + 2, 20, 12))
    painter.drawPolygon(QPolygonF([QPointF(x + 1, y + 17.5), QPointF(x + 29, y + 17.5), QPointF(x + 31, y + 21),
                                   QPointF(x - 1, y + 21)]))


def _stick(painter, x: float, y: float, colour: str) -> None:
    """A USB stick lying flat, plug to the left (about 16 x 6 mm)."""
    from PyQt6.QtCore import QRectF
    from PyQt6.QtGui import QBrush, QColor

    painter.setPen(_pen(colour, 0.7))
    painter.setBrush(QBrush(QColor(colour)))
    painter.drawRoundedRect(QRectF(x + 5, y, 11, 6), 1.2, 1.2)
    painter.setBrush(QBrush())
    painter.drawRect(QRectF(x, y + 1, 5, 4))


def _arrow(painter, x1: float, y1: float, x2: float, y2: float, colour: str) -> None:
    import math

    from PyQt6.QtCore import QLineF, QPointF
    from PyQt6.QtGui import QPolygonF

    painter.setPen(_pen(colour, 0.9))
    painter.drawLine(QLineF(x1, y1, x2, y2))
    angle = math.atan2(y2 - y1, x2 - x1)
    head = [QPointF(x2, y2)] + [QPointF(x2 - 2.6 * math.cos(angle + s * 0.5), y2 - 2.6 * math.sin(angle + s * 0.5))
                                for s in (1, -1)]
    from PyQt6.QtGui import QBrush, QColor

    painter.setBrush(QBrush(QColor(colour)))
    painter.drawPolygon(QPolygonF(head))
    painter.setBrush(QBrush())


def _key(painter, x: float, y: float, w: float, label: str, ink: str, size: float = 11) -> None:
    """A key cap with its label."""
    from PyQt6.QtCore import QLineF, QRectF

    painter.setPen(_pen(ink, 0.6))
    painter.drawRoundedRect(QRectF(x, y, w, 10), 1.5, 1.5)
    painter.drawLine(QLineF(x + 1, y + 9, x + w - 1, y + 9))
    text(painter, (x, y + 1.6, w, 8), label, font(FONT, size, True), ink, "center", wrap=False)


def _picture_stick(painter, x, y, w, h, accent, ink) -> None:
    painter.save()
    _laptop(painter, x + 1, y + 6, ink)
    _stick(painter, x + 33, y + 22, accent)
    _arrow(painter, x + 39, y + 18.5, x + 33.5, y + 18.5, accent)
    painter.restore()


def _picture_power(painter, x, y, w, h, accent, ink) -> None:
    from PyQt6.QtCore import QLineF, QRectF

    painter.save()
    painter.setPen(_pen(accent, 1.2))
    painter.drawArc(QRectF(x + 1, y + 8, 16, 16), 120 * 16, 300 * 16)  # the power sign: a ring open at the top ...
    painter.drawLine(QLineF(x + 9, y + 6, x + 9, y + 15))  # ... and its bar
    _key(painter, x + 21, y + 11, 16, "F12", ink, 10)
    painter.setPen(_pen(accent, 0.6))
    for dx in (-2.5, 0, 2.5):  # "tap, tap, tap"
        painter.drawLine(QLineF(x + 29 + dx * 2, y + 9, x + 29 + dx * 2.6, y + 6.5))
    painter.restore()


def _picture_number(painter, x, y, w, h, accent, ink) -> None:
    painter.save()
    _key(painter, x + 1, y + 12, 12, "3", ink, 14)
    text(painter, (x + 13, y + 13, 7, 8), "+", font(FONT, 14, True), accent, "center", wrap=False)
    _key(painter, x + 20, y + 12, 26, "Eingabe ↵", ink, 9)
    painter.restore()


def _picture_pull(painter, x, y, w, h, accent, ink) -> None:
    from PyQt6.QtCore import QPointF
    from PyQt6.QtGui import QPolygonF

    painter.save()
    _laptop(painter, x + 1, y + 6, ink)
    _stick(painter, x + 33, y + 22, accent)
    _arrow(painter, x + 33.5, y + 18.5, x + 40, y + 18.5, accent)
    painter.setPen(_pen(accent, 1.2))  # a tick on the screen: the kiosk is there
    painter.drawPolyline(QPolygonF([QPointF(x + 11, y + 13.5), QPointF(x + 14.5, y + 17), QPointF(x + 21, y + 10)]))
    painter.restore()


_PICTURES = {"stick": _picture_stick, "power": _picture_power, "number": _picture_number, "pull": _picture_pull}


# --------------------------------------------------------------------------- page 2: start menu and troubles


def _boot_page(painter, sheet: Sheet) -> None:
    accent, ink, paper = sheet.colours["call"], sheet.colours["text"], sheet.colours["background"]
    y = _header(painter, sheet, "Die Startmenü-Taste")
    y += text(painter, (MARGIN, y + 1, INNER, 10), "Welche Taste das Startmenü öffnet, hängt vom Hersteller ab "
                                                   "(er steht meist über der Tastatur oder unter dem Bildschirm):",
              font(FONT, 10.5), ink) + 3
    maker_w, key_w = 42.0, 46.0
    note_w = INNER - maker_w - key_w - 6
    for index, boot in enumerate(BOOT_KEYS):
        note_h = text(painter, (0, 0, note_w, 30), boot.note, font(FONT, 9), draw=False) if boot.note else 0
        row_h = max(9.0, note_h + 3.5)
        if index % 2 == 0:
            _box(painter, (MARGIN, y, INNER, row_h), paper, None, radius=1)
        text(painter, (MARGIN + 2, y + 1.8, maker_w - 3, 8), boot.maker,
             fit(painter, FONT, boot.maker, maker_w - 4, 11, 8, True), ink, wrap=False)
        text(painter, (MARGIN + maker_w + 2, y + 1.5, key_w, 8), boot.key,
             fit(painter, FONT, boot.key, key_w - 2, 13, 10, True), accent, wrap=False)
        if boot.note:
            text(painter, (MARGIN + maker_w + key_w + 4, y + 1.8, note_w, note_h + 1), boot.note, font(FONT, 9), ink)
        y += row_h
    y += 2.5
    for tip in BOOT_TIPS:
        y += text(painter, (MARGIN, y, INNER, 12), f"•  {tip}", font(FONT, 9.5), ink) + 0.5
    y = _section(painter, sheet, y + 5, "Wenn der Laptop nicht vom Stick startet")
    sign_w = 62.0
    for trouble in TROUBLES:
        face = font(FONT, 10)
        h = max(text(painter, (0, 0, sign_w, 30), trouble.sign, font(FONT, 10, True), draw=False),
                text(painter, (0, 0, INNER - sign_w - 4, 30), trouble.action, face, draw=False))
        text(painter, (MARGIN, y, sign_w, h + 1), trouble.sign, font(FONT, 10, True), ink)
        text(painter, (MARGIN + sign_w + 4, y, INNER - sign_w - 4, h + 1), trouble.action, face, ink)
        y += h + 2.5


# --------------------------------------------------------------------------- pages 3 and 4: the stick's screens


def _screens_page(painter, sheet: Sheet, page: int) -> None:
    title = "Was der Stick zeigt" + (" (weiter)" if page else "")
    y = _header(painter, sheet, title)
    if page == 0:
        y += text(painter, (MARGIN, y + 1, INNER, 10), "Große weiße Schrift auf schwarzem Grund. So sieht jeder "
                                                       "Bildschirm aus, und das ist zu tun:",
                  font(FONT, 10.5), sheet.colours["text"])
    y += 3
    for screen in sheet.screens[page * SCREENS_PER_PAGE:(page + 1) * SCREENS_PER_PAGE]:
        y = _screen(painter, sheet, screen, y) + 5


def _screen(painter, sheet: Sheet, screen: Screen, y: float) -> float:
    """A picture of one console screen, then what it means; returns the bottom."""
    ink, accent = sheet.colours["text"], sheet.colours["call"]
    y += text(painter, (MARGIN, y, INNER, 8), screen.title, font(FONT, 12, True), accent) + 1
    lines = list(screen.lines) or [""]
    mono = fit(painter, MONO, max(lines, key=len), INNER - 8, 10, 5.5)
    line_h = text(painter, (0, 0, INNER, 10), "Ag", mono, wrap=False, draw=False)
    height = line_h * len(lines) + 6
    _box(painter, (MARGIN, y, INNER, height), CONSOLE_BG, None, radius=1.5)
    for number, line in enumerate(lines):
        text(painter, (MARGIN + 4, y + 3 + number * line_h, INNER - 8, line_h), line, mono, CONSOLE_INK, wrap=False)
    y += height + 2
    return y + text(painter, (MARGIN, y, INNER, 20), screen.meaning, font(FONT, 10.5), ink)


# --------------------------------------------------------------------------- last pages: the open places


COLUMNS = (("Nr.", 12.0), ("Heim", 42.0), ("Zimmer", 38.0), ("Bewohnerin / Bewohner", 50.0), ("Gerät", 24.0),
           ("fertig", 12.0))
CELL_FONTS = ((FONT, 15, True, 15), (FONT, 10.5, False, 8.5), (FONT, 10.5, False, 8.5), (FONT, 11, True, 9),
              (MONO, 9, False, 6.5))  # family, size, bold, smallest size on one line (else two lines of it)


def _places_page(painter, sheet: Sheet, page: int, pages: int) -> None:
    accent, ink, paper = sheet.colours["call"], sheet.colours["text"], sheet.colours["background"]
    title = "Offene Plätze zum Abhaken" + (f" ({page + 1}/{pages})" if pages > 1 else "")
    y = _header(painter, sheet, title)
    if not sheet.places:
        text(painter, (MARGIN, y + 2, INNER, 30), "Keine offenen Plätze: Jedes Gerät der Liste hat schon ein "
                                                  "„match:“, der Stick erkennt diese Laptops von selbst.",
             font(FONT, 11), ink)
        return
    if page == 0:
        y += text(painter, (MARGIN, y + 1, INNER, 12), "Die Nummer ist die, die der Stick zeigt. Abhaken, wenn der "
                                                       "Laptop den Kiosk zeigt, und den Zettel mit Name und Zimmer "
                                                       "aufkleben.", font(FONT, 10), ink)
    y += 4
    x = MARGIN
    for label, width in COLUMNS:
        text(painter, (x + 1.5, y, width - 2, 6), label, fit(painter, FONT, label, width - 2, 9, 6.5, True), MUTED,
             wrap=False)
        x += width
    y += 6
    _rule(painter, y, accent, 0.3)
    row_h = 11.0
    for index, place in enumerate(sheet.places[page * ROWS_PER_TABLE_PAGE:(page + 1) * ROWS_PER_TABLE_PAGE]):
        if index % 2 == 0:
            _box(painter, (MARGIN, y, INNER, row_h), paper, None, radius=0)
        cells = (str(place.number), place.home_name, place.label or "–", place.resident, place.device)
        x = MARGIN
        for (label, width), cell, (family, size, bold, smallest) in zip(COLUMNS, cells, CELL_FONTS):
            _cell(painter, (x + 1.5, y, width - 3, row_h), cell, family, size, bold, smallest,
                  accent if label == "Nr." else ink)
            x += width
        _box(painter, (x + 2.5, y + 2, 7, 7), "#ffffff", ink, radius=0.8, width=0.4)
        y += row_h


def _cell(painter, rect, words: str, family: str, size: float, bold: bool, smallest: float, colour: str) -> None:
    """A table cell, centred in its row: on one line down to `smallest` points, else in two lines of that size."""
    x, y, width, height = rect
    face = fit(painter, family, words, width, size, smallest, bold)
    wrap = not _fits(painter, words, face, width)
    used = text(painter, (0, 0, width, height * 2), words, face, wrap=wrap, draw=False)
    text(painter, (x, y + max(0.0, (height - used) / 2), width, height), words, face, colour, wrap=wrap)


def _fits(painter, words: str, face, width: float) -> bool:
    from PyQt6.QtGui import QFontMetricsF

    return QFontMetricsF(face, painter.device()).horizontalAdvance(words) * pt_scale(painter) <= width
