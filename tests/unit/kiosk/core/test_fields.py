"""The shared field rules: every pattern matches whole values only, URLs, loopback, pins, room entropy, Strict."""

import math

import pytest
from pydantic import ValidationError

from kiosk.core import fields
from kiosk.core.fields import (
    ROOM, Strict, check_server_url, check_url_with_path, clock_time, email_address, hex_colour, hostname,
    is_loopback_host, normalise_pin, one_line_text, room_entropy_bits, time_window,
)


def _room(value: str) -> str:
    if not ROOM.fullmatch(value):
        raise ValueError("not a room")
    return value


CHECKS = {"hostname": hostname, "clock_time": clock_time, "hex_colour": hex_colour,
          "email_address": email_address, "room": _room, "one_line_text": one_line_text}
GOOD = {"hostname": "ebh-01", "clock_time": "03:30", "hex_colour": "#17592f", "email_address": "anna@example.org",
        "room": "palim-7q2m4k9x3c8v5b1n6z0r4t7w2y", "one_line_text": "Erna Müller"}


@pytest.mark.parametrize("name", CHECKS)
def test_each_check_accepts_a_good_value_and_refuses_it_with_a_trailing_newline(name):
    check, good = CHECKS[name], GOOD[name]
    assert check(good) == good
    with pytest.raises(ValueError):
        check(good + "\n")


def test_a_time_window_is_normalised_and_refuses_line_breaks():
    assert time_window("03:00-04:00") == "03:00-04:00"
    assert time_window(" 22:00 - 06:00 ") == "22:00-06:00"  # may pass midnight; spaces around the dash are fine
    for bad in ("03:00-04:00\n", "03:00-04:00\u2028", "03:00-04:00\x00", "03:00-04:00\nx", "03:00", "03:00-03:00", "3:00-4:00", "03:00-24:00", "03:00–04:00", ""):
        with pytest.raises(ValueError, match="must be a time window like"):
            time_window(bad)


@pytest.mark.parametrize("name, bad", [
    ("hostname", "EBH-01"), ("hostname", "-ebh"), ("hostname", "ebh-"), ("hostname", "a" * 64),
    ("hostname", "ebh.example.org"), ("hostname", ""),
    ("clock_time", "24:00"), ("clock_time", "3:30"), ("clock_time", "03:60"), ("clock_time", " 03:30"),
    ("hex_colour", "17592f"), ("hex_colour", "#fff"), ("hex_colour", "#17592g"), ("hex_colour", "#17592f0"),
    ("email_address", "Anna <anna@example.org>"), ("email_address", "anna@example.org, bob@example.org"),
    ("email_address", "anna@example"), ("email_address", "anna@@example.org"), ("email_address", "an na@example.org"),
    ("email_address", "anna@example.org\r\nBcc: x@example.org"),
    ("room", "-palim"), ("room", "palim x"), ("room", "a" * 129), ("room", "palim/x"), ("room", ""),
    ("one_line_text", "a\nb"), ("one_line_text", "a\rb"), ("one_line_text", "a\tb"), ("one_line_text", "a\x7fb"),
    ("one_line_text", "a\u2028b"), ("one_line_text", "a\u2029b"), ("one_line_text", "   "),
])
def test_each_check_refuses_what_its_pattern_does_not_cover(name, bad):
    with pytest.raises(ValueError):
        CHECKS[name](bad)


def test_checks_return_their_normal_form():
    assert hex_colour("#17592F") == "#17592f"
    assert one_line_text("  Erna Müller ") == "Erna Müller"
    assert hostname("a" * 63) == "a" * 63 and _room("a" * 128) == "a" * 128
    assert clock_time("23:59") == "23:59" and clock_time("00:00") == "00:00"


@pytest.mark.parametrize("character", ["\x85", "\x7f", "\x9b", "\u2028", "\u2029"])
def test_one_line_text_refuses_c1_controls_and_unicode_line_breaks(character):
    with pytest.raises(ValueError):
        one_line_text(f"Erna{character}Müller")


def test_the_patterns_are_whole_value_patterns():
    # A search() would find "03:30" inside these; every rule uses fullmatch and so must refuse them.
    for pattern, inside in ((fields.HHMM, "x03:30"), (fields.HEX_COLOUR, "#17592f;"), (fields.HOSTNAME, "ebh 01"),
                            (fields.SHA256_HEX, "a" * 65), (fields.BRAND_ID, "Beispielstadt")):
        assert pattern.search(inside) and not pattern.fullmatch(inside), pattern.pattern


@pytest.mark.parametrize("value, expected", [
    ("https://konferenz.example.org", "https://konferenz.example.org"),
    ("https://konferenz.example.org/", "https://konferenz.example.org"),
    ("https://konferenz.example.org:8443", "https://konferenz.example.org:8443"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://localhost", "http://localhost"),
    ("http://[::1]:8443/", "http://[::1]:8443"),
])
def test_a_server_url_is_normalised_to_scheme_and_host(value, expected):
    assert check_server_url(value) == expected


@pytest.mark.parametrize("value, message", [
    ("konferenz.example.org", "must be a URL like"),
    ("ftp://konferenz.example.org", "must be a URL like"),
    ("https://", "must be a URL like"),
    ("http://konferenz.example.org", "must use https"),
    ("http://10.0.0.1", "must use https"),
    ("https://konferenz.example.org/room", "without a path, query or login"),
    ("https://konferenz.example.org/?x=1", "without a path, query or login"),
    ("https://konferenz.example.org/#x", "without a path, query or login"),
    ("https://admin@konferenz.example.org", "without a path, query or login"),
    ("https://konferenz.example.org:99999", "has an invalid port"),
    ("https://konferenz.example.org:abc", "has an invalid port"),
])
def test_a_server_url_is_refused_with_the_reason(value, message):
    with pytest.raises(ValueError, match=message):
        check_server_url(value)


def test_a_url_with_path_keeps_path_and_query_and_refuses_logins_and_plain_http():
    url = "https://ntfy.example.org/palim-erna?x=1"
    assert check_url_with_path(url) == url
    assert check_url_with_path("http://127.0.0.1:9000/room-size?room={room}") == "http://127.0.0.1:9000/room-size?room={room}"
    with pytest.raises(ValueError, match="must use https"):
        check_url_with_path("http://ntfy.example.org/topic")
    with pytest.raises(ValueError, match="must not carry a login"):
        check_url_with_path("https://user:secret@ntfy.example.org/topic")
    with pytest.raises(ValueError, match="must be a URL like"):
        check_url_with_path("ntfy.example.org/topic")


@pytest.mark.parametrize("url", ["https://ntfy.example.org/topic\n", "https://ntfy.example.org/to\tpic",
                                 "https://ntfy.example.org/a b", "https://ntfy.example.org/\x85"])
def test_a_url_with_path_refuses_whitespace_and_control_characters(url):
    with pytest.raises(ValueError, match="without spaces, line breaks or control characters"):
        check_url_with_path(url)


@pytest.mark.parametrize("host, loopback", [
    ("localhost", True), ("127.0.0.1", True), ("127.5.5.5", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("10.0.0.1", False), ("::", False), ("example.org", False),
    ("localhost.example.org", False), ("127.0.0.1.example.org", False), ("", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize("value", [
    "ab" * 32, "AB" * 32, ":".join(["AB"] * 32), "sha256:" + "ab" * 32, "SHA256/" + "ab" * 32,
])
def test_pins_are_normalised_to_64_lower_case_hex_digits(value):
    assert normalise_pin(value) == "ab" * 32


@pytest.mark.parametrize("value", ["abc", "zz" * 32, "sha256:" + "a" * 63, "a" * 65, "sha1:" + "ab" * 32, "",
                                   "ab" * 32 + "\n", "  " + "ab" * 32, "ab" * 32 + "\u2028"])
def test_bad_pins(value):
    with pytest.raises(ValueError, match="must be a SHA-256 fingerprint"):
        normalise_pin(value)


@pytest.mark.parametrize("room, ok", [
    ("palim-7q2m4k9x3c8v5b1n6z0r4t7w2y", True),
    ("oma-erna", False),
    ("grandmother-erna-mueller-room-twelve-in-buehl", False),
    ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", False),
    ("Xk3_9fQ2-LmN8pRt4vWz7yB1cD", True),
])
def test_room_entropy(room, ok):
    assert (room_entropy_bits(room) >= fields.MIN_ROOM_BITS) is ok


def test_room_entropy_counts_words_as_dictionary_picks_and_characters_by_their_alphabet():
    assert room_entropy_bits("palim-oma-erna") == 32.0  # two words, the palim- prefix is not counted
    assert room_entropy_bits("oma_erna_mueller") == 48.0
    assert room_entropy_bits("abc1") == pytest.approx(4 * math.log2(36))
    assert room_entropy_bits("aB3-") == pytest.approx(4 * math.log2(64))
    assert room_entropy_bits("aaaaa1111") == 0.0  # fewer distinct characters than a quarter of the length
    assert room_entropy_bits("aaaa1111") == 0.0  # exactly a quarter: still a repeat
    assert room_entropy_bits("palim-") == 0.0


class _Example(Strict):
    name: str
    enabled: bool = False
    count: int = 0


def test_strict_refuses_unknown_keys():
    with pytest.raises(ValidationError) as info:
        _Example(name="x", nmae="y")
    assert [e["type"] for e in info.value.errors()] == ["extra_forbidden"]


@pytest.mark.parametrize("field, value", [("enabled", "yes"), ("enabled", 1), ("count", "0123"), ("count", 1.0),
                                          ("name", 12)])
def test_strict_does_not_coerce(field, value):
    with pytest.raises(ValidationError):
        _Example(**{"name": "x", field: value})


def test_strict_models_are_frozen():
    example = _Example(name="x", enabled=True, count=3)
    with pytest.raises(ValidationError):
        example.count = 4
    assert (example.name, example.enabled, example.count) == ("x", True, 3)


@pytest.mark.parametrize("tail", ["\n", "\t", " ", "\u2028", "\x00", "\x85"])
def test_a_server_url_with_anything_after_it_is_refused(tail):
    with pytest.raises(ValueError, match="without spaces, line breaks or control characters"):
        check_server_url("https://konferenz.example.org" + tail)
