"""WCAG 2.x relative luminance and contrast ratio: pure functions, no Qt."""

from __future__ import annotations

from kiosk.core.fields import HEX_COLOUR
AAA = 7.0  # WCAG 2.x level AAA for normal text (1.4.6)


def parse_hex(colour: str) -> tuple[int, int, int]:
    """'#1d2a38' as (r, g, b) in 0..255; ValueError otherwise."""
    if not HEX_COLOUR.fullmatch(colour):
        raise ValueError(f"{colour!r} is not a colour like #1d2a38")
    digits = colour[1:]
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _linear(channel: int) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance, 0.0 (black) to 1.0 (white)."""
    r, g, b = (_linear(c) for c in parse_hex(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio, 1.0 to 21.0, the same either way round."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)
