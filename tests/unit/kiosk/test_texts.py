"""The texts module: greetings by the hour, a trouble text for every Trouble, no ellipsis alone on a line, tr()."""

import pytest

from kiosk import i18n, texts
from kiosk.callflow import Trouble


@pytest.fixture(autouse=True)
def german_after():
    yield
    texts.use("de")


@pytest.mark.parametrize("hour, expected", [
    (0, "Guten Abend, Erna"), (4, "Guten Abend, Erna"), (5, "Guten Morgen, Erna"), (10, "Guten Morgen, Erna"),
    (11, "Guten Tag, Erna"), (17, "Guten Tag, Erna"), (18, "Guten Abend, Erna"), (23, "Guten Abend, Erna"),
])
def test_the_greeting_changes_at_5_11_and_18_oclock(hour, expected):
    assert texts.greeting(hour, "Erna") == expected


def test_a_name_is_put_into_the_greeting_as_it_is():
    assert texts.greeting(8, "{name} Ö'Brien") == "Guten Morgen, {name} Ö'Brien"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_trouble_has_a_headline_and_a_hint_in_every_language(lang):
    texts.use(lang)
    assert set(texts.TROUBLE) == set(Trouble)
    for trouble, pair in texts.TROUBLE.items():
        assert len(pair) == 2 and all(text.strip() for text in pair), trouble


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_an_ellipsis_is_never_at_the_start_of_a_line(lang):
    texts.use(lang)
    shown = [getattr(texts, name) for name in texts.SOURCE_NAMES]
    shown += [text for pair in texts.TROUBLE.values() for text in pair]
    shown += [texts.tr(source) for source in texts.SOURCES]
    with_ellipsis = [text for text in shown if "…" in text]
    assert with_ellipsis, "the check found nothing to check"
    for text in with_ellipsis:
        assert not text.startswith("…") and " …" not in text, repr(text)  # a no-break space binds it to its word
        assert "\u00a0…" in text, repr(text)


def test_the_typesetting_leaves_the_source_texts_for_the_catalogs_alone():
    assert "Verbinde mit Ihrer Familie …" in texts.SOURCES  # the msgid, with its ordinary space
    assert texts.CONNECTING == "Verbinde mit Ihrer Familie\u00a0…"


def test_tr_follows_the_language_in_use():
    assert texts.tr("Familie anrufen") == "Familie anrufen"
    texts.use("en")
    assert texts.tr("Familie anrufen") == i18n.catalog("en").gettext("Familie anrufen") != "Familie anrufen"
    assert texts.tr("a text no catalog has") == "a text no catalog has"
    texts.use("de")
    assert texts.tr("Familie anrufen") == "Familie anrufen"
