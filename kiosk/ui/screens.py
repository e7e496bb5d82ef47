"""The native screens: home, message, call, PIN pad, service, ringing, practice; over 400 lines because every screen
the resident sees is laid out here side by side, so their sizes and touch targets are read and tuned together."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QDateTime, QEvent, QRectF, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QPainter, QPixmap
from PyQt6.QtSvg import QSvgRenderer
from PyQt6.QtWidgets import (
    QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget,
)

from kiosk import texts
from kiosk.config import Brand
from kiosk.core.assets import pictogram
from kiosk.family import Waiting
from kiosk.core.style import DIM_ON_DARK, ON_DARK, PULSE, Metrics
from kiosk.ui.faces import Faces, breakable, fit_font, photo_pixmap, plain_label
from kiosk.ui.touch import TremorButton


def _label(text: str, name: str, *, wrap: bool = True, align=Qt.AlignmentFlag.AlignCenter) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # never rich text: a value may come from a server, file or person
    label.setWordWrap(wrap)
    label.setAlignment(align)
    return label


def _button(text: str, name: str, accessible: str | None = None, **tremor) -> QPushButton:
    button = TremorButton(text, **tremor)  # a tap counts on release inside, once a second; no palms, no two fingers
    button.setObjectName(name)
    button.setAccessibleName(accessible or text)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no focus rings, no keyboard activation by accident
    button.setAutoDefault(False)
    return button


def logo_pixmap(height: int, path: Path | None = None) -> QPixmap:
    """A brand's logo (default: Palim! Palim!) rendered from SVG at a given height."""
    renderer = QSvgRenderer(str(path or Brand().logo_path()))
    size = renderer.defaultSize()
    width = max(1, round(size.width() * height / max(1, size.height())))
    pixmap = QPixmap(QSize(width, height))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    renderer.render(painter)
    painter.end()
    return pixmap


class Screen(QWidget):
    """A full-window screen with the kiosk's background."""

    def __init__(self, metrics: Metrics, object_name: str = "screen", parent=None):
        super().__init__(parent)
        self.metrics = metrics
        self.setObjectName(object_name)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)


class HomeScreen(Screen):
    """Greeting, date and time, and the one big call button."""

    call_tapped = pyqtSignal()
    call_pressed = pyqtSignal()  # the finger is down on the call button (the tap is not complete yet)

    def __init__(self, metrics: Metrics, first_name: str, parent=None, brand: Brand | None = None,
                 photo: str | Path | None = None):
        super().__init__(metrics, parent=parent)
        brand = brand or Brand()
        self._first_name = first_name
        m = metrics
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.px(4), m.px(3), m.px(4), m.px(3))
        layout.setSpacing(m.px(1.5))

        header = QHBoxLayout()
        self.logo = QLabel()
        self.logo.setTextFormat(Qt.TextFormat.PlainText)
        self.logo.setPixmap(logo_pixmap(m.px(7), brand.logo_path()))
        self.logo.setAccessibleName(brand.name)
        header.addWidget(self.logo)
        header.addWidget(_label(brand.name, "brand", wrap=False, align=Qt.AlignmentFlag.AlignVCenter))
        header.addStretch(1)
        self.clock = _label("", "clock", wrap=False, align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(self.clock)
        layout.addLayout(header)

        self.greeting = _label("", "greeting")
        self.date = _label("", "date")
        # The family's photo (config home_photo) beside greeting and date: above the call button, which keeps its size.
        self.photo = QLabel()
        self.photo.setTextFormat(Qt.TextFormat.PlainText)
        self.photo.setObjectName("homePhoto")
        pixmap = photo_pixmap(photo, m.px(19 - 5 * (m.scale - 1)), round(m.width * 0.3))
        if pixmap is not None:
            self.photo.setPixmap(pixmap)
            self.photo.setAccessibleName(texts.HOME_PHOTO)
            row = QHBoxLayout()
            row.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignVCenter)
            column = QVBoxLayout()
            column.addWidget(self.greeting)
            column.addWidget(self.date)
            row.addLayout(column, 1)
            layout.addLayout(row)
        else:
            self.photo.hide()
            layout.addWidget(self.greeting)
            layout.addWidget(self.date)
        layout.addSpacing(m.px(1))

        self.call_button = _button(texts.CALL_BUTTON, "callButton")
        self.call_button.set_pictogram(pictogram("call"))  # a handset, for a resident who no longer reads well
        self.call_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Half the screen at font scale 1; at 2.0 the larger texts above it take a share, never below 2.5 x 15 mm.
        self.call_button.setMinimumSize(round(m.width * 0.78),
                                        max(round(2.5 * m.touch), m.px(50 - 20 * (m.scale - 1))))
        self.call_button.clicked.connect(self.call_tapped)
        self.call_button.pressed.connect(self.call_pressed)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.call_button, 8)
        row.addStretch(1)
        layout.addLayout(row, 1)

        self.status = _label("", "hint")
        layout.addWidget(self.status)
        self.set_status("")

        self._tick = QTimer(self)
        self._tick.setSingleShot(True)
        self._tick.timeout.connect(self.refresh)
        self.refresh()

    def set_status(self, text: str) -> None:
        """A calm line under the button (offline, battery); empty hides it."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def refresh(self, now: QDateTime | None = None) -> None:
        """Show the time, then wake once at the next full minute (no polling in between)."""
        now = now or QDateTime.currentDateTime()
        self.greeting.setText(texts.greeting(now.time().hour(), self._first_name))
        self.date.setText(texts.format_date(now.date()))  # in the kiosk's language, e.g. "Пятница, 27 ноября"
        self.clock.setText(texts.format_time(now.time()))
        self._tick.start(max(200, (60 - now.time().second()) * 1000 - now.time().msec()))


class MessageScreen(Screen):
    """A headline, a calm hint and at most one button."""

    button_tapped = pyqtSignal()

    def __init__(self, metrics: Metrics, parent=None):
        super().__init__(metrics, parent=parent)
        m = metrics
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.px(8), m.px(8), m.px(8), m.px(8))
        layout.addStretch(2)
        self.headline = _label("", "headline")
        self.hint = _label("", "hint")
        layout.addWidget(self.headline)
        layout.addSpacing(m.px(2))
        layout.addWidget(self.hint)
        layout.addStretch(2)
        self.button = _button("", "secondary")
        self.button.setMinimumSize(round(m.width * 0.35), m.target(14))
        self.button.clicked.connect(self.button_tapped)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)

    def show_message(self, headline: str, hint: str = "", button: str | None = None) -> None:
        """Set what the screen says."""
        self.headline.setText(headline)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.button.setText(button or "")
        self.button.setAccessibleName(button or "")
        self.button.setVisible(button is not None)


class CallScreen(Screen):
    """The video; below it the big red Auflegen button that is always there, with − / + for the speaker beside it;
    over the video, while nobody else is in the room, the calm waiting panel."""

    hangup_tapped = pyqtSignal()
    volume_down_tapped = pyqtSignal()
    volume_up_tapped = pyqtSignal()

    def __init__(self, metrics: Metrics, call_view: QWidget, parent=None):
        super().__init__(metrics, "darkScreen", parent)
        m = metrics
        self._view = call_view
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(call_view, 1)
        bar = QWidget()
        bar.setObjectName("hangupBar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        bar.setFixedHeight(max(m.px(18), m.touch + m.px(2)))
        row = QHBoxLayout(bar)
        side = max(m.px(2), m.mm(3))
        row.setContentsMargins(side, m.px(2), side, 0)  # flush with the bottom edge: the bottom-centre point is the button
        row.setSpacing(0)
        self.hangup_button = _button(texts.HANGUP_BUTTON, "hangupButton")
        self.hangup_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.hangup_button.setFixedWidth(round(m.width * 0.44))
        self.hangup_button.clicked.connect(self.hangup_tapped)
        # − and + change the speaker in steps (SpeakerController); the bars beside − show the level.
        volume_side = max(m.touch, m.px(16))
        self.volume_down = _button("−", "volumeButton", texts.VOLUME_DOWN, group=None)
        self.volume_up = _button("+", "volumeButton", texts.VOLUME_UP, group=None)
        for button, signal in ((self.volume_down, self.volume_down_tapped), (self.volume_up, self.volume_up_tapped)):
            button.setFixedWidth(volume_side)
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
            button.clicked.connect(signal)
        self.level = VolumeLevel(m)
        row.addWidget(self.volume_down)
        row.addSpacing(max(m.px(1), m.mm(2)))
        row.addWidget(self.level, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addStretch(1)
        row.addSpacing(m.gap)
        row.addWidget(self.hangup_button)
        row.addSpacing(m.gap)
        row.addStretch(1)
        row.addWidget(self.volume_up)
        layout.addWidget(bar)
        self.waiting = WaitingPanel(m, self)
        self.waiting.hide()

    def show_level(self, percent: int) -> None:
        """Show the speaker's level (0 to 100) beside − and +."""
        self.level.set_percent(percent)

    def show_waiting(self, sentences: tuple[str, str] | None) -> None:
        """Cover the resident's own picture with the waiting panel's two sentences; None takes it away."""
        if sentences is None:
            self.waiting.hide()
            return
        self.waiting.say(*sentences)
        self.waiting.setGeometry(self._view.geometry())
        self.waiting.show()
        self.waiting.raise_()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.waiting.setGeometry(self._view.geometry())


class VolumeLevel(QWidget):
    """Five bars growing left to right, as many lit as the volume is high: a level anyone reads without words."""

    BARS = 5

    def __init__(self, metrics: Metrics, parent=None):
        super().__init__(parent)
        self._percent = 0
        self.setFixedSize(max(metrics.mm(14), metrics.px(10)), max(metrics.mm(9), metrics.px(8)))
        self.set_percent(0)

    @property
    def percent(self) -> int:
        """The level shown."""
        return self._percent

    @property
    def lit(self) -> int:
        """How many bars are lit (at least one for any sound)."""
        return 0 if self._percent <= 0 else max(1, round(self._percent * self.BARS / 100))

    def set_percent(self, percent: int) -> None:
        """Show a level from 0 to 100."""
        self._percent = max(0, min(100, percent))
        self.setAccessibleName(texts.VOLUME_LEVEL.format(percent=self._percent))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        step = self.width() / self.BARS
        for index in range(self.BARS):
            height = self.height() * (index + 1) / self.BARS
            painter.setBrush(QColor(ON_DARK if index < self.lit else DIM_ON_DARK))
            painter.drawRoundedRect(QRectF(index * step + step * 0.15, self.height() - height, step * 0.7, height),
                                    step * 0.15, step * 0.15)
        painter.end()


class WaitingPanel(QWidget):
    """Over the resident's own picture while nobody else is in the room: whom the kiosk told and when, and to wait."""

    def __init__(self, metrics: Metrics, parent=None):
        super().__init__(parent)
        m = metrics
        self.setObjectName("waitingPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.px(8), m.px(4), m.px(8), m.px(4))
        layout.addStretch(1)
        self.headline = plain_label("", "headline")  # names are the contacts' as staff typed them: plain text
        self.hint = _label("", "hint")
        layout.addWidget(self.headline)
        layout.addSpacing(m.px(2))
        layout.addWidget(self.hint)
        layout.addStretch(1)

    def say(self, headline: str, hint: str) -> None:
        """Set the two sentences."""
        self.headline.setText(breakable(headline))
        self.hint.setText(hint)


class NightScreen(Screen):
    """Night: an all-black screen (the backlight goes off too, NightController); a touch anywhere only wakes it."""

    woken = pyqtSignal()

    def __init__(self, metrics: Metrics, parent=None):
        super().__init__(metrics, "nightScreen", parent)
        self.setAccessibleName(texts.NIGHT)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#000000"))
        painter.end()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # On release: the finger is off the glass before home shows, so this touch can never start a call.
        event.accept()
        self.woken.emit()


class PinPadScreen(Screen):
    """Big digits for staff; the PIN is checked by the window's PinLock."""

    submitted = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self, metrics: Metrics, parent=None):
        super().__init__(metrics, parent=parent)
        m = metrics
        self._digits = ""
        # The keys 10 mm apart need the height: the title, the dots and "Abbrechen" sit beside them, not above.
        layout = QHBoxLayout(self)
        layout.setContentsMargins(m.px(4), m.px(3), m.px(4), m.px(3))
        layout.setSpacing(m.gap)
        column = QVBoxLayout()
        column.addWidget(_label(texts.PIN_TITLE, "hint"))
        self.dots = _label("", "pinDots")
        self.message = _label("", "small")
        column.addWidget(self.dots)
        column.addWidget(self.message)
        column.addStretch(1)
        layout.addLayout(column, 2)
        grid = QGridLayout()
        grid.setSpacing(m.gap)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", texts.PIN_DELETE, "0", texts.PIN_OK]
        self.keys: dict[str, QPushButton] = {}
        for index, key in enumerate(keys):
            name = {texts.PIN_DELETE: texts.PIN_DELETE_NAME, texts.PIN_OK: texts.PIN_OK_NAME}.get(key, key)
            button = _button(key, "pinKey", name, group=None, debounce_s=0)  # staff type PINs like 1111
            button.setMinimumSize(m.target(22), m.target(11))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.clicked.connect(lambda _=False, k=key: self._press(k))
            grid.addWidget(button, index // 3, index % 3)
            self.keys[key] = button
        layout.addLayout(grid, 3)
        cancel = _button(texts.CANCEL_BUTTON, "secondary")
        cancel.setMinimumSize(m.target(10), m.target(10))
        cancel.clicked.connect(self.cancelled)
        column.addWidget(cancel, 0, Qt.AlignmentFlag.AlignHCenter)

    def reset(self, message: str = "") -> None:
        """Clear the digits and show a message."""
        self._digits = ""
        self.dots.setText("")
        self.message.setText(message)

    def _press(self, key: str) -> None:
        if key == texts.PIN_OK:
            digits, self._digits = self._digits, ""
            self.dots.setText("")
            self.submitted.emit(digits)
            return
        if key == texts.PIN_DELETE:
            self._digits = self._digits[:-1]
        elif len(self._digits) < 12:
            self._digits += key
        self.dots.setText("●" * len(self._digits))


class ServiceScreen(Screen):
    """What staff need to see and do: version, config, server check, reload, quit."""

    reload_tapped = pyqtSignal()
    quit_tapped = pyqtSignal()
    back_tapped = pyqtSignal()
    practice_tapped = pyqtSignal()

    def __init__(self, metrics: Metrics, parent=None):
        super().__init__(metrics, parent=parent)
        m = metrics
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.px(5), m.px(4), m.px(5), m.px(4))
        layout.addWidget(_label(texts.SERVICE_TITLE, "headline", align=Qt.AlignmentFlag.AlignLeft))
        grid = QGridLayout()
        grid.setHorizontalSpacing(m.px(3))
        self.values: dict[str, QLabel] = {}
        for row, key in enumerate((texts.SERVICE_VERSION, texts.SERVICE_CONFIG, texts.SERVICE_SERVER,
                                   texts.SERVICE_ROOM, texts.SERVICE_REACHABLE, texts.SERVICE_TOKEN,
                                   texts.SERVICE_INCIDENTS)):
            grid.addWidget(_label(key, "info", align=Qt.AlignmentFlag.AlignLeft), row, 0)
            value = _label("", "small" if key == texts.SERVICE_INCIDENTS else "info", align=Qt.AlignmentFlag.AlignLeft)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        layout.addStretch(1)
        grid = QGridLayout()  # two rows of two: four buttons side by side do not fit a 1024 px screen
        grid.setSpacing(m.gap)
        for index, (text, name, signal) in enumerate((
                (texts.BACK_BUTTON, "secondary", self.back_tapped),
                (texts.PRACTICE_BUTTON, "secondary", self.practice_tapped),
                (texts.SERVICE_RELOAD, "secondary", self.reload_tapped),
                (texts.SERVICE_QUIT, "danger", self.quit_tapped))):
            button = _button(text, name)
            button.setMinimumHeight(max(m.px(11), m.touch))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(signal)
            grid.addWidget(button, index // 2, index % 2)
        layout.addLayout(grid)

    def set_value(self, key: str, value: str) -> None:
        """Fill one line of the table."""
        self.values[key].setText(value)


class RingingScreen(Screen):
    """The family waits in the room: a pulsing full screen, one big answer button, and "Nicht jetzt"."""

    answer_tapped = pyqtSignal()
    not_now_tapped = pyqtSignal()

    def __init__(self, metrics: Metrics, parent=None, pulse: str = PULSE):
        super().__init__(metrics, parent=parent)
        self._pulse_colour = pulse  # the palette's "pulse": a brand may set it; its texts keep 7:1 (style.text_pairs)
        m = metrics
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.px(5), m.px(3), m.px(5), m.px(3))
        layout.setSpacing(m.px(1))
        self.headline = plain_label(texts.RINGING, "greeting")  # names are typed by strangers: plain text only
        self.hint = _label(texts.RINGING_HINT, "hint")
        self.countdown = _label("", "hint")
        self.countdown.hide()  # only with auto-answer (start)
        layout.addWidget(self.headline)
        layout.addWidget(self.hint)
        # Up to three photos of the contacts who wait, with their names under them when more than one shows.
        self.faces = Faces(m)
        layout.addWidget(self.faces, 1)  # the faces share the room the answer button does not need
        self.answer_button = _button(texts.ANSWER_BUTTON, "callButton")
        self.answer_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._answer_height = m.px(40)
        self.answer_button.setMinimumSize(round(m.width * 0.7), self._answer_height)
        self.answer_button.clicked.connect(self.answer_tapped)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.answer_button, 8)
        row.addStretch(1)
        layout.addLayout(row, 1)
        layout.addWidget(self.countdown)
        self.not_now_button = _button(texts.NOT_NOW_BUTTON, "secondary")
        self.not_now_button.setMinimumSize(round(m.width * 0.35), m.touch)
        self.not_now_button.clicked.connect(self.not_now_tapped)
        # 10 mm from "Annehmen", so a tremor hits the right one: a margin, which a full layout cannot squeeze (a
        # spacer it can).
        apart = QVBoxLayout()
        apart.setContentsMargins(0, max(0, m.gap - layout.spacing()), 0, 0)
        apart.addWidget(self.not_now_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(apart)
        # The pulse: the background breathes between two calm tones, so ringing is seen as well as heard.
        self._pulse = QTimer(self, interval=700)
        self._pulse.timeout.connect(self._beat)
        self._bright = False
        self._left = 0
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._count)

    def show_waiting(self, waiting: Waiting | None) -> None:
        """Say who waits ("Ihre Tochter Anna ist da") and show the photos of the contacts among them; None or no
        names: "Ihre Familie ist da" as always. Every name is plain text, at most 40 characters (family.safe_name)."""
        m = self.metrics
        self.headline.setText(breakable(texts.ringing_headline(waiting)))
        self._fit_headline()
        # With faces the answer button gives up some height, never below twice the 15 mm rule; it gives it up before
        # the faces show, or the window would grow past the screen for a moment (and a window does not shrink back).
        self.answer_button.setMinimumHeight(max(2 * m.touch, m.px(22)))
        if not self.faces.show_visitors(waiting.photos if waiting is not None else ()):
            self.answer_button.setMinimumHeight(self._answer_height)

    def _fit_headline(self) -> None:
        m = self.metrics
        fit_font(self.headline, round(m.width * 0.9), lines=2)  # long names: a smaller font, not a third line
        # The lines it needs are its own: the growing faces must not squeeze the headline.
        self.headline.setMinimumHeight(self.headline.heightForWidth(m.width - 2 * m.px(5)))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        pulse = getattr(self, "_pulse", None)  # None while the screen is being built
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange) and pulse and not pulse.isActive():
            self._fit_headline()  # the style sheet sets the headline's font: fit again with the real one

    def start(self, auto_answer_s: float | None) -> None:
        """Begin pulsing, and show the countdown when the device answers by itself."""
        self._pulse.start()
        self._left = round(auto_answer_s) if auto_answer_s else 0
        self.countdown.setVisible(bool(self._left))
        if self._left:
            self.countdown.setText(texts.AUTO_ANSWER.format(seconds=self._left))
            self._tick.start()

    def stop(self) -> None:
        """Stop pulsing and counting."""
        self._pulse.stop()
        self._tick.stop()
        self._bright = False
        self.setStyleSheet("")

    def _beat(self) -> None:
        self._bright = not self._bright
        self.setStyleSheet(f"QWidget#screen {{ background: {self._pulse_colour}; }}" if self._bright else "")

    def _count(self) -> None:
        self._left = max(0, self._left - 1)
        self.countdown.setText(texts.AUTO_ANSWER.format(seconds=self._left))
        if not self._left:
            self._tick.stop()


class PracticeScreen(Screen):
    """Camera test for staff, and practice for a resident: the local picture, a microphone bar, a test tone."""

    done_tapped = pyqtSignal()

    def __init__(self, metrics: Metrics, view: QWidget, parent=None):
        super().__init__(metrics, parent=parent)
        m = metrics
        self.view = view
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.px(2), m.px(1.5), m.px(2), m.px(1.5))
        layout.addWidget(_label(texts.PRACTICE_TITLE, "hint"))
        layout.addWidget(view, 1)
        layout.addWidget(_label(texts.PRACTICE_HINT, "small"))
        done = _button(texts.PRACTICE_DONE, "secondary")
        done.setMinimumSize(round(m.width * 0.3), max(m.px(11), m.touch))
        done.clicked.connect(self.done_tapped)
        layout.addWidget(done, 0, Qt.AlignmentFlag.AlignHCenter)
