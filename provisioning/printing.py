"""Printing with Qt: a PDF written by QPdfWriter under a temporary name and renamed when whole, a painter in
millimetres, and text in fonts sized in printed points. The family cards and the helpers' sheet paint through it."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

INK = "#1d1d1b"
FONT = "DejaVu Sans"  # Debian's fonts-dejavu-core: German, Turkish, Polish and Cyrillic letters
MONO = "DejaVu Sans Mono"
RESOLUTION = 600


class PrintError(Exception):
    """The PDF could not be made (Qt, fonts, or writing the file)."""


_APP = None


def ensure_app():
    """A Qt application for painting; offscreen when there is no display."""
    global _APP
    from PyQt6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        if not os.environ.get("QT_QPA_PLATFORM") and not (os.environ.get("DISPLAY")
                                                         or os.environ.get("WAYLAND_DISPLAY")):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = _APP = QGuiApplication(["palim-provision"])
    return app


@contextmanager
def pdf_painter(out: Path, title: str, creator: str, size_name: str = "A4",
                landscape: bool = False) -> Iterator[tuple]:
    """(writer, painter) for a PDF that appears under `out` only when it is complete: Qt writes into a temporary
    file beside it, renamed at the end; on any error the temporary file goes and `out` stays as it was."""
    from PyQt6.QtCore import QMarginsF
    from PyQt6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter

    ensure_app()
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer = QPdfWriter(str(tmp))
        writer.setResolution(RESOLUTION)
        writer.setTitle(title)
        writer.setCreator(creator)
        writer.setPageLayout(QPageLayout(QPageSize(getattr(QPageSize.PageSizeId, size_name)),
                                         QPageLayout.Orientation.Landscape if landscape
                                         else QPageLayout.Orientation.Portrait,
                                         QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))
        painter = QPainter()
        if not painter.begin(writer):
            raise PrintError(f"Qt cannot write {out}")
        try:
            yield writer, painter
        finally:
            painter.end()
        del writer  # QPdfWriter finishes the file when it goes
        if tmp.stat().st_size == 0:
            raise PrintError(f"Qt wrote nothing to {out}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def millimetres(writer, painter) -> None:
    """From here on one painter unit is one millimetre (call inside save/restore)."""
    scale = writer.resolution() / 25.4
    painter.scale(scale, scale)


def font(family: str, points: float, bold: bool = False):
    """A font of this printed size in points (1 pt = 0.353 mm)."""
    from PyQt6.QtGui import QFont

    made = QFont(family)
    made.setPointSizeF(points)
    made.setBold(bold)
    if hasattr(QFont, "Tag"):  # Qt 6.7+: no "ff" ligature, so text copied from the PDF is plain letters
        made.setFeature(QFont.Tag("liga"), 0)
    return made


def pt_scale(painter) -> float:
    """mm per device pixel: fonts are sized in points for the PDF device; the painter is scaled to millimetres, so
    text is drawn (and measured) in device pixels and converted with this factor."""
    return 1.0 / painter.worldTransform().m11()


def fit(painter, family: str, text: str, width: float, start: float, smallest: float, bold: bool = False):
    """The largest font size (down to `smallest`) at which text fits the width on one line."""
    from PyQt6.QtGui import QFontMetricsF

    size = start
    while size > smallest:
        made = font(family, size, bold)
        if QFontMetricsF(made, painter.device()).horizontalAdvance(text) * pt_scale(painter) <= width:
            return made
        size -= 0.1
    return font(family, smallest, bold)


def text(painter, rect, words: str, face, color: str = INK, align: str = "left", wrap: bool = True,
         draw: bool = True) -> float:
    """Draw text in a rectangle (mm); returns the height it takes (also when draw is False: measuring only)."""
    from PyQt6.QtCore import QRectF, Qt
    from PyQt6.QtGui import QColor, QFontMetricsF

    flags = {"left": Qt.AlignmentFlag.AlignLeft, "center": Qt.AlignmentFlag.AlignHCenter,
             "right": Qt.AlignmentFlag.AlignRight}[align].value
    flags |= Qt.AlignmentFlag.AlignTop.value | (Qt.TextFlag.TextWordWrap.value if wrap else 0)
    k = pt_scale(painter)
    x, y, w, h = rect
    box = QRectF(x / k, y / k, w / k, h / k)
    used = QFontMetricsF(face, painter.device()).boundingRect(box, flags, words)
    if draw:
        painter.save()
        painter.scale(k, k)  # draw text in device units so the font's size is its printed size
        painter.setFont(face)
        painter.setPen(QColor(color))
        painter.drawText(box, flags, words)
        painter.restore()
    return used.height() * k
