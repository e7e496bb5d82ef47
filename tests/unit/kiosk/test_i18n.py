"""Languages: every string the resident and staff read is in every catalog, compiled, with its placeholders."""

import gettext
import string
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kiosk import i18n, texts

ROOT = Path(__file__).resolve().parents[3]
LOCALE = ROOT / "kiosk" / "locale"
OTHERS = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE]
# The same word in both languages is fine only for these (a digit, a symbol, a loan word).
SAME_ALLOWED = {"OK", "⌫", "Server", "Version", "Service", "Mikrofon", "HH:mm"}


def _po(lang):
    with open(LOCALE / lang / "LC_MESSAGES" / "palim.po", "rb") as f:
        return read_po(f, locale=lang)


def _fields(text):
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


@pytest.fixture(autouse=True)
def german_after():
    yield
    texts.use("de")


def test_the_languages_match_the_config_model():
    from kiosk.config import KioskConfig

    assert set(KioskConfig.model_fields["language"].annotation.__args__) == set(i18n.LANGUAGES) == set(i18n.QT_LOCALES)


@pytest.mark.parametrize("lang", OTHERS)
def test_every_source_string_is_translated_in_the_catalog(lang):
    catalog = _po(lang)
    sources = set(texts.SOURCES) | set(texts.PLURAL_SOURCES)
    ids = {m.id for m in catalog if m.id}
    assert sources - ids == set(), f"{lang}: missing from the catalog (run ./scripts/i18n)"
    assert ids - sources == set(), f"{lang}: in the catalog but no longer in texts.py (run ./scripts/i18n)"
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # plural forms: each one translated, each with the plural's placeholders
            assert len(message.string) == catalog.num_plurals, f"{lang}: {message.id!r} needs every plural form"
            for form in message.string:
                assert form, f"{lang}: {message.id!r} has an untranslated plural form"
                assert _fields(form) == _fields(message.id[1]), f"{lang}: {message.id!r} placeholders differ"
            assert not message.fuzzy, f"{lang}: {message.id!r} is marked fuzzy: check it and remove the flag"
            continue
        assert message.string, f"{lang}: {message.id!r} is not translated"
        assert not message.fuzzy, f"{lang}: {message.id!r} is marked fuzzy: check it and remove the flag"
        assert _fields(message.string) == _fields(message.id), f"{lang}: {message.id!r} placeholders differ"
        if message.string == message.id:
            assert message.id in SAME_ALLOWED, f"{lang}: {message.id!r} is still German"


@pytest.mark.parametrize("lang", OTHERS)
def test_the_compiled_catalog_is_up_to_date(lang, tmp_path):
    fresh = tmp_path / "fresh.mo"
    with open(fresh, "wb") as f:
        write_mo(f, _po(lang))
    with open(LOCALE / lang / "LC_MESSAGES" / "palim.mo", "rb") as shipped, open(fresh, "rb") as made:
        assert gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(made)._catalog, \
            f"{lang}: palim.mo is older than palim.po (run ./scripts/i18n compile)"


@pytest.mark.parametrize("lang", OTHERS)
def test_use_puts_every_constant_into_the_language_and_back(lang):
    german = {name: getattr(texts, name) for name in texts.SOURCE_NAMES}
    texts.use(lang)
    assert texts.LANGUAGE == lang
    changed = [name for name in texts.SOURCE_NAMES if getattr(texts, name) != german[name]]
    unchanged = {german[n] for n in texts.SOURCE_NAMES if n not in changed}
    assert unchanged <= SAME_ALLOWED | {"OK"}, unchanged
    for trouble, (headline, hint) in texts.TROUBLE.items():
        assert headline not in texts.SOURCES and hint not in texts.SOURCES, trouble
    texts.use("de")
    assert {name: getattr(texts, name) for name in texts.SOURCE_NAMES} == german


@pytest.mark.parametrize("lang, morning, evening", [
    ("de", "Guten Morgen, Erna", "Guten Abend, Erna"),
    ("en", "Good morning, Erna", "Good evening, Erna"),
    ("tr", "Günaydın, Erna", "İyi akşamlar, Erna"),
    ("ru", "Доброе утро, Erna", "Добрый вечер, Erna"),
    ("pl", "Dzień dobry, Erna", "Dobry wieczór, Erna"),
])
def test_greeting_by_time_of_day(lang, morning, evening):
    texts.use(lang)
    assert texts.greeting(8, "Erna") == morning and texts.greeting(21, "Erna") == evening
    assert texts.greeting(14, "Erna") not in (morning, evening) or lang == "pl"  # Polish: "Dzień dobry" all day


@pytest.mark.parametrize("lang, date, time", [
    ("de", "Freitag, 27. November 2026", "15:05 Uhr"),
    ("en", "Friday, 27 November 2026", "3:05 pm"),
    ("tr", "27 Kasım 2026, Cuma", "15:05"),
    ("ru", "Пятница, 27 ноября 2026 г.", "15:05"),
    ("pl", "Piątek, 27 listopada 2026", "15:05"),
])
def test_dates_and_times_in_each_language(lang, date, time):
    from PyQt6.QtCore import QDate, QTime

    texts.use(lang)
    assert texts.format_date(QDate(2026, 11, 27)) == date
    assert texts.format_time(QTime(15, 5)) == time


def test_an_unknown_catalog_falls_back_to_german():
    assert i18n.catalog("xx").gettext("Familie anrufen") == "Familie anrufen"


@pytest.mark.parametrize(("lang", "expected"), [
    ("de", ["Ihre Tochter Anna ist da", "Anna ist da", "Anna und Bernd sind da", "Anna und 2 weitere sind da",
            "Anna und 1 weitere Person sind da", "Ihre Familie ist da"]),
    ("en", ["Your daughter Anna is here", "Anna is here", "Anna and Bernd are here", "Anna and 2 others are here",
            "Anna and 1 other person are here", "Your family is here"]),
    ("tr", ["Kızınız Anna sizi bekliyor", "Anna sizi bekliyor", "Anna ve Bernd sizi bekliyor",
            "Anna ve 2 kişi daha sizi bekliyor", "Anna ve 1 kişi daha sizi bekliyor", "Aileniz sizi bekliyor"]),
    ("ru", ["Ваша дочь Anna ждёт вас", "Anna ждёт вас", "Anna и Bernd ждут вас", "Anna и ещё 2 человека ждут вас",
            "Anna и ещё 1 человек ждут вас", "Ваша семья ждёт вас"]),
    ("pl", ["Córka Anna czeka na rozmowę", "Anna czeka na rozmowę", "Anna i Bernd czekają na rozmowę",
            "Anna i 2 inne osoby czekają na rozmowę", "Anna i 1 inna osoba czekają na rozmowę",
            "Rodzina czeka na rozmowę"]),
])
def test_who_waits_in_every_language_with_plural_forms(lang, expected):
    from kiosk.family import Visitor, Waiting

    texts.use(lang)
    anna, bernd = Visitor("Anna", "Tochter", known=True), Visitor("Bernd")
    said = [texts.ringing_headline(w) for w in (
        Waiting((anna,)), Waiting((Visitor("Anna"),)), Waiting((Visitor("Anna"), bernd)),
        Waiting((Visitor("Anna"), bernd), 1), Waiting((Visitor("Anna"),), 1), Waiting())]
    assert said == expected


@pytest.mark.parametrize("count", [5, 11, 21, 22, 25])
def test_many_waiting_take_the_languages_plural_forms(count):
    from kiosk.family import Visitor, Waiting

    texts.use("ru")
    said = texts.ringing_headline(Waiting((Visitor("Anna"),), count))
    assert said == f"Anna и ещё {count} " + ("человек" if count in (5, 11, 21, 25) else "человека") + " ждут вас"
    texts.use("pl")
    said = texts.ringing_headline(Waiting((Visitor("Anna"),), count))
    word = {5: "innych osób", 11: "innych osób", 21: "innych osób", 22: "inne osoby", 25: "innych osób"}[count]
    assert said == f"Anna i {count} {word} czekają na rozmowę"
