"""The gettext catalogs (kiosk/locale/<lang>/LC_MESSAGES/palim.mo): the one place that opens them, for the kiosk's
screens (kiosk/i18n.py, kiosk/texts.py) and for what provisioning prints for the family (the invitation cards).

German is the source text: it needs no catalog.
"""

from __future__ import annotations

import gettext
import logging
from functools import lru_cache
from importlib import resources
from pathlib import Path

from kiosk.core.fields import DEFAULT_LANGUAGE

log = logging.getLogger(__name__)

DOMAIN = "palim"
SOURCE_LANGUAGE = DEFAULT_LANGUAGE


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Marks a string for extraction; it is translated where it is used (texts.use)."""
    return message


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
