"""The style: every text/background pair of the palette and the sheet at 7:1 (WCAG AAA), physical sizes, font scale."""

import re

import pytest

from kiosk.core import style
from kiosk.core.contrast import AAA, contrast_ratio
from kiosk.core.style import Metrics


def test_every_pair_of_the_default_palette_is_aaa():
    pairs = style.text_pairs()
    assert len(pairs) >= 10
    palette = style.palette()
    for where, fg, bg in pairs:
        assert contrast_ratio(palette[fg], palette[bg]) >= AAA, (where, fg, bg)
    assert style.contrast_problems() == []


_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_DECL = re.compile(r"(?<![-\w])(color|background)\s*:\s*(#[0-9a-fA-F]{3,6})")


def _parsed(sheet: str) -> dict[str, dict[str, str]]:
    out = {}
    for selector, body in _RULE.findall(sheet):
        out[selector.strip()] = dict(_DECL.findall(body))
    return out


@pytest.mark.parametrize("size, scale", [((1280, 800), 1.0), ((1024, 600), 2.0)])
def test_the_stylesheet_text_itself_holds_every_pair_to_aaa(size, scale):
    """Parse colour and background per selector from the real style sheet, resolve inheritance, check 7:1."""
    sheet = style.stylesheet(Metrics(*size, scale=scale))
    rules = _parsed(sheet)
    label_fg = rules["QLabel"]["color"]
    button_fg = rules["QPushButton"]["color"]
    screen_bgs = [decls["background"] for sel, decls in rules.items() if sel.startswith("QWidget#screen")]
    checked = 0
    for selector, decls in rules.items():
        if selector.startswith("QLabel"):
            for bg in [decls["background"]] if "background" in decls else screen_bgs:
                ratio = contrast_ratio(decls.get("color", label_fg), bg)
                assert ratio >= AAA, f"{selector}: {ratio:.2f}:1"
                checked += 1
        elif selector.startswith("QPushButton") and "background" in decls:
            ratio = contrast_ratio(decls.get("color", button_fg), decls["background"])
            assert ratio >= AAA, f"{selector}: {ratio:.2f}:1"
            checked += 1
    assert checked >= 15
    # Every colour in the sheet is one of the palette's (no stray literal escapes the check).
    assert set(re.findall(r"#[0-9a-fA-F]{6}\b", sheet)) <= set(style.palette().values())


def test_a_brand_colour_that_fails_is_reported_with_the_reason():
    problems = style.contrast_problems({"call": "#4caf50"})
    assert problems and "on_button #ffffff on call #4caf50" in problems[0] and "at least 7:1" in problems[0]
    assert style.contrast_problems({"call": "#0b3d1f"}) == []
    with pytest.raises(KeyError):
        style.palette({"sky": "#000000"})


def test_touch_targets_follow_the_physical_screen():
    # A 10.1" 1280x800 tablet: about 149 dpi; 15 mm is 88 px.
    tablet = Metrics(1280, 800, dpi=149.4)
    assert tablet.touch == round(15 * 149.4 / 25.4)
    # A 15.6" 1366x768 laptop: about 100 dpi; 15 mm is 59 px.
    assert Metrics(1366, 768, dpi=100.5).touch == 59
    # Unknown or nonsense DPI (Xvfb, broken EDID): assume the smallest screen accepted, 5" high.
    for dpi in (None, 0.0, 10.0, 2000.0):
        m = Metrics(1024, 600, dpi=dpi)
        assert m.dots_per_inch == pytest.approx(120.0)
        assert m.touch == round(15 * 120 / 25.4)
    assert Metrics(1024, 600).target(5) == Metrics(1024, 600).touch
    assert Metrics(1024, 600).target(30) == 180


def test_font_scale_scales_fonts_not_layout():
    base, big = Metrics(1024, 600), Metrics(1024, 600, scale=2.0)
    assert big.font(5) == 2 * base.font(5) and big.px(5) == base.px(5)
    assert "font-size: 54px" in style.stylesheet(big)  # the hint: 4.5 % of 600, doubled
    assert "font-size: 72px" in style.stylesheet(big)  # the call button: 9 % doubled, capped at 12 %
