"""Palette, sizes and fonts every screen uses; sizes follow the screen so they work from 10 to 17 inches."""

from __future__ import annotations

from dataclasses import dataclass

# Every text/background pair below has a contrast of at least 7:1 (WCAG AAA).
BACKGROUND = "#f7f3ea"  # warm paper, calmer than white
TEXT = "#1d2a38"
TEXT_SOFT = "#3d4753"
CALL = "#17592f"  # green: "go"
CALL_PRESSED = "#14532d"
HANGUP = "#a4161a"  # red: "stop"
HANGUP_PRESSED = "#9b1c1c"
NEUTRAL = "#24456b"  # secondary buttons
NEUTRAL_PRESSED = "#1d2a38"
ON_BUTTON = "#ffffff"
DARK = "#1d2a38"  # behind the video
ON_DARK = "#f7f3ea"
FONT_FAMILY = "DejaVu Sans"


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes for one screen, from its height (vh = 1 % of it)."""

    width: int
    height: int

    @property
    def vh(self) -> float:
        """One percent of the screen height, in pixels."""
        return self.height / 100.0

    def px(self, percent_of_height: float) -> int:
        """A size in pixels, given in percent of the screen height."""
        return max(1, round(self.vh * percent_of_height))


def stylesheet(m: Metrics) -> str:
    """The one Qt style sheet of the kiosk, sized for this screen."""
    return f"""
    QWidget#screen {{ background: {BACKGROUND}; }}
    QWidget#darkScreen, QWidget#hangupBar {{ background: {DARK}; }}
    QLabel {{ color: {TEXT}; font-family: "{FONT_FAMILY}"; }}
    QLabel#brand {{ font-size: {m.px(3.6)}px; font-weight: bold; }}
    QLabel#clock {{ font-size: {m.px(5.5)}px; font-weight: bold; }}
    QLabel#greeting {{ font-size: {m.px(7.5)}px; font-weight: bold; }}
    QLabel#date {{ font-size: {m.px(5)}px; color: {TEXT_SOFT}; }}
    QLabel#headline {{ font-size: {m.px(7)}px; font-weight: bold; }}
    QLabel#hint {{ font-size: {m.px(4.5)}px; color: {TEXT_SOFT}; }}
    QLabel#small {{ font-size: {m.px(3.2)}px; color: {TEXT_SOFT}; }}
    QLabel#info {{ font-size: {m.px(4.0)}px; }}
    QLabel#pinDots {{ font-size: {m.px(7)}px; letter-spacing: {m.px(1.5)}px; }}
    QPushButton {{ font-family: "{FONT_FAMILY}"; font-weight: bold; color: {ON_BUTTON}; border: none;
                   border-radius: {m.px(2.5)}px; padding: {m.px(1)}px {m.px(3)}px; }}
    QPushButton#callButton {{ background: {CALL}; font-size: {m.px(9)}px; border-radius: {m.px(5)}px; }}
    QPushButton#callButton:pressed {{ background: {CALL_PRESSED}; }}
    QPushButton#hangupButton {{ background: {HANGUP}; font-size: {m.px(7)}px; border-radius: {m.px(3)}px;
                                border-bottom-left-radius: 0; border-bottom-right-radius: 0; }}
    QPushButton#hangupButton:pressed {{ background: {HANGUP_PRESSED}; }}
    QPushButton#secondary {{ background: {NEUTRAL}; font-size: {m.px(5)}px; }}
    QPushButton#secondary:pressed {{ background: {NEUTRAL_PRESSED}; }}
    QPushButton#pinKey {{ background: {NEUTRAL}; font-size: {m.px(6)}px; }}
    QPushButton#pinKey:pressed {{ background: {NEUTRAL_PRESSED}; }}
    QPushButton#danger {{ background: {HANGUP}; font-size: {m.px(4.5)}px; }}
    """
