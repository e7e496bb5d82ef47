"""The kiosk window: one screen at a time, as the controllers ask; it decides nothing."""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import QBuffer, QEvent, QIODevice, QObject, QPoint, QPointF, QRect, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QPainter, QPixmap
from PyQt6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QWidget

from kiosk import texts
from kiosk.callflow import Trouble
from kiosk.config import KioskConfig
from kiosk.core import style
from kiosk.core.files import atomic_write
from kiosk.core.style import Metrics, stylesheet
from kiosk.screen import SOUND_SCREENS, Screen
from kiosk.ui.screens import (
    CallScreen, HomeScreen, MessageScreen, NightScreen, PinPadScreen, PracticeScreen, RingingScreen, ServiceScreen,
)

log = logging.getLogger(__name__)

# Screens drawn by the one message screen: the headline, the hint and its button's words.
MESSAGES = {
    Screen.CONNECTING: (texts.CONNECTING, texts.CONNECTING_HINT, texts.CANCEL_BUTTON),
    Screen.ENDING: (texts.ENDING, texts.ENDING_HINT, None),
}


class KioskWindow(QMainWindow):
    """The screens in a stack; `show_screen` picks one, and presses are reported for the staff controller."""

    screen_changed = pyqtSignal(object, object)  # (old Screen | None, new Screen)
    home_shown = pyqtSignal()  # the first time home shows: the kiosk is ready (READY=1)
    sound_ahead = pyqtSignal()  # ringing or a call is about to be heard: time to check the volume floor
    pressed = pyqtSignal(QPointF)  # a press anywhere in the window (window coordinates), once per tap

    def __init__(self, metrics: Metrics, config: KioskConfig | None, call_view: QWidget | None = None, parent=None):
        super().__init__(parent)
        self.metrics = metrics
        self.setWindowTitle("Palim Kiosk")
        self.setStyleSheet(stylesheet(metrics, config.brand.colors.model_dump() if config is not None else None))
        self._closing = False
        self._announced_home = False
        self._last_press = -1
        self._video = call_view  # blanked in support screenshots
        self._screen: Screen | None = None
        self._told = None  # family.Told: whom the kiosk told of this call, and when (the waiting panel says so)
        self._stack = QStackedWidget()
        self.setCentralWidget(self._stack)
        self.message = MessageScreen(metrics)
        self._widgets: dict[Screen, QWidget] = {screen: self.message for screen in Screen}
        self.practice: PracticeScreen | None = None
        if config is not None:
            self.home = HomeScreen(metrics, config.first_name, brand=config.brand, photo=config.home_photo)
            self.call = CallScreen(metrics, call_view)
            self.pin_pad = PinPadScreen(metrics)
            self.service = ServiceScreen(metrics)
            self.ringing = RingingScreen(metrics, pulse=style.palette(config.brand.colors.model_dump())["pulse"])
            self.night = NightScreen(metrics)
            self._widgets.update({Screen.HOME: self.home, Screen.IN_CALL: self.call, Screen.PIN: self.pin_pad,
                                  Screen.SERVICE: self.service, Screen.RINGING: self.ringing,
                                  Screen.NIGHT: self.night})
        for widget in dict.fromkeys(self._widgets.values()):
            self._stack.addWidget(widget)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    @property
    def screen(self) -> Screen | None:
        """The screen showing now (None before the first)."""
        return self._screen

    def show_screen(self, screen: Screen, trouble: Trouble | None = None, countdown_s: float | None = None) -> None:
        """Show one screen; `trouble`: the calm sentence of a trouble screen; `countdown_s`: ringing's auto-answer."""
        if screen is Screen.HOME:
            self.home.refresh()
        elif screen is Screen.RINGING:
            self.ringing.start(countdown_s)
        elif screen in MESSAGES:
            self.message.show_message(*MESSAGES[screen])
        elif screen in (Screen.TROUBLE, Screen.WAITING):
            headline, hint = texts.TROUBLE[trouble or Trouble.CONNECT_FAILED]
            if trouble is Trouble.NOBODY_CAME:
                hint = texts.nobody_came_hint(self._told)  # "Anna weiß Bescheid."
            self.message.show_message(headline, hint, texts.BACK_BUTTON)
        if screen is not Screen.IN_CALL and self._widgets[Screen.IN_CALL] is not self.message:
            self.call.show_waiting(None)
        old, self._screen = self._screen, screen
        if old is Screen.RINGING and screen is not Screen.RINGING:
            self.ringing.stop()
        self._stack.setCurrentWidget(self._widgets[screen])
        self.screen_changed.emit(old, screen)
        if screen in SOUND_SCREENS and old not in SOUND_SCREENS:
            self.sound_ahead.emit()
        if screen is Screen.HOME and not self._announced_home:
            self._announced_home = True
            # After the event loop has shown the window (and its owner has connected home_shown for READY=1).
            # A bound method, not the signal's emit: Qt drops the call when the window is deleted before it runs.
            QTimer.singleShot(0, self._announce_home)

    def set_told(self, told) -> None:
        """Whom the kiosk told of the call now starting, and when (a family.Told); None: nobody (a ring answered)."""
        self._told = told

    def show_waiting_for_family(self, on: bool) -> None:
        """Over the resident's own picture: "Wir haben Anna um 14:02 Bescheid gesagt. Bitte warten Sie …"."""
        self.call.show_waiting(texts.waiting_for_family(self._told) if on else None)

    def _announce_home(self) -> None:
        self.home_shown.emit()

    def show_setup_needed(self, contact: str | None) -> None:
        """The calm "not set up yet" screen, with whom to call."""
        hint = texts.SETUP_CONTACT.format(contact=contact) if contact else texts.SETUP_NO_CONTACT
        self.message.show_message(texts.SETUP_NEEDED, hint)
        self.show_screen(Screen.SETUP)

    def open_practice(self, view: QWidget) -> PracticeScreen:
        """Add the camera test's screen around its view and show it."""
        self.practice = PracticeScreen(self.metrics, view)
        self._stack.addWidget(self.practice)
        self._widgets[Screen.PRACTICE] = self.practice
        self.show_screen(Screen.PRACTICE)
        return self.practice

    def close_practice(self) -> QWidget | None:
        """Remove the camera test's screen; returns its view for its owner to shut down."""
        practice, self.practice = self.practice, None
        if practice is None:
            return None
        self._widgets[Screen.PRACTICE] = self.message
        self._stack.removeWidget(practice)
        practice.deleteLater()
        return practice.view

    def corner_rect(self, percent_of_height: float) -> QRect:
        """The hidden top-left corner, a square of this share of the screen height."""
        size = self.metrics.px(percent_of_height)
        return QRect(0, 0, size, size)

    # ------------------------------------------------------------------ presses

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() not in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            return False
        if not (obj is self.windowHandle() or (isinstance(obj, QWidget) and obj.window() is self)):
            return False
        # Qt workaround (no Qt bug, seen on every Qt 6): an application-wide event filter sees a press once for the
        # window and again for each widget it propagates through; the event's timestamp tells one tap from the next.
        if event.timestamp() == self._last_press:
            return False
        self._last_press = event.timestamp()
        point = event.points()[0].globalPosition() if event.type() == QEvent.Type.TouchBegin \
            else event.globalPosition()
        self.pressed.emit(QPointF(self.mapFromGlobal(point.toPoint())))
        return False

    # ------------------------------------------------------------------ support

    def support_screenshot(self) -> QPixmap:
        """What the window shows, with the video blanked for privacy during a call."""
        pixmap = self.grab()
        video = self._video
        if self._screen is Screen.IN_CALL and video is not None:
            painter = QPainter(pixmap)
            area = QRect(video.mapTo(self, QPoint(0, 0)), video.size())
            painter.fillRect(area, QColor(style.DARK))
            painter.setPen(QColor(style.ON_DARK))
            font = painter.font()
            font.setPixelSize(self.metrics.px(4))
            painter.setFont(font)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, texts.VIDEO_HIDDEN)
            painter.end()
        return pixmap

    def save_support_screenshot(self, directory: Path) -> Path | None:
        """Save the support screenshot as PNG in a directory, atomically; None when it cannot be written."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.support_screenshot().save(buffer, "PNG")
        path = Path(directory) / "screenshot.png"
        if atomic_write(path, bytes(buffer.data()), 0o640):
            log.info("support screenshot saved to %s (%s screen)", path, self._screen.value if self._screen else "no")
            return path
        return None

    # ------------------------------------------------------------------ lifecycle

    def shutdown(self) -> None:
        """Stop reporting presses and allow the window to close."""
        self._closing = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if self._screen is Screen.RINGING:
            self.ringing.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # A compositor's close request (or Alt+F4) must not end the kiosk: only staff can.
        if self._closing:
            event.accept()
        else:
            log.warning("close request ignored")
            event.ignore()
