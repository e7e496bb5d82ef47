"""Every screen, built for real: accessible names on every control, touch targets of at least 15 mm,
and nothing cut off at font scale 2.0 on the smallest screen."""

import pytest
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QAbstractButton, QLabel, QPushButton, QWidget

from kiosk import texts
from kiosk.callflow import Trouble
from kiosk.config import Brand
from kiosk.ui import screens
from kiosk.core.style import Metrics, stylesheet
from kiosk.ui.touch import TremorButton

SIZES = [(1280, 800), (1024, 600)]
SCALES = [1.0, 2.0]
ROOM = "palim-7q2m4k9x3c8v5b1n6z0r4t7w2y"


def build_screens(metrics: Metrics) -> dict[str, QWidget]:
    """One of each screen class, the way the window fills them."""
    built = {
        "home": screens.HomeScreen(metrics, "Erna", brand=Brand()),
        "message": screens.MessageScreen(metrics),
        "call": screens.CallScreen(metrics, QWidget()),
        "pin": screens.PinPadScreen(metrics),
        "service": screens.ServiceScreen(metrics),
    }
    built["home"].set_status(texts.HOME_BATTERY)
    built["message"].show_message(*texts.TROUBLE[Trouble.CONNECT_FAILED], texts.BACK_BUTTON)
    built["pin"].reset(texts.PIN_WRONG)
    for key in built["service"].values:
        built["service"].set_value(key, ROOM)
    for name, factory in (("ringing", lambda: screens.RingingScreen(metrics)),
                          ("practice", lambda: screens.PracticeScreen(metrics, QWidget()))):
        if hasattr(screens, name.capitalize() + "Screen"):
            built[name] = factory()
    return built


@pytest.fixture(params=[(size, scale) for size in SIZES for scale in SCALES], ids=lambda p: f"{p[0][0]}x{p[0][1]}@{p[1]}")
def shown(request, qtbot):
    size, scale = request.param
    metrics = Metrics(*size, scale=scale)
    built = build_screens(metrics)
    for widget in built.values():
        widget.setStyleSheet(stylesheet(metrics))
        widget.resize(*size)
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitExposed(widget)
    return metrics, built


def _visible(root: QWidget, kind):
    return [w for w in root.findChildren(kind) if w.isVisibleTo(root)]


def test_every_visible_control_and_text_has_an_accessible_name(shown):
    _, built = shown
    for name, screen in built.items():
        for widget in _visible(screen, QAbstractButton) + _visible(screen, QLabel):
            spoken = widget.accessibleName() or widget.text()
            if isinstance(widget, QLabel) and widget.pixmap() is not None and not widget.pixmap().isNull():
                assert widget.accessibleName(), f"{name}: a picture without a name"
                continue
            if isinstance(widget, QLabel) and not widget.text():
                continue  # an empty line (clock before its first tick, no message) says nothing
            assert spoken.strip(), f"{name}: {type(widget).__name__} {widget.objectName()} has no name"
        for button in _visible(screen, QAbstractButton):
            assert button.accessibleName().strip(), f"{name}: button {button.text()!r} has no accessible name"


def test_every_button_is_tremor_tolerant(shown):
    _, built = shown
    for name, screen in built.items():
        for button in screen.findChildren(QPushButton):
            assert isinstance(button, TremorButton), f"{name}: {button.text()!r} is a plain QPushButton"


def test_every_touch_target_is_at_least_15_mm(shown):
    metrics, built = shown
    for name, screen in built.items():
        for button in _visible(screen, QAbstractButton):
            assert min(button.width(), button.height()) >= metrics.touch, \
                f"{name}: {button.accessibleName()!r} is {button.width()}x{button.height()} px, " \
                f"15 mm is {metrics.touch} px"
    home = built["home"]
    assert home.call_button.height() >= 2.5 * metrics.touch  # the main button far larger
    assert home.call_button.width() >= 0.6 * metrics.width


def test_nothing_is_cut_off_or_outside_the_screen(shown):
    metrics, built = shown
    for name, screen in built.items():
        for widget in _visible(screen, QAbstractButton) + _visible(screen, QLabel):
            if isinstance(widget, QLabel) and not widget.text():
                continue
            top_left = widget.mapTo(screen, widget.rect().topLeft())
            bottom_right = widget.mapTo(screen, widget.rect().bottomRight())
            assert top_left.x() >= 0 and top_left.y() >= 0, f"{name}: {widget.objectName()} starts off screen"
            assert bottom_right.x() < metrics.width and bottom_right.y() < metrics.height, \
                f"{name}: {widget.objectName()} {widget.text()!r} ends off screen at {bottom_right}"
            hint = widget.sizeHint() if isinstance(widget, QAbstractButton) else widget.minimumSizeHint()
            if isinstance(widget, QAbstractButton):
                font = widget.fitted_font() if isinstance(widget, TremorButton) else widget.font()
                assert QFontMetrics(font).horizontalAdvance(widget.text()) <= widget.width(), \
                    f"{name}: {widget.text()!r} is wider than its button"
                assert font.pixelSize() >= 0.6 * widget.font().pixelSize(), f"{name}: {widget.text()!r} shrank a lot"
            elif not widget.wordWrap():
                assert hint.width() <= widget.width() + 1, f"{name}: {widget.text()!r} is cut off"
            else:
                needed = widget.heightForWidth(widget.width())
                assert needed <= widget.height() + 1, f"{name}: {widget.text()!r} needs {needed} px, has " \
                                                      f"{widget.height()}"
