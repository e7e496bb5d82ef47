"""Tremor-tolerant buttons: a tap counts on release inside; taps repeated within a second count once;
several fingers or a palm are ignored. Nothing needs a double tap, a long press or a swipe."""

from __future__ import annotations

import logging
import time

from pathlib import Path

from PyQt6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PyQt6.QtGui import QFont, QFontMetrics, QImage, QMouseEvent, QPainter, QPalette, QTouchEvent
from PyQt6.QtSvg import QSvgRenderer
from PyQt6.QtWidgets import QPushButton, QStyle, QStyleOptionButton, QStylePainter, QWidget

log = logging.getLogger(__name__)

DEBOUNCE_S = 1.0  # a second tap within this time after a counted one does nothing
PALM_MM = 20.0  # a touch ellipse wider than this is a hand resting on the screen, not a fingertip
RESIDENT = "resident"  # the group every resident button shares: a tap that lands on the next screen counts once


class TremorButton(QPushButton):
    """A QPushButton whose `clicked` only fires for deliberate single taps.

    group: buttons in one group share the debounce, so the hang-up tap that repeats on the call button appearing
    under the finger does not start a new call. None: this button alone. debounce_s: 0 turns it off (staff PIN keys).
    """

    _last_counted: dict[object, float] = {}
    clock = staticmethod(time.monotonic)

    def __init__(self, text: str = "", parent: QWidget | None = None, *, group: str | None = RESIDENT,
                 debounce_s: float = DEBOUNCE_S):
        super().__init__(text, parent)
        self.group = group
        self.debounce_s = debounce_s
        self._touch_id: int | None = None
        self._spoiled = False
        self._pictogram: QSvgRenderer | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.clicked.connect(self._counted)  # connected first, so it runs before anyone else's slot

    # ------------------------------------------------------------------ debounce

    def _key(self) -> object:
        return self.group if self.group is not None else id(self)

    def _counted(self) -> None:
        TremorButton._last_counted[self._key()] = self.clock()

    def too_soon(self) -> bool:
        """True while a tap would repeat the last counted one."""
        last = TremorButton._last_counted.get(self._key())
        return self.debounce_s > 0 and last is not None and 0 <= self.clock() - last < self.debounce_s

    @classmethod
    def forget(cls) -> None:
        """Start afresh (a new window; tests)."""
        cls._last_counted.clear()

    # ------------------------------------------------------------------ a pictogram before the words

    def set_pictogram(self, svg: Path) -> None:
        """Draw this one-colour SVG before the text, in the text's colour, as tall as a line of it (any scale)."""
        renderer = QSvgRenderer(str(svg))
        self._pictogram = renderer if renderer.isValid() else None
        self.update()

    def pictogram_side(self, rect: QRect) -> int:
        """The pictogram's square side in this content rectangle (0 without one): 1.3 lines of the unshrunk text,
        at most a quarter of the width."""
        if self._pictogram is None:
            return 0
        font = QFont(self.font())
        return min(round(QFontMetrics(font).height() * 1.3), rect.height(), rect.width() // 4)

    def _text_rect(self, rect: QRect) -> QRect:
        side = self.pictogram_side(rect)
        return rect.adjusted(side + side // 4, 0, 0, 0) if side else rect

    def _paint_pictogram(self, painter: QPainter, rect: QRect, text_width: int) -> QRect:
        """Draw the pictogram left of the centred text; returns where the text goes."""
        side = self.pictogram_side(rect)
        gap = side // 4
        left = rect.left() + max(0, (rect.width() - side - gap - text_width) // 2)
        # Rendered as a mask and filled with the text colour: the SVG's own colour does not matter.
        ratio = self.devicePixelRatioF()
        image = QImage(round(side * ratio), round(side * ratio), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        mask = QPainter(image)
        self._pictogram.render(mask, QRectF(0, 0, image.width(), image.height()))
        mask.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        mask.fillRect(image.rect(), self.palette().color(QPalette.ColorRole.ButtonText))
        mask.end()
        image.setDevicePixelRatio(ratio)
        painter.drawImage(QRectF(left, rect.top() + (rect.height() - side) / 2, side, side), image)
        return QRect(left + side + gap, rect.top(), text_width, rect.height())

    # ------------------------------------------------------------------ text that always fits

    def fitted_font(self, rect: QRect | None = None) -> QFont:
        """The style sheet's font, made smaller only as far as the text needs to fit the button on one line."""
        if rect is None:
            option = QStyleOptionButton()
            self.initStyleOption(option)
            rect = self.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, self)
        rect = self._text_rect(rect)
        font = QFont(self.font())
        size = font.pixelSize() if font.pixelSize() > 0 else round(font.pointSizeF() * 96 / 72)
        text = self.text()
        while size > 8:
            font.setPixelSize(size)
            metrics = QFontMetrics(font)
            if metrics.horizontalAdvance(text) <= rect.width() and metrics.height() <= rect.height():
                break
            size = int(size * 0.93)
        return font

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        # The text shrinks to fit (a long translation, a large font scale): never push the layout off the screen.
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), 3 * hint.height()), hint.height())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        text, option.text = option.text, ""
        painter = QStylePainter(self)
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)  # background, border from the style sheet
        if text:
            rect = self.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, self)
            font = self.fitted_font(rect)
            painter.setFont(font)
            if self._pictogram is not None:
                rect = self._paint_pictogram(painter, rect, QFontMetrics(font).horizontalAdvance(text))
            painter.setPen(self.palette().color(QPalette.ColorRole.ButtonText))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    # ------------------------------------------------------------------ mouse (and touch Qt turned into mouse)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self.isDown() and self.hitButton(event.position().toPoint()) and self.too_soon():
            log.info("tap on %r ignored: repeated within %.1f s", self.accessibleName(), self.debounce_s)
            self.setDown(False)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        # A double click is a press: Qt would make it a second click otherwise.
        self.mousePressEvent(event)

    # ------------------------------------------------------------------ touch

    def _palm_px(self) -> float:
        screen = self.screen()
        dpi = screen.physicalDotsPerInch() if screen is not None else 0.0
        if not 50 <= dpi <= 400:
            dpi = 160.0  # the smallest plausible screen: a palm is still far wider than this
        return PALM_MM * dpi / 25.4

    def _is_palm(self, event: QTouchEvent) -> bool:
        limit = self._palm_px()
        return any(max(p.ellipseDiameters().width(), p.ellipseDiameters().height()) > limit for p in event.points())

    def event(self, event: QEvent) -> bool:  # noqa: A003 (Qt override)
        kind = event.type()
        if kind not in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
                        QEvent.Type.TouchCancel):
            return super().event(event)
        event.accept()
        if not self.isEnabled():
            return True
        if kind == QEvent.Type.TouchCancel:
            self._reset()
            return True
        points = event.points()
        if kind == QEvent.Type.TouchBegin:
            self._spoiled = False
            self._touch_id = points[0].id() if points else None
        if len(points) > 1 or self._is_palm(event):
            if not self._spoiled:
                log.info("touch on %r ignored: %s", self.accessibleName(),
                         "several fingers" if len(points) > 1 else "a palm")
            self._spoiled = True
            self.setDown(False)
            if kind == QEvent.Type.TouchEnd:
                self._reset()
            return True
        if self._spoiled or not points:
            if kind == QEvent.Type.TouchEnd:
                self._reset()
            return True
        # From the global position: Qt maps position() only for events it delivers itself.
        inside = self.hitButton(self.mapFromGlobal(points[0].globalPosition()).toPoint())
        if kind == QEvent.Type.TouchBegin:
            self.setDown(inside)
        elif kind == QEvent.Type.TouchUpdate:
            self.setDown(inside)
        else:  # TouchEnd: the tap counts here, on release inside
            self.setDown(False)
            if inside:
                if self.too_soon():
                    log.info("tap on %r ignored: repeated within %.1f s", self.accessibleName(), self.debounce_s)
                else:
                    self.click()
            self._reset()
        return True

    def _reset(self) -> None:
        self._touch_id = None
        self._spoiled = False
        self.setDown(False)


def centre(widget: QWidget) -> QPointF:
    """The middle of a widget in its own coordinates."""
    return QPointF(widget.width() / 2, widget.height() / 2)
