"""WCAG 2.x arithmetic: hex parsing, relative luminance and contrast ratio against the standard's reference values."""

import pytest

from kiosk.core.contrast import AAA, contrast_ratio, parse_hex, relative_luminance


def test_contrast_formula_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic "just fails AA" grey
    assert relative_luminance("#808080") == pytest.approx(0.2159, abs=1e-4)
    assert contrast_ratio("#1d2a38", "#f7f3ea") == contrast_ratio("#f7f3ea", "#1d2a38")


def test_luminance_spans_black_to_white_and_weights_green_most():
    assert relative_luminance("#000000") == 0.0 and relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#00ff00") == pytest.approx(0.7152)
    assert relative_luminance("#ff0000") == pytest.approx(0.2126)
    assert relative_luminance("#0000ff") == pytest.approx(0.0722)
    # The linear segment at the dark end (channel value <= 0.04045): 10/255/12.92 for a grey of 0x0a.
    assert relative_luminance("#0a0a0a") == pytest.approx(10 / 255 / 12.92)


def test_aaa_is_seven_to_one_and_595959_on_white_is_the_last_grey_that_passes():
    assert AAA == 7.0
    assert contrast_ratio("#595959", "#ffffff") >= AAA > contrast_ratio("#5a5a5a", "#ffffff")


def test_parse_hex_reads_both_cases():
    assert parse_hex("#1d2a38") == (0x1D, 0x2A, 0x38)
    assert parse_hex("#FFfF00") == (255, 255, 0)


@pytest.mark.parametrize("colour", ["green", "1d2a38", "#fff", "#1d2a3g", "#1d2a38\n", "#1d2a3800", " #1d2a38"])
def test_parse_hex_refuses_anything_but_hash_and_six_hex_digits(colour):
    with pytest.raises(ValueError, match="is not a colour like #1d2a38"):
        parse_hex(colour)
