"""The family's invitation card's words (provisioning/cards.py), marked for the gettext catalogs like the kiosk's
texts: the card is printed in the language of the contacts it is for. In core because provisioning reads them."""

from __future__ import annotations

from kiosk.core.catalogs import N_, catalog

CARD_SUBTITLE = N_("Videoanruf für die Familie")
CARD_REACH = N_("So erreichen Sie")
CARD_BY_VIDEO = N_("per Video")
CARD_STEP_OPEN = N_("Link öffnen oder den QR-Code mit der Handykamera scannen. Er öffnet sich im Browser, eine App "
                    "ist nicht nötig.")
CARD_STEP_ALLOW = N_("Fragt der Browser nach Kamera und Mikrofon: auf „Zulassen“ oder „Erlauben“ tippen.")
# TRANSLATORS: {name} is the resident's full name
CARD_STEP_JOIN = N_("Namen eingeben und beitreten. Sobald {name} im Heim auf „Familie anrufen“ tippt, sehen Sie "
                    "sich.")
CARD_TIP = N_("Tipp: Verabreden Sie mit dem Heim eine Uhrzeit.")
CARD_HELP = N_("Hilfe: {support}")
CARD_KEEP = N_("Bitte geben Sie den Link nur an Familie und Freunde weiter.")
CARD_SOURCES = (CARD_SUBTITLE, CARD_REACH, CARD_BY_VIDEO, CARD_STEP_OPEN, CARD_STEP_ALLOW, CARD_STEP_JOIN, CARD_TIP,
                CARD_HELP, CARD_KEEP)


def say(language: str, source: str, **fields: str) -> str:
    """One of the card's texts in a language (de, en, tr, ru, pl), its fields filled in."""
    return catalog(language).gettext(source).format(**fields)
