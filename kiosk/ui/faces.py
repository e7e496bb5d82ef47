"""Names and faces of who waits: plain-text labels for names strangers type, photos scaled from JPEG or PNG, and the
ringing screen's row of up to three photos."""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QFont, QFontMetrics, QImageReader, QPixmap
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.core.style import Metrics
from kiosk.family import Visitor

log = logging.getLogger(__name__)

MAX_FACES = 3


def plain_label(text: str, name: str) -> QLabel:
    """A label for text someone else typed (a display name): plain text only, never rich text or a link."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    label.setOpenExternalLinks(False)
    label.setText(breakable(text))
    return label


def breakable(text: str, every: int = 12) -> str:
    """Text whose long words may wrap (a 40-letter name without spaces must not run off a 1024 px screen)."""
    words = []
    for word in text.split(" "):
        words.append("\u200b".join(word[i:i + every] for i in range(0, len(word), every)) if len(word) > every
                     else word)
    return " ".join(words)


def fit_font(label: QLabel, width: int, lines: int = 2) -> None:
    """Step the label's font down (to 60 % at most) until its text takes at most `lines` lines at this width."""
    label.setStyleSheet("")
    label.ensurePolished()
    base = label.font()
    size = start = base.pixelSize()
    if size <= 0:
        return
    font = QFont(base)
    while size > 0.6 * start:
        font.setPixelSize(size)
        metrics = QFontMetrics(font)
        needed = metrics.boundingRect(QRect(0, 0, width, 100_000), Qt.TextFlag.TextWordWrap.value,
                                      label.text()).height()
        if needed <= lines * metrics.lineSpacing():
            break
        size -= max(1, round(start * 0.05))
    if size != start:
        label.setStyleSheet(f"font-size: {size}px;")


def photo_pixmap(path: str | Path | None, height: int, max_width: int) -> QPixmap | None:
    """A photo (JPEG or PNG, turned upright by its EXIF orientation) scaled to a height; None when it cannot be
    read (the screen then simply shows no photo)."""
    if not path:
        return None
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        log.warning("photo %s cannot be shown: %s", path, reader.errorString())
        return None
    pixmap = QPixmap.fromImage(image).scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)
    if pixmap.width() > max_width:
        pixmap = pixmap.scaledToWidth(max_width, Qt.TransformationMode.SmoothTransformation)
    return pixmap


class Faces(QWidget):
    """Up to three photos side by side, each with its name under it when more than one shows."""

    def __init__(self, metrics: Metrics, parent=None):
        super().__init__(parent)
        self.metrics = m = metrics
        self.setObjectName("faces")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, m.px(1), 0, 0)
        row.setSpacing(m.px(4))
        row.addStretch(1)
        self.photos: list[QLabel] = []
        self.captions: list[QLabel] = []
        for _ in range(MAX_FACES):
            column = QVBoxLayout()
            column.setSpacing(0)
            photo = QLabel()
            photo.setObjectName("ringingPhoto")
            photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption = plain_label("", "small")
            column.addWidget(photo)
            column.addWidget(caption)
            row.addLayout(column)
            self.photos.append(photo)
            self.captions.append(caption)
        row.addStretch(1)
        self.hide()

    def show_visitors(self, visitors: tuple[Visitor, ...]) -> int:
        """Show the photos of these visitors (those that load); returns how many show."""
        m = self.metrics
        height = m.px(22 - 10 * (m.scale - 1))  # at font scale 2.0 the larger texts take a share
        loaded = [(v, p) for v in visitors[:MAX_FACES]
                  if (p := photo_pixmap(v.photo, height, round(m.width * 0.28))) is not None]
        for index, (photo, caption) in enumerate(zip(self.photos, self.captions)):
            visitor, pixmap = loaded[index] if index < len(loaded) else (None, None)
            photo.setVisible(pixmap is not None)
            caption.setVisible(pixmap is not None and len(loaded) > 1)  # one face: the headline names them
            if visitor is None:
                photo.clear()
                caption.clear()
                continue
            photo.setPixmap(pixmap)
            photo.setAccessibleName(visitor.name)
            caption.setText(breakable(visitor.name))
        self.setVisible(bool(loaded))
        return len(loaded)
