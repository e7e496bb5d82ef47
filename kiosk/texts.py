"""Every sentence the resident and staff read: the German source text, marked with N_() for the gettext catalogs.

Read them as texts.NAME when showing them: texts.use(language) puts every one into that language (kiosk/i18n.py,
catalogs in kiosk/locale/; after changing a text here run ./scripts/i18n and translate the new entries).
"""

from __future__ import annotations

from kiosk.callflow import Trouble
from kiosk import i18n
from kiosk.core.cardwords import CARD_SOURCES
from kiosk.family import NOTICE_SOURCES
from kiosk.i18n import N_, NP_

CALL_BUTTON = N_("Familie anrufen")
HANGUP_BUTTON = N_("Auflegen")
CANCEL_BUTTON = N_("Abbrechen")
BACK_BUTTON = N_("Zurück")
CONNECTING = N_("Verbinde mit Ihrer Familie …")
CONNECTING_HINT = N_("Einen Moment bitte.")
ENDING = N_("Der Anruf ist beendet.")
ENDING_HINT = N_("Auf Wiedersehen!")
TROUBLE = {
    Trouble.CONNECT_FAILED: (N_("Die Verbindung klappt gerade nicht."), N_("Wir versuchen es gleich noch einmal.")),
    Trouble.CONNECTION_LOST: (N_("Die Verbindung ist kurz weg …"), N_("Wir verbinden Sie gleich wieder.")),
    Trouble.GAVE_UP: (N_("Die Verbindung klappt gerade nicht."), N_("Bitte versuchen Sie es später noch einmal.")),
    Trouble.OFFLINE: (N_("Das Gerät ist gerade nicht mit dem Internet verbunden."),
                      N_("Bitte sagen Sie dem Personal Bescheid.")),
    Trouble.RENDERER_CRASHED: (N_("Eine kurze Störung."), N_("Gleich geht es weiter.")),
    Trouble.ACCESS_DENIED: (N_("Der Zugang zum Server ist abgelaufen."), N_("Bitte sagen Sie dem Personal Bescheid.")),
    # The hint names who knows when the family was told (nobody_came_hint); this one when nobody was.
    Trouble.NOBODY_CAME: (N_("Gerade ist niemand erreichbar."), N_("Ihre Familie weiß Bescheid.")),
}
# Waiting in the empty room (the overlay over the resident's own picture), and who knows when nobody came.
# TRANSLATORS: {names} is one to three first names ("Anna", "Anna und Bernd"); {time} a time like 14:02
WAITING_TOLD = N_("Wir haben {names} um {time} Bescheid gesagt.")
WAITING_NOT_TOLD = N_("Ihre Familie ist noch nicht da.")
WAITING_HINT = N_("Bitte warten Sie einen Moment.")
# TRANSLATORS: {name} is one first name
NOBODY_KNOWS_ONE = N_("{name} weiß Bescheid.")
# TRANSLATORS: {names} is two or three first names joined ("Anna und Bernd")
NOBODY_KNOWS_MORE = N_("{names} wissen Bescheid.")
# TRANSLATORS: joins the last two of several names: "Anna, Bernd und Clara"
NAMES_AND = N_("{first} und {last}")
# The volume buttons in a call (their words are what a screen reader says; the buttons show − and +).
VOLUME_DOWN = N_("Leiser")
VOLUME_UP = N_("Lauter")
VOLUME_LEVEL = N_("Lautstärke {percent} %")
NIGHT = N_("Nachtruhe: Bildschirm aus. Tippen schaltet ihn ein.")  # what a screen reader says for the dark screen
HOME_OFFLINE = N_("Gerade keine Internetverbindung")
HOME_BATTERY = N_("Bitte das Ladekabel einstecken")
SETUP_NEEDED = N_("Dieses Gerät ist noch nicht eingerichtet.")
SETUP_CONTACT = N_("Bitte wenden Sie sich an: {contact}")
SETUP_NO_CONTACT = N_("Bitte sagen Sie dem Personal Bescheid.")

PIN_TITLE = N_("Personal: PIN eingeben")
PIN_WRONG = N_("Falsche PIN.")
PIN_LOCKED = N_("Zu viele Versuche. Gesperrt für {minutes} Min.")
PIN_OK = N_("OK")
PIN_DELETE = N_("⌫")
PIN_DELETE_NAME = N_("Löschen")  # what a screen reader says for ⌫
PIN_OK_NAME = N_("PIN bestätigen")

SERVICE_TITLE = N_("Service")
SERVICE_VERSION = N_("Version")
SERVICE_CONFIG = N_("Konfiguration")
SERVICE_SERVER = N_("Server")
SERVICE_ROOM = N_("Raum")
SERVICE_REACHABLE = N_("Server erreichbar")
SERVICE_CHECKING = N_("wird geprüft …")
SERVICE_YES = N_("ja")
SERVICE_NO = N_("nein: {reason}")
SERVICE_TOKEN = N_("Server-Zugang")
SERVICE_TOKEN_DAYS = N_("gültig bis {date} (Tage bis zum Ablauf: {days})")
SERVICE_TOKEN_EXPIRED = N_("abgelaufen")
SERVICE_TOKEN_UNREADABLE = N_("nicht lesbar")
SERVICE_INCIDENTS = N_("Letzte Vorfälle")
SERVICE_NO_INCIDENTS = N_("keine")
SERVICE_RELOAD = N_("Neu laden")
SERVICE_QUIT = N_("Kiosk beenden")

VIDEO_HIDDEN = N_("Video ausgeblendet")  # on the support screenshot, over the blanked video

# TRANSLATORS: a Qt date format (dddd weekday, d day, MMMM month name, yyyy year; text in 'quotes' stays as it is)
WEEKDAY_FORMAT = N_("dddd, d. MMMM yyyy")
# TRANSLATORS: a Qt time format (HH 24-hour, h 12-hour, mm minutes, ap am/pm; text in 'quotes' stays as it is)
TIME_FORMAT = N_("HH:mm 'Uhr'")

RINGING = N_("Ihre Familie ist da")
RINGING_HINT = N_("Zum Annehmen tippen")
# Who waits, when the presence URL names them (/room); names are shown as typed, contacts with their relation.
RINGING_ONE = N_("{name} ist da")
# TRANSLATORS: {relation} is one of the relations below, like "Ihre Tochter"; {name} the family member's name
RINGING_RELATION = N_("{relation} {name} ist da")
RINGING_TWO = N_("{first} und {second} sind da")
ANSWER_BUTTON = N_("Annehmen")
NOT_NOW_BUTTON = N_("Nicht jetzt")
HOME_PHOTO = N_("Foto Ihrer Familie")  # what a screen reader says for the home screen's photo
AUTO_ANSWER = N_("Verbinde in {seconds} Sekunden …")
PRACTICE_BUTTON = N_("Kamera-Test")
PRACTICE_TITLE = N_("Kamera-Test: So sieht Ihre Familie Sie")
PRACTICE_HINT = N_("Sprechen Sie: der Balken zeigt das Mikrofon. Der Ton-Knopf prüft den Lautsprecher.")
PRACTICE_TONE = N_("Ton abspielen")
PRACTICE_DONE = N_("Fertig")
PRACTICE_MICROPHONE = N_("Mikrofon")  # the level bar's name for a screen reader
PRACTICE_NO_DEVICE = N_("Keine Kamera oder kein Mikrofon gefunden ({error}).")

# TRANSLATORS: {count} is 2 or more people waiting besides {name} (the singular form is there for the grammar)
_RINGING_MORE = NP_("{name} und {count} weitere Person sind da", "{name} und {count} weitere sind da")
# A contact's relation (config `relation:`, kiosk.core.fields.RELATIONS) as the ringing screen says it.
_RELATIONS = {
    "Tochter": N_("Ihre Tochter"), "Sohn": N_("Ihr Sohn"), "Enkelin": N_("Ihre Enkelin"), "Enkel": N_("Ihr Enkel"),
    "Schwester": N_("Ihre Schwester"), "Bruder": N_("Ihr Bruder"), "Ehefrau": N_("Ihre Frau"),
    "Ehemann": N_("Ihr Mann"), "Nichte": N_("Ihre Nichte"), "Neffe": N_("Ihr Neffe"),
    "Schwiegertochter": N_("Ihre Schwiegertochter"), "Schwiegersohn": N_("Ihr Schwiegersohn"),
    "Freundin": N_("Ihre Freundin"), "Freund": N_("Ihr Freund"),
}

# --------------------------------------------------------------------------- languages (kiosk/i18n.py)

_GREETINGS = (N_("Guten Morgen, {name}"), N_("Guten Tag, {name}"), N_("Guten Abend, {name}"))

# Every constant above by name, with its German source; use() puts them into a language.
SOURCE_NAMES = tuple(name for name, value in list(globals().items())
                     if name.isupper() and name not in ("TROUBLE", "LANGUAGE") and isinstance(value, str))
_SOURCE_VALUES = {name: globals()[name] for name in SOURCE_NAMES}
_SOURCE_TROUBLE = dict(TROUBLE)
# Every msgid the catalogs must hold: the constants, the trouble texts, the greetings and the family's notice (its
# words live in kiosk/family.py: a contact reads them in its own language, not the screen's).
SOURCES = tuple(dict.fromkeys([*_SOURCE_VALUES.values(), *(t for pair in _SOURCE_TROUBLE.values() for t in pair),
                               *_GREETINGS, *NOTICE_SOURCES, *CARD_SOURCES, *_RELATIONS.values()]))
PLURAL_SOURCES = (_RINGING_MORE,)  # (singular, plural) msgids, translated with ngettext
LANGUAGE = i18n.SOURCE_LANGUAGE
_catalog = i18n.catalog(LANGUAGE)


def _typeset(text: str) -> str:
    # "…" never starts a line of its own when a long sentence wraps at a large font.
    return text.replace(" …", "\u00a0…")


def use(language: str) -> None:
    """Put every text into a language (de, en, tr, ru, pl); the window calls it before it builds its screens."""
    global LANGUAGE, TROUBLE, _catalog
    _catalog = i18n.catalog(language)
    LANGUAGE = language
    values = globals()
    for name, source in _SOURCE_VALUES.items():
        values[name] = _typeset(_catalog.gettext(source))
    TROUBLE = {trouble: tuple(_typeset(_catalog.gettext(t)) for t in pair)
               for trouble, pair in _SOURCE_TROUBLE.items()}


def tr(source: str) -> str:
    """One German source text in the current language."""
    return _typeset(_catalog.gettext(source))


def relation(key: str | None) -> str | None:
    """A contact's relation ("Tochter") as the screen says it ("Ihre Tochter"); None for none or an unknown key."""
    source = _RELATIONS.get(key) if key else None
    return tr(source) if source else None


def ringing_headline(waiting) -> str:
    """What the ringing screen says about who waits (a family.Waiting): "Ihre Tochter Anna ist da", "Anna und Bernd
    sind da", "Anna und 2 weitere sind da"; without names "Ihre Familie ist da". Names go in as plain text."""
    visitors = tuple(waiting.visitors) if waiting is not None else ()
    if not visitors:
        return RINGING
    first, more = visitors[0], len(visitors) - 1 + waiting.others
    if more == 0:
        said = relation(first.relation)
        return (_catalog.gettext(RINGING_RELATION).format(relation=said, name=first.name) if said
                else _catalog.gettext(RINGING_ONE).format(name=first.name))
    if more == 1 and len(visitors) == 2:
        return _catalog.gettext(RINGING_TWO).format(first=first.name, second=visitors[1].name)
    return _catalog.ngettext(*_RINGING_MORE, more).format(name=first.name, count=more)


def _names(names) -> str:
    names = list(names)
    if len(names) == 1:
        return names[0]
    return _catalog.gettext(NAMES_AND).format(first=", ".join(names[:-1]), last=names[-1])


def waiting_for_family(told) -> tuple[str, str]:
    """The overlay's two sentences for a family.Told (None: nobody was told, e.g. the resident answered a ring):
    "Wir haben Anna um 14:02 Bescheid gesagt." and "Bitte warten Sie einen Moment." Names go in as plain text."""
    if told is None or not told.names:
        return WAITING_NOT_TOLD, WAITING_HINT
    from PyQt6.QtCore import QTime

    when = qt_locale().toString(QTime(told.at.hour, told.at.minute), "HH:mm")
    return _catalog.gettext(WAITING_TOLD).format(names=_names(told.names), time=when), WAITING_HINT


def nobody_came_hint(told) -> str:
    """Who knows, when nobody came: "Anna weiß Bescheid." (None or nobody told: "Ihre Familie weiß Bescheid.")."""
    if told is None or not told.names:
        return TROUBLE[Trouble.NOBODY_CAME][1]
    if len(told.names) == 1:
        return _catalog.gettext(NOBODY_KNOWS_ONE).format(name=told.names[0])
    return _catalog.gettext(NOBODY_KNOWS_MORE).format(names=_names(told.names))


def greeting(hour: int, name: str) -> str:
    """A greeting that fits the time of day, which also helps orientation."""
    morning, day, evening = _GREETINGS
    text = morning if 5 <= hour < 11 else day if 11 <= hour < 18 else evening
    return _catalog.gettext(text).format(name=name)


def qt_locale():
    """The QLocale dates and times are written in for the current language."""
    from PyQt6.QtCore import QLocale

    return QLocale(i18n.QT_LOCALES[LANGUAGE])


def format_date(date) -> str:
    """A QDate the way the home screen shows it, first letter capital (Russian and Polish start lower-case)."""
    text = qt_locale().toString(date, WEEKDAY_FORMAT)
    return text[:1].upper() + text[1:]


def format_time(time) -> str:
    """A QTime the way the home screen shows it."""
    return qt_locale().toString(time, TIME_FORMAT)


use(LANGUAGE)  # typeset the German texts too
