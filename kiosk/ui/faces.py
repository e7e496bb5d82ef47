"""Names and faces of who waits: plain-text labels for names strangers type, photos scaled from JPEG or PNG, and the
ringing screen's row of up to three photos."""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize, Qt
from PyQt6.QtGui import QFont, QFontMetrics, QImageReader, QPainter, QPixmap
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from kiosk.core.safefile import FileRefused, read_limited
from kiosk.core.style import Metrics
from kiosk.family import Visitor

log = logging.getLogger(__name__)

MAX_FACES = 3
# palim-provision writes device photos of at most 640 px (provisioning.photos); these bounds leave room for a photo
# put there by hand and refuse what no photo is.
MAX_PHOTO_BYTES = 8 << 20
MAX_PHOTO_PIXELS = 4000 * 4000


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
    try:  # a FIFO or /dev/zero in its place must not hang or fill the GUI thread: looked at, then read whole
        data = read_limited(path, MAX_PHOTO_BYTES, follow_symlinks=False)
    except (OSError, FileRefused) as exc:
        log.warning("photo %s cannot be shown: %s", path, exc)
        return None
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.width() * size.height() > MAX_PHOTO_PIXELS:  # a device photo is 640 px at most: no bomb is decoded
        log.warning("photo %s cannot be shown: %dx%d px is far more than a device photo has", path, size.width(),
                    size.height())
        return None
    image = reader.read()
    if image.isNull():
        log.warning("photo %s cannot be shown: %s", path, reader.errorString())
        return None
    pixmap = QPixmap.fromImage(image).scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)
    if pixmap.width() > max_width:
        pixmap = pixmap.scaledToWidth(max_width, Qt.TransformationMode.SmoothTransformation)
    return pixmap


class Photo(QWidget):
    """A photo that grows with the room the layout gives it (from a smallest to a largest height), never cropped."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ringingPhoto")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._image: QPixmap | None = None
        self._smallest = self._largest = 1

    def set_photo(self, image: QPixmap | None, smallest: int, largest: int) -> None:
        """Show this picture between these heights (None: nothing)."""
        self._image, self._smallest, self._largest = image, smallest, largest
        self.updateGeometry()
        self.update()

    def _width_at(self, height: int) -> int:
        if self._image is None or self._image.isNull():
            return 0
        return round(self._image.width() * height / max(1, self._image.height()))

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._width_at(self._largest), self._largest)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._width_at(self._smallest), self._smallest)

    def shown_height(self) -> int:
        """How high the photo is drawn now."""
        return max(self._smallest, min(self.height(), self._largest)) if self._image is not None else 0

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._image is None or self._image.isNull():
            return
        height = min(self.height(), self._largest)
        scaled = self._image.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)
        if scaled.width() > self.width():
            scaled = self._image.scaledToWidth(self.width(), Qt.TransformationMode.SmoothTransformation)
        painter = QPainter(self)
        painter.drawPixmap((self.width() - scaled.width()) // 2, (self.height() - scaled.height()) // 2, scaled)
        painter.end()


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
        self.photos: list[Photo] = []
        self.captions: list[QLabel] = []
        for _ in range(MAX_FACES):
            column = QVBoxLayout()
            column.setSpacing(0)
            photo = Photo()
            caption = plain_label("", "small")
            column.addWidget(photo, 1)
            column.addWidget(caption)
            row.addLayout(column)
            self.photos.append(photo)
            self.captions.append(caption)
        row.addStretch(1)
        self.hide()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        # The captions wrap, which would make the whole row height-for-width: a full ringing screen would then give
        # the photos more than their smallest height and squeeze the 10 mm between the buttons instead. The row's
        # minimum (smallest photo, captions) is what it needs; the rest is the stretch's to share.
        return False

    def show_visitors(self, visitors: tuple[Visitor, ...]) -> int:
        """Show the photos of these visitors (those that load); returns how many show."""
        m = self.metrics
        # At least this high (at font scale 2.0 the larger texts and the 10 mm between the buttons take a share),
        # more where the screen has room.
        smallest, largest = m.px(22 - 13 * (m.scale - 1)), m.px(30)
        loaded = [(v, p) for v in visitors[:MAX_FACES]
                  if (p := photo_pixmap(v.photo, largest, round(m.width * 0.28))) is not None]
        for index, (photo, caption) in enumerate(zip(self.photos, self.captions)):
            visitor, pixmap = loaded[index] if index < len(loaded) else (None, None)
            photo.setVisible(pixmap is not None)
            caption.setVisible(pixmap is not None and len(loaded) > 1)  # one face: the headline names them
            if visitor is None:
                photo.set_photo(None, 1, 1)
                caption.clear()
                continue
            photo.set_photo(pixmap, smallest, largest)
            photo.setAccessibleName(visitor.name)
            caption.setText(breakable(visitor.name))
        self.setVisible(bool(loaded))
        return len(loaded)
