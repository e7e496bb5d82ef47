"""KioskWindow on its own: screens to widgets, its signals, presses once per tap, closing, the support screenshot."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PyQt6.QtGui import QColor, QEventPoint, QInputDevice, QPainter, QPointingDevice, QTouchEvent
from PyQt6.QtWidgets import QApplication, QWidget

from kiosk import texts
from kiosk.callflow import Trouble
from kiosk.config import config_from_text
from kiosk.core import style
from kiosk.core.style import Metrics
from kiosk.screen import Screen
from kiosk.ui.window import KioskWindow

SIZE = (1280, 800)
CONFIG = config_from_text("server: https://127.0.0.1:8443\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\n"
                          "resident: Erna Müller\n")
VIDEO_RED = QColor(250, 0, 0)


class RedVideo(QWidget):
    """Stands in for the call view: a plain widget painted red, so the blanking shows."""

    def paintEvent(self, event):  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), VIDEO_RED)
        painter.end()


def build(qtbot, config=CONFIG, video=None) -> KioskWindow:
    window = KioskWindow(Metrics(*SIZE), config, video if video is not None else QWidget())
    window.resize(*SIZE)
    window.show()
    qtbot.waitExposed(window)
    return window


def dispose(window: KioskWindow) -> None:
    window.shutdown()
    window.close()
    window.deleteLater()


@pytest.fixture
def window(qtbot):
    texts.use("de")
    window = build(qtbot)
    yield window
    dispose(window)


def current(window: KioskWindow) -> QWidget:
    return window.centralWidget().currentWidget()


def wait_for_event_loop(qtbot) -> None:
    """Let the event loop run everything queued so far (zero-delay timers included)."""
    done = []
    QTimer.singleShot(0, lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done))


def test_every_screen_shows_its_widget_and_becomes_the_current_screen(window):
    expected = {Screen.HOME: window.home, Screen.IN_CALL: window.call, Screen.PIN: window.pin_pad,
                Screen.SERVICE: window.service, Screen.RINGING: window.ringing, Screen.NIGHT: window.night}
    for screen in Screen:
        window.show_screen(screen, Trouble.OFFLINE)
        assert window.screen is screen
        assert current(window) is expected.get(screen, window.message), screen


def test_message_screens_get_their_words_and_button(window):
    window.show_screen(Screen.CONNECTING)
    assert window.message.headline.text() == texts.CONNECTING
    assert window.message.button.text() == texts.CANCEL_BUTTON and not window.message.button.isHidden()
    window.show_screen(Screen.ENDING)
    assert window.message.headline.text() == texts.ENDING and window.message.button.isHidden()
    window.show_screen(Screen.TROUBLE, Trouble.OFFLINE)
    assert (window.message.headline.text(), window.message.hint.text()) == texts.TROUBLE[Trouble.OFFLINE]
    assert window.message.button.text() == texts.BACK_BUTTON
    window.show_screen(Screen.WAITING)  # no trouble given: the connect failure's words
    assert window.message.headline.text() == texts.TROUBLE[Trouble.CONNECT_FAILED][0]


def test_screen_changed_carries_the_old_and_the_new_screen(qtbot, window):
    seen = []
    window.screen_changed.connect(lambda old, new: seen.append((old, new)))
    window.show_screen(Screen.HOME)
    window.show_screen(Screen.CONNECTING)
    window.show_screen(Screen.IN_CALL)
    assert seen == [(None, Screen.HOME), (Screen.HOME, Screen.CONNECTING), (Screen.CONNECTING, Screen.IN_CALL)]


def test_sound_ahead_only_when_entering_ringing_or_connecting_from_elsewhere(window):
    heard = []
    window.sound_ahead.connect(lambda: heard.append(window.screen))
    for screen in (Screen.HOME, Screen.RINGING, Screen.CONNECTING, Screen.CONNECTING, Screen.IN_CALL,
                   Screen.WAITING, Screen.CONNECTING, Screen.HOME, Screen.PIN):
        window.show_screen(screen)
    assert heard == [Screen.RINGING, Screen.CONNECTING]


def test_leaving_ringing_stops_its_countdown(window):
    window.show_screen(Screen.RINGING, countdown_s=10)
    window.show_screen(Screen.HOME)
    assert window.screen is Screen.HOME and current(window) is window.home


def test_home_shown_comes_once_and_only_after_the_event_loop_ran(qtbot, window):
    shown = []
    window.home_shown.connect(lambda: shown.append(True))
    window.show_screen(Screen.HOME)
    assert shown == []  # not yet: the owner may still be connecting to it
    qtbot.waitUntil(lambda: shown == [True])
    window.show_screen(Screen.CONNECTING)
    window.show_screen(Screen.HOME)
    wait_for_event_loop(qtbot)
    assert shown == [True]


def test_setup_needed_names_the_contact(window):
    window.show_setup_needed("Frau Kaya, Tel. 0201 123")
    assert window.screen is Screen.SETUP and current(window) is window.message
    assert window.message.headline.text() == texts.SETUP_NEEDED
    assert window.message.hint.text() == texts.SETUP_CONTACT.format(contact="Frau Kaya, Tel. 0201 123")
    assert window.message.button.isHidden()


def test_setup_needed_without_a_contact_asks_for_staff(window):
    window.show_setup_needed(None)
    assert window.message.hint.text() == texts.SETUP_NO_CONTACT


def test_the_window_without_a_config_shows_setup_for_every_screen(qtbot):
    texts.use("de")
    window = build(qtbot, config=None)
    try:
        assert not hasattr(window, "home")
        window.show_setup_needed(None)
        assert window.screen is Screen.SETUP and current(window) is window.message
        assert window.message.headline.text() == texts.SETUP_NEEDED
        assert not window.close() and window.isVisible()  # no way out without staff here either
    finally:
        dispose(window)


def test_a_mouse_tap_on_a_nested_widget_is_one_press_in_window_coordinates(qtbot, window):
    window.show_screen(Screen.HOME)
    presses = []
    window.pressed.connect(presses.append)
    label = window.home.greeting  # a label ignores the press: it propagates through every parent
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=QPoint(5, 6))
    assert presses == [QPointF(label.mapTo(window, QPoint(5, 6)))]
    qtbot.mouseClick(window.home.call_button, Qt.MouseButton.LeftButton, pos=QPoint(10, 20))
    assert presses[1:] == [QPointF(window.home.call_button.mapTo(window, QPoint(10, 20)))]


def test_a_touch_on_a_nested_widget_is_one_press_in_window_coordinates(window):
    window.show_screen(Screen.HOME)
    presses = []
    window.pressed.connect(presses.append)
    device = QPointingDevice("test touch screen", 4712, QInputDevice.DeviceType.TouchScreen,
                             QPointingDevice.PointerType.Finger,
                             QInputDevice.Capability.Position | QInputDevice.Capability.Area, 10, 0)
    label = window.home.greeting  # a label does not take the touch: it propagates through every parent
    # As the platform delivers a touch: to the window's QWindow, which hands it to the widget under the finger.
    # PyQt6 cannot set an event's timestamp (built events all carry 0): one tap per window here.
    where = QPointF(label.mapToGlobal(QPoint(7, 8)))
    for kind, state in ((QEvent.Type.TouchBegin, QEventPoint.State.Pressed),
                        (QEvent.Type.TouchEnd, QEventPoint.State.Released)):
        QApplication.sendEvent(window.windowHandle(), QTouchEvent(kind, device, Qt.KeyboardModifier.NoModifier,
                                                  [QEventPoint(1, state, where, where)]))
    assert presses == [QPointF(label.mapTo(window, QPoint(7, 8)))]


def test_presses_in_another_window_are_not_reported(qtbot, window):
    presses = []
    window.pressed.connect(presses.append)
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    qtbot.waitExposed(other)
    qtbot.mouseClick(other, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.home, Qt.MouseButton.LeftButton)  # the window itself still reports
    assert len(presses) == 1


def test_close_is_ignored_until_shutdown(qtbot, window):
    assert not window.close()
    assert window.isVisible()
    window.shutdown()
    assert window.close()
    assert not window.isVisible()


def test_after_shutdown_presses_are_no_longer_reported(qtbot, window):
    presses = []
    window.pressed.connect(presses.append)
    window.shutdown()
    qtbot.mouseClick(window.home, Qt.MouseButton.LeftButton)
    assert presses == []


def video_corner(window: KioskWindow, video: QWidget) -> QPoint:
    return video.mapTo(window, QPoint(3, 3))


def test_support_screenshot_blanks_the_video_in_a_call(qtbot):
    video = RedVideo()
    window = build(qtbot, video=video)
    try:
        window.show_screen(Screen.IN_CALL)
        qtbot.waitUntil(video.isVisible)
        corner = video_corner(window, video)
        assert window.grab().toImage().pixelColor(corner) == VIDEO_RED  # what the window really shows
        assert window.support_screenshot().toImage().pixelColor(corner) == QColor(style.DARK)
    finally:
        dispose(window)


def test_support_screenshot_outside_a_call_is_what_the_window_shows(qtbot, tmp_path):
    video = RedVideo()
    window = build(qtbot, video=video)
    try:
        window.show_screen(Screen.PIN)  # no clock on it: two grabs are alike
        assert window.support_screenshot().toImage() == window.grab().toImage()
        path = window.save_support_screenshot(tmp_path)
        assert path == tmp_path / "screenshot.png" and path.read_bytes().startswith(b"\x89PNG")
    finally:
        dispose(window)


# --------------------------------------------------------------------------- issue 29


def test_the_waiting_panel_says_whom_the_kiosk_told_and_goes_with_the_call(window, qtbot):
    from datetime import datetime

    from kiosk.config import Contact
    from kiosk.family import told

    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.set_told(told([Contact(name="Anna Müller", email="a@example.org")], datetime(2026, 12, 6, 14, 2)))
    window.show_screen(Screen.IN_CALL)
    window.show_waiting_for_family(True)
    panel = window.call.waiting
    assert panel.isVisible() and "Anna" in panel.headline.text() and "14:02" in panel.headline.text()
    assert panel.hint.text() == texts.WAITING_HINT
    assert panel.geometry() == window.call._view.geometry()  # over the resident's own picture, not the buttons
    window.show_waiting_for_family(False)
    assert not panel.isVisible()
    window.show_waiting_for_family(True)
    window.show_screen(Screen.TROUBLE, Trouble.NOBODY_CAME)
    assert not panel.isVisibleTo(window.call)
    assert window.message.headline.text() == texts.TROUBLE[Trouble.NOBODY_CAME][0]
    assert window.message.hint.text() == "Anna weiß Bescheid."


def test_the_night_screen_is_black_and_a_touch_only_wakes_it(window, qtbot):
    window.resize(1024, 600)
    window.show()
    qtbot.waitExposed(window)
    window.show_screen(Screen.NIGHT)
    image = window.grab().toImage()
    assert {image.pixelColor(x, y).name() for x in (5, 512, 1000) for y in (5, 300, 590)} == {"#000000"}
    with qtbot.waitSignal(window.night.woken):
        qtbot.mouseClick(window.night, Qt.MouseButton.LeftButton)
