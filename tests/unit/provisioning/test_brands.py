"""Partner-town brands in the device list: inherited like other settings, refused when unreadable or unshipped."""

import pytest

from kiosk.config import config_from_text, dump_config
from kiosk.core.assets import shipped_logo
from provisioning.cli import main
from provisioning.devicelist import DeviceListError, load_text
from provisioning.inventory import extract_device

from .helpers import VALID

F = "devices.yaml"
BRANDS = """\
brands:
  beispielstadt:
    name: Hallo Familie!
    support_contact: "Bürgerbüro Beispielstadt, 07221 000-0"
    colors: {call: "#0b4f6c", background: "#f3f6f9"}
"""


def branded(brand_line: str = "    brand: beispielstadt\n", brands: str = BRANDS) -> str:
    text = VALID.replace("version: 1\n", "version: 1\n" + brands, 1)
    return text.replace("    name: EBH\n", "    name: EBH\n" + brand_line, 1)


def problems(text: str) -> list[str]:
    with pytest.raises(DeviceListError) as info:
        load_text(text, F)
    return [str(p) for p in info.value.problems]


def test_a_home_brand_reaches_its_devices_config_and_round_trips():
    loaded = load_text(branded(), F)
    config = loaded.targets[0].config
    assert (config.brand.id, config.brand.name, config.brand.colors.call) == ("beispielstadt", "Hallo Familie!",
                                                                               "#0b4f6c")
    assert config.brand.logo_path() == shipped_logo("beispielstadt")
    assert config_from_text(dump_config(config)) == config
    # Without a brand anywhere: the default, nothing written to the config.
    plain = load_text(VALID, F).targets[0].config
    assert plain.brand.id == "palim" and "brand" not in dump_config(plain)


def test_the_device_support_contact_wins_over_the_brands():
    config = load_text(branded(), F).targets[0].config
    assert config.contact == config.support_contact or config.contact == "Bürgerbüro Beispielstadt, 07221 000-0"


def test_a_brand_whose_colours_fail_the_contrast_test_is_refused_with_the_reason():
    text = branded(brands=BRANDS.replace('call: "#0b4f6c"', 'call: "#4caf50"'))
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith(f"{F}:6:13: brands.beispielstadt.colors: these colours fail the contrast test "
                               "(WCAG AAA, 7:1 for every text on its background): on_button #ffffff on call #4caf50")
    assert "at least 7:1 needed" in found[0]


@pytest.mark.parametrize("brands, brand_line, expected", [
    (BRANDS, "    brand: beispielstat\n",
     "12:12: homes.ebh.brand: brand 'beispielstat' is not listed under brands (known: beispielstadt, palim)"),
    (BRANDS.replace("beispielstadt:", "achern:"), "    brand: achern\n",
     "3:3: brands.achern: brand 'achern' has no logo: add assets/brands/achern/logo.svg to the kiosk"),
    (BRANDS.replace("    name: Hallo", "    logo: /tmp/x.svg\n    name: Hallo"), "",
     "4:5: brands.beispielstadt.logo: logos ship with the kiosk: put the SVG at "
     "assets/brands/beispielstadt/logo.svg instead"),
    (BRANDS.replace('"#0b4f6c"', "0b4f6c"), "",
     "6:20: brands.beispielstadt.colors.call: must be a colour like '#17592f'"),
    (BRANDS.replace("Hallo Familie!", "''"), "",
     "4:11: brands.beispielstadt.name: String should have at least 1 character"),
])
def test_broken_brands_point_at_the_line(brands, brand_line, expected):
    found = problems(branded(brand_line, brands))
    assert any(p.startswith(f"{F}:{expected}") for p in found), found


def test_the_extract_for_one_host_carries_its_brand_only():
    loaded = load_text(branded(), F)
    text = extract_device(loaded, loaded.targets[0].id)
    assert "beispielstadt" in text and load_text(text, "x").targets[0].config.brand.id == "beispielstadt"


def test_validate_exits_2_naming_the_pair(tmp_path, capsys):
    path = tmp_path / F
    path.write_text(branded(brands=BRANDS.replace('background: "#f3f6f9"', 'background: "#9fb3c8"')))
    assert main(["validate", str(path), "--skip-secrets"]) == 2
    err = capsys.readouterr().err
    assert "contrast" in err and "text #1d2a38 on background #9fb3c8" in err

