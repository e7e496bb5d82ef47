"""The shipped assets: each brand's SVG logo, none for an unknown brand, and the ring sound as a real WAV file."""

import wave

import pytest

from kiosk.core.assets import DEFAULT_BRAND_ID, asset_path, ring_sound, shipped_logo


@pytest.mark.parametrize("brand", [DEFAULT_BRAND_ID, "beispielstadt"])
def test_the_default_brand_and_the_example_partner_ship_their_svg_logos(brand):
    logo = shipped_logo(brand)
    assert logo is not None and logo.is_file() and logo.name == "logo.svg"
    assert logo.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert logo == asset_path("brands", brand, "logo.svg")


@pytest.mark.parametrize("brand", ["nowhere", "palim-old", ""])
def test_a_brand_without_a_shipped_logo_gets_none(brand):
    assert shipped_logo(brand) is None


def test_the_ring_sound_is_a_playable_wav_file():
    path = ring_sound()
    header = path.read_bytes()[:12]
    assert header[:4] == b"RIFF" and header[8:12] == b"WAVE"
    assert int.from_bytes(header[4:8], "little") == path.stat().st_size - 8  # the RIFF size covers the whole file
    with wave.open(str(path)) as sound:
        assert sound.getnframes() > 0 and sound.getframerate() >= 8000
        assert 0.2 < sound.getnframes() / sound.getframerate() < 10  # a ring, not silence and not a song
