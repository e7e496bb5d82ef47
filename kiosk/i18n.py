"""Languages through gettext: German is the source text, catalogs for en, tr, ru and pl.

Catalogs live in kiosk/locale/<lang>/LC_MESSAGES/palim.po (translators edit these) and .mo (compiled, shipped);
scripts/i18n extracts the strings from kiosk/texts.py, updates the .po files and compiles them (Babel).
"""

from __future__ import annotations

import gettext
import logging
from functools import lru_cache
from importlib import resources
from pathlib import Path

from kiosk.core.fields import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger(__name__)

DOMAIN = "palim"
SOURCE_LANGUAGE = DEFAULT_LANGUAGE
# The Qt locale each language's dates and times are written in (QLocale names).
QT_LOCALES = {"de": "de_DE", "en": "en_GB", "tr": "tr_TR", "ru": "ru_RU", "pl": "pl_PL"}


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Marks a string for extraction; it is translated where it is used (texts.use)."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 (gettext's naming)
    """Marks a text with plural forms for extraction (scripts/i18n: -k NP_:1,2); translated with ngettext."""
    return singular, plural


def locale_dir() -> Path:
    """Where the compiled catalogs are, in the source tree or the installed package."""
    return Path(str(resources.files("kiosk").joinpath("locale")))


@lru_cache(maxsize=None)
def catalog(language: str) -> gettext.NullTranslations:
    """The translations for a language; German (the source) and anything unknown get the source text."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, localedir=str(locale_dir()), languages=[language])
    except OSError:
        log.error("no %s catalog for language %r: showing German", DOMAIN, language)
        return gettext.NullTranslations()
