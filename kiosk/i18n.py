"""Languages through gettext: German is the source text, catalogs for en, tr, ru and pl.

Catalogs live in kiosk/locale/<lang>/LC_MESSAGES/palim.po (translators edit these) and .mo (compiled, shipped);
scripts/i18n extracts the strings from kiosk/texts.py, updates the .po files and compiles them (Babel). Opening a
catalog is kiosk/core/catalogs.py's job (provisioning's cards read them too).
"""

from __future__ import annotations

from kiosk.core.catalogs import DOMAIN, SOURCE_LANGUAGE, N_, catalog, locale_dir  # noqa: F401 (this module's API)
from kiosk.core.fields import LANGUAGES  # noqa: F401

# The Qt locale each language's dates and times are written in (QLocale names).
QT_LOCALES = {"de": "de_DE", "en": "en_GB", "tr": "tr_TR", "ru": "ru_RU", "pl": "pl_PL"}


def NP_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 (gettext's naming)
    """Marks a text with plural forms for extraction (scripts/i18n: -k NP_:1,2); translated with ngettext."""
    return singular, plural
