"""Tremor-tolerant input: real Qt mouse and touch events on a TremorButton."""

from types import SimpleNamespace

import pytest
from PyQt6.QtCore import QEvent, QPoint, QPointF, QSizeF, Qt
from PyQt6.QtGui import QEventPoint, QInputDevice, QPointingDevice, QTouchEvent
from PyQt6.QtWidgets import QApplication, QWidget

from kiosk.ui.touch import TremorButton


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(TremorButton, "clock", staticmethod(fake))
    TremorButton.forget()
    yield fake
    TremorButton.forget()


@pytest.fixture
def button(qtbot, clock):
    host = QWidget()
    host.resize(400, 300)
    b = TremorButton("Familie anrufen", host)
    b.setGeometry(50, 50, 300, 200)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    b.host = host  # keep the parent alive
    b.taps = []
    b.clicked.connect(lambda: b.taps.append(clock.now))
    return b


@pytest.fixture(scope="module")
def touchscreen():
    # PyQt6 has no QTest.touchEvent: real QTouchEvents from a touch-screen device, sent the way Qt delivers them.
    return QPointingDevice("test touch screen", 4711, QInputDevice.DeviceType.TouchScreen,
                           QPointingDevice.PointerType.Finger,
                           QInputDevice.Capability.Position | QInputDevice.Capability.Area, 10, 0)


class Touch:
    """Like Qt's QTest::touchEvent sequence: press/move/stationary/release points, then commit()."""

    KINDS = {"press": QEventPoint.State.Pressed, "move": QEventPoint.State.Updated,
             "stationary": QEventPoint.State.Stationary, "release": QEventPoint.State.Released}
    last: dict = {}

    def __init__(self, widget, device):
        self.widget, self.device, self.points = widget, device, []

    def _add(self, kind, point_id, pos=None):
        pos = pos if pos is not None else Touch.last[point_id]
        Touch.last[point_id] = pos
        global_pos = QPointF(self.widget.mapToGlobal(pos))
        self.points.append(QEventPoint(point_id, self.KINDS[kind], global_pos, global_pos))
        return self

    def press(self, point_id, pos, widget=None):
        return self._add("press", point_id, pos)

    def move(self, point_id, pos, widget=None):
        return self._add("move", point_id, pos)

    def release(self, point_id, pos, widget=None):
        return self._add("release", point_id, pos)

    def stationary(self, point_id):
        return self._add("stationary", point_id)

    def commit(self):
        states = {p.state() for p in self.points}
        if states == {QEventPoint.State.Pressed} and all(pid not in Touch.active for pid in (p.id() for p in self.points)):
            kind = QEvent.Type.TouchBegin if not Touch.active else QEvent.Type.TouchUpdate
        elif all(p.state() == QEventPoint.State.Released for p in self.points) and \
                {p.id() for p in self.points} >= Touch.active:
            kind = QEvent.Type.TouchEnd
        else:
            kind = QEvent.Type.TouchUpdate
        for p in self.points:
            if p.state() == QEventPoint.State.Pressed:
                Touch.active.add(p.id())
            elif p.state() == QEventPoint.State.Released:
                Touch.active.discard(p.id())
        event = QTouchEvent(kind, self.device, Qt.KeyboardModifier.NoModifier, self.points)
        QApplication.sendEvent(self.widget, event)

    active: set = set()


class QTest:  # noqa: F811 (the missing piece of PyQt6's QTest)
    @staticmethod
    def touchEvent(widget, device):  # noqa: N802 (Qt's name)
        return Touch(widget, device)


def test_a_tap_counts_on_release_inside(qtbot, button):
    qtbot.mousePress(button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    assert button.taps == [] and button.isDown()
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton, pos=QPoint(110, 95))  # a shaky finger, still inside
    assert len(button.taps) == 1


def test_sliding_off_before_release_does_nothing(qtbot, button):
    qtbot.mousePress(button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(button, QPoint(500, 100))
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton, pos=QPoint(500, 100))
    assert button.taps == []


def test_taps_repeated_within_a_second_count_once(qtbot, button, clock):
    for offset in (0.0, 0.2, 0.5, 0.99):
        clock.now = 1000.0 + offset
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    assert button.taps == [1000.0]
    clock.now = 1001.2
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    assert button.taps == [1000.0, 1001.2]
    assert not button.isDown()


def test_a_double_click_is_one_tap(qtbot, button):
    # What a mouse or a touch screen turned into a mouse sends for a double tap.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseDClick(button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    assert len(button.taps) == 1 and not button.isDown()


def test_the_debounce_spans_the_next_screen_button_under_the_finger(qtbot, button, clock):
    other = TremorButton("Auflegen", button.parentWidget())
    other.setGeometry(0, 0, 40, 40)
    other.show()
    presses = []
    other.clicked.connect(lambda: presses.append(clock.now))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    clock.now += 0.4
    qtbot.mouseClick(other, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert presses == []
    staff = TremorButton("1", button.parentWidget(), group=None, debounce_s=0)
    staff.setGeometry(0, 0, 40, 40)
    staff.show()
    keys = []
    staff.clicked.connect(lambda: keys.append(1))
    for _ in range(4):
        qtbot.mouseClick(staff, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert keys == [1, 1, 1, 1]  # PIN "1111" for staff


def test_one_finger_touch_taps(qtbot, button, touchscreen):
    QTest.touchEvent(button, touchscreen).press(0, QPoint(100, 100), button).commit()
    assert button.isDown() and button.taps == []
    QTest.touchEvent(button, touchscreen).move(0, QPoint(104, 97), button).commit()
    QTest.touchEvent(button, touchscreen).release(0, QPoint(104, 97), button).commit()
    assert len(button.taps) == 1 and not button.isDown()


def test_a_touch_released_outside_does_nothing(qtbot, button, touchscreen):
    QTest.touchEvent(button, touchscreen).press(0, QPoint(100, 100), button).commit()
    QTest.touchEvent(button, touchscreen).move(0, QPoint(380, 100), button).commit()
    assert not button.isDown()
    QTest.touchEvent(button, touchscreen).release(0, QPoint(380, 100), button).commit()
    assert button.taps == []


def test_two_fingers_are_ignored_even_when_one_lifts_first(qtbot, button, touchscreen):
    QTest.touchEvent(button, touchscreen).press(0, QPoint(100, 100), button).commit()
    QTest.touchEvent(button, touchscreen).stationary(0).press(1, QPoint(200, 120), button).commit()
    assert not button.isDown()
    QTest.touchEvent(button, touchscreen).stationary(0).release(1, QPoint(200, 120), button).commit()
    QTest.touchEvent(button, touchscreen).release(0, QPoint(100, 100), button).commit()
    assert button.taps == []
    # The next clean tap works again.
    QTest.touchEvent(button, touchscreen).press(0, QPoint(100, 100), button).commit()
    QTest.touchEvent(button, touchscreen).release(0, QPoint(100, 100), button).commit()
    assert len(button.taps) == 1


def test_touch_taps_are_debounced_too(qtbot, button, touchscreen, clock):
    for _ in range(3):
        QTest.touchEvent(button, touchscreen).press(0, QPoint(100, 100), button).commit()
        QTest.touchEvent(button, touchscreen).release(0, QPoint(100, 100), button).commit()
        clock.now += 0.3
    assert len(button.taps) == 1


class _Point:
    def __init__(self, x, y, diameter):
        self._pos, self._d = QPointF(x, y), QSizeF(diameter, diameter)

    def position(self):
        return self._pos

    def globalPosition(self):  # noqa: N802 (Qt's name)
        return QPointF(self.button.mapToGlobal(self._pos))

    def ellipseDiameters(self):  # noqa: N802 (Qt's name)
        return self._d

    def id(self):  # noqa: A003
        return 0


def _touch(kind, diameter, button):
    point = _Point(100, 100, diameter)
    point.button = button
    return SimpleNamespace(type=lambda: kind, points=lambda: [point], accept=lambda: None)


def test_a_palm_is_ignored_and_a_fingertip_is_not(button):
    palm = 400.0  # px: wider than 20 mm on any plausible screen
    button.event(_touch(QEvent.Type.TouchBegin, palm, button))
    button.event(_touch(QEvent.Type.TouchEnd, palm, button))
    assert button.taps == []
    finger = 30.0  # about 8 mm
    button.event(_touch(QEvent.Type.TouchBegin, finger, button))
    button.event(_touch(QEvent.Type.TouchEnd, finger, button))
    assert len(button.taps) == 1


def test_a_disabled_button_ignores_touch(qtbot, button, touchscreen):
    button.setEnabled(False)
    QTest.touchEvent(button, touchscreen).press(0, QPoint(100, 100), button).commit()
    QTest.touchEvent(button, touchscreen).release(0, QPoint(100, 100), button).commit()
    assert button.taps == []
