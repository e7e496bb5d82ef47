"""The kiosk config model: what passes, and where and why what fails."""

import pytest

from kiosk.config import (
    ConfigError, KioskConfig, config_file_bytes, config_from_bytes, config_from_text, dump_config, load_config,
    peek_language, peek_support_contact,
)
from kiosk.core.assets import shipped_logo

GOOD = """\
server: https://konferenz.example.org   # the city's Jitsi server
room: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y
resident: Erna Müller
language: de
"""


def problems(text):
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "kiosk.yaml")
    return [str(p) for p in info.value.problems]


def test_minimal_config_and_derived_values():
    config = config_from_text(GOOD)
    assert config.domain == "konferenz.example.org"
    assert config.first_name == "Erna"
    assert config.room_url == "https://konferenz.example.org/palim-7q2m4k9x3c8v5b1n6z0r4t7w2y"
    assert config.jitsi.resolution == 360 and config.language == "de"


def test_dump_round_trips():
    config = config_from_text(GOOD + "tls_pins: ['AB:" + "cd" * 30 + ":EF']\njitsi: {resolution: 240}\n")
    assert config_from_text(dump_config(config)) == config
    assert config.tls_pins == ("ab" + "cd" * 30 + "ef",)


@pytest.mark.parametrize("text, expected", [
    (GOOD.replace("https", "http"),
     "kiosk.yaml:1:9: server: must use https (plain http is only allowed for 127.0.0.1 and localhost)"),
    (GOOD.replace("example.org", "example.org/room"),
     "kiosk.yaml:1:9: server: must be the server's address only, without a path, query or login"),
    (GOOD.replace("room: palim-", "room: palim "), "kiosk.yaml:2:7: room: may only use letters, digits, '-' and '_'"
                                                   " (1 to 128 characters)"),
    (GOOD.replace("Erna Müller", "yes"),
     "kiosk.yaml:3:11: resident: must be text, but YAML read the unquoted 'yes' as a yes/no value; put it in quotes"),
    (GOOD.replace("language: de", "languag: de"), "kiosk.yaml:4:1: languag: unknown key 'languag' (check the spelling)"),
    (GOOD.replace("language: de", "language: fr"), "kiosk.yaml:4:11: language: must be 'de', 'en', 'tr', 'ru' or 'pl'"),
    (GOOD.replace("resident: Erna Müller\n", ""), "kiosk.yaml:1:1: 'resident' is missing"),
    (GOOD + "jitsi:\n  resolution: 1080\n", "kiosk.yaml:6:15: jitsi.resolution: must be 180, 240, 360, 480 or 720"),
    (GOOD + "admin_pin_hash: '1234'\n", "kiosk.yaml:5:17: admin_pin_hash: must be a hash made by 'palim-kiosk "
                                         "--hash-pin' (scrypt$...), never the PIN itself"),
    (GOOD + "room: other\n", "kiosk.yaml:5:1: room: this key appears twice"),
    ("server: [unclosed\n", "kiosk.yaml:2:1: not valid YAML: did not find expected ',' or ']'"),
    ("", "kiosk.yaml:1:1: the file is empty"),
    ("- a\n- b\n", "kiosk.yaml:1:1: the config must be a mapping of keys to values"),
])
def test_problems_point_at_line_and_column(text, expected):
    assert problems(text) == [expected]


def test_every_problem_is_reported_at_once():
    found = problems("server: ftp://x\nroom: 'a b'\nresident: 12\nlanguag: de\n")
    assert [p.split(":")[1] for p in found] == ["1", "2", "3", "4"]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"resident: M\xfcller\n")
    with pytest.raises(ConfigError, match=r"latin1.yaml:1:12: the config file is not UTF-8 text: the byte here \(0xFC, 'ü' "
                                          r"in Latin-1 or Windows-1252\) is not UTF-8; save the file as UTF-8"):
        load_config(bad)


def test_a_config_from_its_bytes_is_the_loaded_one(tmp_path):
    path = tmp_path / "kiosk.yaml"
    path.write_text(GOOD)
    assert config_file_bytes(path) == GOOD.encode()
    assert config_from_bytes(config_file_bytes(path), str(path)) == load_config(path)
    with pytest.raises(ConfigError, match=r"kiosk.yaml:1:12: the config file is not UTF-8 text"):
        config_from_bytes(b"resident: M\xfcller\n", "kiosk.yaml")
    assert config_file_bytes(tmp_path / "nope.yaml") == b""  # missing: as empty, both mean "not set up"
    assert config_file_bytes(tmp_path) == b""  # a folder cannot be read


def test_support_contact_is_found_even_in_a_broken_config(tmp_path):
    path = tmp_path / "kiosk.yaml"
    path.write_text("support_contact: 'Stadt IT, 07223 935-000'\nserver: nonsense\n")
    assert peek_support_contact(path) == "Stadt IT, 07223 935-000"
    path.write_text(": : :")
    assert peek_support_contact(path) is None


def test_the_language_is_found_even_in_a_broken_config(tmp_path):
    path = tmp_path / "kiosk.yaml"
    path.write_text("language: tr\nserver: nonsense\n")
    assert peek_language(path) == "tr"
    path.write_text("language: xx\n")
    assert peek_language(path) == "de"
    assert peek_language(tmp_path / "missing.yaml") == "de"


def test_loopback_http_is_allowed_for_tests_and_demo():
    config = config_from_text(GOOD.replace("https://konferenz.example.org", "http://127.0.0.1:8080"))
    assert config.domain == "127.0.0.1:8080"


def test_model_is_frozen():
    config = config_from_text(GOOD)
    with pytest.raises(Exception):
        config.room = "x"  # type: ignore[misc]
    assert isinstance(config, KioskConfig)


def test_full_config_round_trips():
    text = GOOD + ("device_id: ebh-01\nhome: erich-burger-heim\n"
                   "health: {nightly_restart: '03:00-04:00', metrics_file: /var/lib/node/palim.prom}\n"
                   "power: {warn_percent: 30, shutdown_percent: 10, shutdown: false}\n")
    config = config_from_text(text)
    assert config.health.nightly_restart == "03:00-04:00" and not config.power.shutdown
    assert config_from_text(dump_config(config)) == config


@pytest.mark.parametrize("text, expected", [
    ("health: {nightly_restart: 3-4}\n", "health.nightly_restart: '3-4' must be a time window like"),
    ("health: {usage_log: usage.jsonl}\n", "health.usage_log: must be an absolute path"),
    ("power: {shutdown_percent: 30}\n", "power.shutdown_percent: must be below warn_percent"),
    ("device_id: EBH 01\n", "device_id: must be a valid hostname"),
])
def test_health_and_power_problems(text, expected):
    (problem,) = problems(GOOD + text)
    assert expected in problem


def test_call_profile_and_frame_rate():
    assert config_from_text(GOOD).jitsi.profile == "auto" and config_from_text(GOOD).jitsi.frame_rate is None
    config = config_from_text(GOOD + "jitsi: {profile: low, frame_rate: 10}\n")
    assert config.jitsi.profile == "low" and config.jitsi.frame_rate == 10
    assert config_from_text(dump_config(config)) == config


@pytest.mark.parametrize("text, expected", [
    ("jitsi: {profile: fast}\n", "kiosk.yaml:5:18: jitsi.profile: must be 'auto', 'low' or 'normal'"),
    ("jitsi: {frame_rate: 60}\n", "kiosk.yaml:5:21: jitsi.frame_rate: must be less than or equal to 30"),
    ("jitsi: {frame_rate: 2}\n", "kiosk.yaml:5:21: jitsi.frame_rate: must be greater than or equal to 5"),
])
def test_call_profile_problems(text, expected):
    assert problems(GOOD + text) == [expected]


def test_a_brand_can_set_every_palette_role_and_nothing_else():
    from kiosk.config import BrandColors
    from kiosk.core import style

    assert tuple(BrandColors.model_fields) == style.ROLES


def test_the_brands_support_contact_is_used_when_the_device_sets_none():
    bare = KioskConfig(server="https://k.example.org", room="palim-x", resident="Erna",
                       brand={"support_contact": "Bürgerbüro"})
    assert bare.contact == "Bürgerbüro"
    own = KioskConfig(server="https://k.example.org", room="palim-x", resident="Erna", support_contact="Stadt IT",
                      brand={"support_contact": "Bürgerbüro"})
    assert own.contact == "Stadt IT"


def test_the_logo_is_the_configured_file_else_the_brands_shipped_one_else_the_defaults():
    assert KioskConfig.model_fields["brand"].default.logo_path() == shipped_logo("palim")
    assert config_from_text(GOOD + "brand: {id: beispielstadt}\n").brand.logo_path() == shipped_logo("beispielstadt")
    assert config_from_text(GOOD + "brand: {id: achern}\n").brand.logo_path() == shipped_logo("palim")
    own = config_from_text(GOOD + "brand: {logo: /etc/palim-kiosk/brand/logo.svg}\n")
    assert str(own.brand.logo_path()) == "/etc/palim-kiosk/brand/logo.svg"


# --------------------------------------------------------------------------- issue 29


def test_a_relative_photo_is_read_against_the_config_files_folder_not_the_working_directory(tmp_path, monkeypatch):
    from kiosk.config import load_config

    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "kiosk.yaml").write_text(
        "server: https://jitsi.example.org\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\nresident: Erna Müller\n"
        "home_photo: photos/family.jpg\n"
        "family:\n  contacts:\n    - {name: Anna, email: a@example.org, photo: photos/anna.png}\n"
        "    - {name: Bernd, email: b@example.org, photo: /etc/palim-kiosk/photos/bernd.jpg}\n", encoding="utf-8")
    monkeypatch.chdir("/")
    config = load_config(folder / "kiosk.yaml")
    assert config.home_photo == str(folder / "photos" / "family.jpg")
    assert [c.photo for c in config.family.contacts] == [str(folder / "photos" / "anna.png"),
                                                         "/etc/palim-kiosk/photos/bernd.jpg"]


def test_a_photo_path_leaving_the_folder_is_refused_with_its_position(tmp_path):
    from kiosk.config import ConfigError, load_config

    path = tmp_path / "kiosk.yaml"
    path.write_text("server: https://jitsi.example.org\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\nresident: Erna\n"
                    "home_photo: ../family.jpg\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:4:" in str(caught.value) and "must not leave" in str(caught.value)


def test_new_settings_have_their_defaults():
    from kiosk.config import config_from_text

    config = config_from_text("server: https://jitsi.example.org\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\n"
                              "resident: Erna\n")
    assert config.audio.call_volume == 80 and config.family.wait_minutes == 10
    assert config.night.dark_hours == () and config.night.backlight_dir == "/sys/class/backlight"
