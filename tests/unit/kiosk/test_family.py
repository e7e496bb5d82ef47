"""The family side as plain logic: the notice, its ntfy headers, webhook JSON and e-mail, dedupe, quiet hours, presence."""

from datetime import datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default as default_policy

import pytest

from kiosk.config import PHONE_BROWSER, config_from_text
from kiosk.family import (
    email_message, in_language, notice, ntfy_headers, parse_presence,
    presence_url, should_notify, webhook_body,
)
from kiosk.health import in_any_window

CONFIG_TEXT = """\
server: https://konferenz.example.org
room: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y
resident: Erna Müller
device_id: ebh-01
home: Erich-Burger-Heim
"""
CONFIG = config_from_text(CONFIG_TEXT)
LINK = "https://konferenz.example.org/palim-7q2m4k9x3c8v5b1n6z0r4t7w2y#config.deeplinking.disabled=true"
AT = datetime(2026, 11, 27, 15, 5, 9, 123456)


def test_the_notice_names_the_resident_and_carries_the_room_link():
    item = notice(CONFIG, AT)
    assert item.title == "Erna Müller möchte Sie per Video sprechen"
    assert item.text.startswith("Erna Müller hat gerade angerufen") and item.text.endswith(LINK)
    assert item.language == "de"
    assert (item.link, item.resident, item.device, item.home, item.at) == (LINK, "Erna Müller", "ebh-01",
                                                                          "Erich-Burger-Heim", AT)


def test_ntfy_headers_are_latin_1_safe_with_the_title_rfc_2047_encoded():
    headers = ntfy_headers(notice(CONFIG, AT), token=None)
    for value in headers.values():
        value.encode("latin-1")  # what http.client sends; a "ü" or "„" would fail here
    assert str(make_header(decode_header(headers["Title"]))) == "Erna Müller möchte Sie per Video sprechen"
    assert (headers["Click"], headers["Priority"]) == (LINK, "high")
    assert headers["Content-Type"] == "text/plain; charset=utf-8" and "Authorization" not in headers


def test_a_token_becomes_a_bearer_header():
    assert ntfy_headers(notice(CONFIG, AT), token="s3cret")["Authorization"] == "Bearer s3cret"


def test_the_webhook_json_has_every_field_and_the_time_to_the_second():
    body = webhook_body(notice(CONFIG, AT))
    assert body == {"event": "resident_calling", "title": "Erna Müller möchte Sie per Video sprechen",
                    "text": notice(CONFIG, AT).text, "link": LINK, "resident": "Erna Müller", "device": "ebh-01",
                    "home": "Erich-Burger-Heim", "time": "2026-11-27T15:05:09", "language": "de"}


def test_the_email_is_plain_text_with_the_link_and_survives_the_wire():
    message = email_message(notice(CONFIG, AT), "kiosk@example.org", "anna@example.org")
    parsed = message_from_bytes(message.as_bytes(), policy=default_policy)
    assert (parsed["Subject"], parsed["From"], parsed["To"]) == (
        "Erna Müller möchte Sie per Video sprechen", "kiosk@example.org", "anna@example.org")
    assert parsed.get_content_type() == "text/plain"
    body = parsed.get_content()
    assert body.startswith("Guten Tag,\n\nErna Müller hat gerade") and LINK in body
    assert "Videotelefon von Erna Müller" in body


def test_the_family_link_opens_the_room_in_the_phones_browser():
    # Deep linking off: a stock Jitsi shows no "get the app" page on a phone (deeplinking.disabled is whitelisted).
    assert PHONE_BROWSER == "#config.deeplinking.disabled=true"
    assert CONFIG.family_link == CONFIG.room_url + PHONE_BROWSER == LINK


# What each language must say (a word of the title, of the text, and the button to tap for camera and microphone).
IN_LANGUAGE = {
    "de": ("möchte Sie per Video sprechen", "wartet im Videoraum", "„Zulassen“ oder „Erlauben“", "Guten Tag,"),
    "en": ("would like to talk to you on video", "waiting in the video room", "“Allow”", "Hello,"),
    "tr": ("sizinle görüntülü konuşmak istiyor", "video odasında bekliyor", "“İzin ver”", "Merhaba,"),
    "ru": ("хочет поговорить с вами по видеосвязи", "ждёт вас в видеокомнате", "«Разрешить»", "Здравствуйте!"),
    "pl": ("chce porozmawiać z Państwem przez wideo", "czeka w pokoju wideo", "„Zezwól”", "Dzień dobry,"),
}


@pytest.mark.parametrize("lang", list(IN_LANGUAGE))
def test_the_notice_is_written_in_the_language_asked_for(lang):
    title, text, allow, hello = IN_LANGUAGE[lang]
    item = notice(CONFIG, AT, language=lang)
    assert item.language == lang and item.title == f"Erna Müller {title}"
    assert text in item.text and item.text.endswith(LINK) and "Erna Müller" in item.text
    parsed = message_from_bytes(email_message(item, "kiosk@example.org", "anna@example.org").as_bytes(),
                                policy=default_policy)
    assert parsed["Subject"] == item.title and parsed["Content-Language"] == lang
    body = parsed.get_content()
    assert body.startswith(f"{hello}\n\n{item.text}\n\n") and allow in body and "Erna Müller" in body.splitlines()[-1]
    assert webhook_body(item)["language"] == lang
    assert str(make_header(decode_header(ntfy_headers(item, None)["Title"]))) == item.title


def test_the_kiosks_language_is_the_default_and_a_contacts_own_wins():
    turkish_kiosk = CONFIG.model_copy(update={"language": "tr"})
    item = notice(turkish_kiosk, AT)
    assert item.language == "tr" and "görüntülü" in item.title
    assert in_language(item, None) is item  # a contact without a language reads the kiosk's
    russian = in_language(item, "ru")
    assert (russian.language, russian.title) == ("ru", notice(CONFIG, AT, language="ru").title)
    assert (russian.link, russian.resident, russian.at) == (item.link, item.resident, item.at)


def test_a_contact_may_have_a_language_of_the_kiosk():
    from kiosk.config import ConfigError, Contact

    assert Contact(name="Anna", email="anna@example.org", language="pl").language == "pl"
    assert Contact(name="Anna", email="anna@example.org").language is None
    text = CONFIG_TEXT + "family: {contacts: [{name: Anna, email: anna@example.org, language: fr}]}\n"
    with pytest.raises(ConfigError) as caught:
        config_from_text(text)
    assert "language" in str(caught.value)


@pytest.mark.parametrize("last, minutes, expected", [
    (None, 5, True), (AT - timedelta(minutes=4, seconds=59), 5, False), (AT - timedelta(minutes=5), 5, True),
    (AT, 0, True), (AT - timedelta(hours=2), 120, True),
])
def test_a_second_tap_within_the_dedupe_window_sends_nothing_new(last, minutes, expected):
    assert should_notify(last, AT, minutes) is expected


@pytest.mark.parametrize("hour, minute, quiet", [
    (19, 59, False), (20, 0, True), (23, 59, True), (0, 0, True), (7, 59, True), (8, 0, False),
    (12, 30, True), (13, 0, False),
])
def test_quiet_hours_cross_midnight_and_several_windows_add_up(hour, minute, quiet):
    now = datetime(2026, 11, 27, hour, minute)
    assert in_any_window(now, ("20:00-08:00", "12:00-13:00")) is quiet


def test_no_quiet_hours_means_never_quiet():
    assert in_any_window(datetime(2026, 11, 27, 3, 0), ()) is False


def test_only_the_escaped_room_name_goes_into_the_presence_url():
    template = "https://konferenz.example.org/room-size?room={room}&domain=konferenz.example.org"
    assert presence_url(template, "palim-x_1") == \
        "https://konferenz.example.org/room-size?room=palim-x_1&domain=konferenz.example.org"
    assert presence_url("https://k.example.org/room/{room}", "a/b?c&d") == "https://k.example.org/room/a%2Fb%3Fc%26d"


@pytest.mark.parametrize("status, body, expected", [
    (200, {"participants": 2}, 2), (200, {"participants": 0}, 0), (200, ["anna", "bernd"], 2), (200, [], 0),
    (404, None, 0), (404, "anything", 0),
    (200, {"participants": -1}, None), (200, {"participants": "2"}, None), (200, {}, None), (200, "2", None),
    (200, None, None), (500, {"participants": 2}, None), (302, [], None), (200, {"participants": 2.0}, None),
])
def test_presence_answers_are_counted_or_unknown(status, body, expected):
    assert parse_presence(status, body) == expected


@pytest.mark.parametrize("status, fits, expected", [(403, True, 0), (403, False, None), (404, False, 0),
                                                    (401, True, None), (500, True, None)])
def test_403_is_an_empty_room_only_when_the_kiosk_s_token_fits(status, fits, expected):
    """mod_muc_size with token verification: 403 for a room that does not exist as for a refused token."""
    assert parse_presence(status, None, fits) == expected


# --------------------------------------------------------------------------- who waits (/room names)

from kiosk.config import Contact  # noqa: E402
from kiosk.family import MAX_NAME_CHARS, Visitor, presence_names, safe_name, who_waits  # noqa: E402


@pytest.mark.parametrize("typed, shown", [
    ("Anna", "Anna"),
    ("  Anna\t\nM. ", "Anna M."),
    ("A" * 500, "A" * (MAX_NAME_CHARS - 1) + "…"),
    ("\u202eevil\u202c", "evil"),
    ("\u2066a\u2069\u200e\u200f\u061c", "a"),
    ("<b>x</b>", "<b>x</b>"),  # shown as typed: the label is plain text
    ("👨\u200d👩\u200d👧 Oma ❤️ 👍🏽", "Oma"),  # emoji go: a kiosk font may lack them (empty boxes)
    ("👨\u200d👩\u200d👧", ""),
    ("می\u200cخواهم", "می\u200cخواهم"),  # a joiner between letters stays (Persian)
    ("Zoë Ğül Łucja Ωμέγα Иван", "Zoë Ğül Łucja Ωμέγα Иван"),
    ("", ""), ("   ", ""), (None, ""), (42, ""), ({"x": 1}, ""),
    ("\x00\x1b[31m\x7f\u0085\u2028x", "[31m x"),
    ("\ue000\U000f0000\ufeff\u00adok", "ok"),
])
def test_safe_name(typed, shown):
    assert safe_name(typed) == shown
    assert len(safe_name(typed)) <= MAX_NAME_CHARS


def test_presence_names_from_room_only():
    assert presence_names(200, [{"display_name": "Anna"}, {"jid": "x"}, "junk", {"display_name": 5}]) == (
        "Anna", "", "", "")
    assert presence_names(200, {"participants": 2}) is None  # /room-size has no names
    assert presence_names(404, None) is None
    assert presence_names(500, [{"display_name": "Anna"}]) is None


def test_who_waits_matches_names_and_aliases_and_keeps_strangers_as_typed():
    anna = Contact(name="Anna", email="a@example.org", aliases=["Anna M.", "Mama"], relation="Tochter",
                   photo="/etc/palim-kiosk/photos/contact-1.jpg")
    bernd = Contact(name="Bernd", email="b@example.org")
    waiting = who_waits(["Gast", "  MAMA", "bernd", "anna m.", ""], [anna, bernd])
    assert waiting.visitors == (Visitor("Anna", "Tochter", "/etc/palim-kiosk/photos/contact-1.jpg", True),
                                Visitor("Bernd", None, None, True), Visitor("Gast"))
    assert waiting.others == 1  # one without a name; Anna on two devices ("MAMA", "anna m.") is one person
    assert waiting.photos == (waiting.visitors[0],)
    assert who_waits(None, [anna]).visitors == () and who_waits([], [anna]).visitors == ()


def test_one_contact_matched_by_several_names_is_one_person_with_the_relation():
    anna = Contact(name="Anna", email="a@example.org", aliases=["Anna M."], relation="Tochter")
    waiting = who_waits(["Anna", "anna m."], [anna])
    assert waiting.visitors == (Visitor("Anna", "Tochter", None, True),) and waiting.others == 0
    assert who_waits(["Gast", "Gast"], [anna]).others == 1  # two strangers who typed the same name are two


def test_who_waits_shows_at_most_three_photos_and_counts_a_crowd():
    contacts = [Contact(name=f"P{i}", email=f"p{i}@example.org", photo=f"/p/{i}.jpg") for i in range(5)]
    waiting = who_waits([f"P{i}" for i in range(5)], contacts)
    assert len(waiting.photos) == 3
    crowd = who_waits([f"Gast {i}" for i in range(80)], [])
    assert len(crowd.visitors) == 50 and crowd.others == 30


@pytest.mark.parametrize("extra, message", [
    ({"relation": "Tante"}, "Input should be"),
    ({"photo": "anna.gif"}, "must be a JPEG or PNG"),
    ({"photo": "../../etc/shadow.png"}, "must not leave"),
    ({"photo": "a\nb.jpg"}, "plain text on one line"),
    ({"aliases": ["Mama\n"]}, "plain text on one line"),
    ({"aliases": ["x" * 81]}, "at most 80"),
])
def test_contact_names_relations_and_photos_are_checked(extra, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        Contact(name="Anna", email="a@example.org", **extra)


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_any_typed_name_comes_out_short_plain_and_without_controls_or_overrides(typed):
    shown = safe_name(typed)
    assert len(shown) <= MAX_NAME_CHARS
    assert shown == shown.strip() and "  " not in shown
    import unicodedata

    for character in shown:
        category = unicodedata.category(character)
        assert category not in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp", "So"), repr(character)
        assert category != "Cf" or character in "\u200c\u200d", repr(character)
    assert safe_name(shown) == shown  # already safe stays as it is
