"""Palette, sizes and fonts every screen uses; sizes follow the screen so they work from 10 to 17 inches.

The style sheet is built from a table of rules (selector, text colour role, background role); the same table gives
every text/background pair, which tests/unit/kiosk/core/test_style.py and a brand's validation hold to 7:1 (WCAG AAA).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.core.contrast import AAA, contrast_ratio

# The default brand's palette; a brand may replace any role (kiosk.config.BrandColors).
DEFAULT_PALETTE: dict[str, str] = {
    "background": "#f7f3ea",  # warm paper, calmer than white
    "text": "#1d2a38",
    "text_soft": "#3d4753",
    "call": "#17592f",  # green: "go"
    "call_pressed": "#14532d",
    "hangup": "#a4161a",  # red: "stop"
    "hangup_pressed": "#9b1c1c",
    "neutral": "#24456b",  # secondary buttons
    "neutral_pressed": "#1d2a38",
    "on_button": "#ffffff",
    "dark": "#1d2a38",  # behind the video
    "on_dark": "#f7f3ea",
    "pulse": "#fbe7a1",  # the ringing screen's second, brighter background (it breathes between the two)
}
ROLES = tuple(DEFAULT_PALETTE)

# The colours painted by hand rather than through the style sheet (support screenshot, ringing pulse).
DARK = DEFAULT_PALETTE["dark"]
ON_DARK = DEFAULT_PALETTE["on_dark"]
PULSE = DEFAULT_PALETTE["pulse"]
DIM_ON_DARK = "#56606b"  # the unlit bars of the call's volume level, on the dark bar (a shape, not text)
FONT_FAMILY = "DejaVu Sans"  # covers German, Turkish, Polish and Cyrillic

MM_PER_INCH = 25.4
MIN_TOUCH_MM = 15.0  # every touch target at least this big on the physical screen
MIN_GAP_MM = 10.0  # and at least this far from the next one: a tremor must not hit the wrong button
# Smallest built-in screen the triage accepts is 9.5" (provisioning/check.py); 16:10 of that is 5.0" high.
# When the screen does not say how big it is, assume that smallest screen: sizes come out larger, never smaller.
SMALLEST_SCREEN_HEIGHT_IN = 5.0
PLAUSIBLE_DPI = (50.0, 400.0)


def palette(overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The default palette with a brand's colours put over it (None keeps the default)."""
    out = dict(DEFAULT_PALETTE)
    for role, colour in (overrides or {}).items():
        if role not in out:
            raise KeyError(f"unknown colour role {role!r}")
        if colour is not None:
            out[role] = colour
    return out


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes for one screen: layout from its height (vh = 1 % of it), touch targets from its physical size.

    dpi: the screen's physical dots per inch (QScreen.physicalDotsPerInch), None or implausible when unknown.
    scale: the device's font scale (config `ui.scale`, 1.0 to 2.0).
    """

    width: int
    height: int
    dpi: float | None = None
    scale: float = 1.0

    @property
    def vh(self) -> float:
        """One percent of the screen height, in pixels."""
        return self.height / 100.0

    def px(self, percent_of_height: float) -> int:
        """A size in pixels, given in percent of the screen height."""
        return max(1, round(self.vh * percent_of_height))

    def font(self, percent_of_height: float, cap: float | None = None) -> int:
        """A font size in pixels: percent of the screen height times the device's scale, at most `cap` percent.

        The cap keeps what is already large (greeting, call button) from pushing the layout off a small screen,
        while small text (hints, date, staff tables) grows by the full scale.
        """
        percent = percent_of_height * self.scale
        if cap is not None:
            percent = min(percent, max(cap, percent_of_height))
        return max(1, round(self.vh * percent))

    @property
    def dots_per_inch(self) -> float:
        """The physical DPI, or the safe assumption (the smallest screen we accept) when it is unknown."""
        low, high = PLAUSIBLE_DPI
        if self.dpi is not None and low <= self.dpi <= high:
            return self.dpi
        return max(low, self.height / SMALLEST_SCREEN_HEIGHT_IN)

    def mm(self, millimetres: float) -> int:
        """A physical length in pixels."""
        return max(1, round(millimetres * self.dots_per_inch / MM_PER_INCH))

    @property
    def touch(self) -> int:
        """The smallest side of any touch target, in pixels (15 mm)."""
        return self.mm(MIN_TOUCH_MM)

    @property
    def gap(self) -> int:
        """The least room between two touch targets, in pixels (10 mm, rounded up)."""
        return math.ceil(MIN_GAP_MM * self.dots_per_inch / MM_PER_INCH)

    def target(self, percent_of_height: float) -> int:
        """A touch target's side: the layout's share of the height, never under 15 mm."""
        return max(self.touch, self.px(percent_of_height))


@dataclass(frozen=True)
class Rule:
    """One style-sheet rule; colours are palette roles, so the rule table also lists every colour pair."""

    selector: str
    fg: str | None = None  # text colour role
    bg: str | None = None  # background role
    extra: str = ""


# Which background a label's text sits on when its own rule sets none.
LABEL_BACKGROUNDS = ("background", "pulse")


def rules(m: Metrics) -> list[Rule]:
    """The kiosk's style rules, sized for this screen."""
    return [
        Rule("QWidget#screen, QWidget#waitingPanel", bg="background"),
        Rule("QWidget#darkScreen, QWidget#hangupBar", bg="dark"),
        Rule("QLabel", fg="text", extra=f'font-family: "{FONT_FAMILY}";'),
        Rule("QLabel#brand", extra=f"font-size: {m.font(3.6, 6)}px; font-weight: bold;"),
        Rule("QLabel#clock", extra=f"font-size: {m.font(5.5, 7.5)}px; font-weight: bold;"),
        Rule("QLabel#greeting", extra=f"font-size: {m.font(7.5, 10)}px; font-weight: bold;"),
        Rule("QLabel#date", fg="text_soft", extra=f"font-size: {m.font(5, 7.5)}px;"),
        Rule("QLabel#headline", extra=f"font-size: {m.font(7, 10)}px; font-weight: bold;"),
        Rule("QLabel#hint", fg="text_soft", extra=f"font-size: {m.font(4.5, 7.5)}px;"),
        Rule("QLabel#small", fg="text_soft", extra=f"font-size: {m.font(3.2, 4.5)}px;"),
        Rule("QLabel#info", extra=f"font-size: {m.font(4.0, 4.5)}px;"),  # staff table: long names must fit
        Rule("QLabel#pinDots", extra=f"font-size: {m.font(7, 9)}px; letter-spacing: {m.px(1.5)}px;"),
        Rule("QPushButton", fg="on_button",
             extra=f'font-family: "{FONT_FAMILY}"; font-weight: bold; border: none; '
                   f"border-radius: {m.px(2.5)}px; padding: {m.px(1)}px {m.px(3)}px;"),
        Rule("QPushButton#callButton", bg="call",
             extra=f"font-size: {m.font(9, 12)}px; border-radius: {m.px(5)}px;"),
        Rule("QPushButton#callButton:pressed", bg="call_pressed"),
        Rule("QPushButton#hangupButton", bg="hangup",
             extra=f"font-size: {m.font(7, 9)}px; border-radius: {m.px(3)}px; "
                   "border-bottom-left-radius: 0; border-bottom-right-radius: 0;"),
        Rule("QPushButton#hangupButton:pressed", bg="hangup_pressed"),
        Rule("QPushButton#secondary", bg="neutral", extra=f"font-size: {m.font(5, 7.5)}px;"),
        Rule("QPushButton#secondary:pressed", bg="neutral_pressed"),
        Rule("QPushButton#pinKey", bg="neutral", extra=f"font-size: {m.font(6, 8)}px;"),
        Rule("QPushButton#pinKey:pressed", bg="neutral_pressed"),
        Rule("QPushButton#volumeButton", bg="neutral", extra=f"font-size: {m.font(9, 11)}px;"),
        Rule("QPushButton#volumeButton:pressed", bg="neutral_pressed"),
        Rule("QPushButton#danger", bg="hangup", extra=f"font-size: {m.font(4.5, 7)}px;"),
        Rule("QPushButton#danger:pressed", bg="hangup_pressed"),
    ]


def stylesheet(m: Metrics, colours: Mapping[str, str | None] | None = None) -> str:
    """The one Qt style sheet of the kiosk, sized for this screen, in a brand's colours."""
    p = palette(colours)
    out = []
    for rule in rules(m):
        decls = []
        if rule.fg:
            decls.append(f"color: {p[rule.fg]};")
        if rule.bg:
            decls.append(f"background: {p[rule.bg]};")
        if rule.extra:
            decls.append(rule.extra)
        out.append(f"{rule.selector} {{ {' '.join(decls)} }}")
    return "\n".join(out) + "\n"


def _base_fg(selector: str, table: list[Rule]) -> str | None:
    widget = selector.split("#")[0].split(":")[0].strip()
    return next((r.fg for r in table if r.selector == widget and r.fg), None)


def text_pairs(m: Metrics | None = None) -> list[tuple[str, str, str]]:
    """Every (where, text role, background role) the style sheet can put on screen, plus the hand-painted ones."""
    table = rules(m or Metrics(1280, 800))
    pairs: list[tuple[str, str, str]] = []
    for rule in table:
        if rule.selector.startswith("QLabel"):
            fg = rule.fg or _base_fg(rule.selector, table)
            for bg in ((rule.bg,) if rule.bg else LABEL_BACKGROUNDS):
                pairs.append((rule.selector, fg, bg))
        elif rule.selector.startswith("QPushButton") and rule.bg:
            pairs.append((rule.selector, rule.fg or _base_fg(rule.selector, table), rule.bg))
    pairs.append(("support screenshot: video hidden", "on_dark", "dark"))
    return list(dict.fromkeys(pairs))


def contrast_problems(colours: Mapping[str, str | None] | None = None, minimum: float = AAA) -> list[str]:
    """Each text/background pair below `minimum` in these colours, in words; empty when all pass."""
    p = palette(colours)
    problems = []
    for where, fg, bg in text_pairs():
        ratio = contrast_ratio(p[fg], p[bg])
        if ratio < minimum:
            problems.append(f"{fg} {p[fg]} on {bg} {p[bg]} ({where}) has a contrast of {ratio:.2f}:1, "
                            f"at least {minimum:g}:1 needed")
    return problems
