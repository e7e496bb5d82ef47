"""The family side, as plain logic: what a notification says, when to send it, quiet hours, presence answers."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.header import Header
from email.mime.text import MIMEText
from urllib.parse import quote

from kiosk import i18n
from kiosk.config import Contact, KioskConfig
from kiosk.i18n import N_

# The notice's words. A contact reads them in its own language (Contact.language, else the kiosk's), whatever the
# screen shows; marked for the gettext catalogs like kiosk/texts.py (scripts/i18n extracts this file too, and
# texts.SOURCES lists them, so the catalog tests cover them).
NOTICE_TITLE = N_("{name} möchte Sie per Video sprechen")
NOTICE_TEXT = N_("{name} hat gerade angerufen und wartet im Videoraum. Zum Mitmachen öffnen Sie bitte: {link}")
NOTICE_GREETING = N_("Guten Tag,")
NOTICE_BROWSER = N_("Es ist kein Programm nötig: Der Link öffnet sich im Browser des Telefons. Fragt der Browser "
                    "nach Kamera und Mikrofon, tippen Sie auf „Zulassen“ oder „Erlauben“.")
NOTICE_SENT_BY = N_("Diese Nachricht hat das Videotelefon von {name} geschickt.")
NOTICE_SOURCES = (NOTICE_TITLE, NOTICE_TEXT, NOTICE_GREETING, NOTICE_BROWSER, NOTICE_SENT_BY)



def _say(language: str, source: str, **fields: str) -> str:
    return i18n.catalog(language).gettext(source).format(**fields)


@dataclass(frozen=True)
class Notice:
    """What every channel says when the resident taps "Familie anrufen", in one language."""

    title: str
    text: str
    link: str
    resident: str
    device: str | None
    home: str | None
    at: datetime
    language: str = i18n.SOURCE_LANGUAGE


def notice(config: KioskConfig, at: datetime, language: str | None = None) -> Notice:
    """The notice for one tap: who calls, and the link a family member opens on a phone (default: the kiosk's
    language)."""
    item = Notice(title="", text="", link=config.family_link, resident=config.resident, device=config.device_id,
                  home=config.home, at=at, language=config.language)
    return in_language(item, language or config.language, force=True)


def in_language(item: Notice, language: str | None, force: bool = False) -> Notice:
    """The same notice in another language (None: as it is); a contact's own language wins over the kiosk's."""
    if language is None or (language == item.language and not force):
        return item
    return replace(item, language=language, title=_say(language, NOTICE_TITLE, name=item.resident),
                   text=_say(language, NOTICE_TEXT, name=item.resident, link=item.link))


def ntfy_headers(item: Notice, token: str | None) -> dict[str, str]:
    """Headers of an ntfy publish request (HTTP headers are Latin-1: ntfy accepts RFC 2047 for the rest)."""
    headers = {"Title": _header_text(item.title), "Click": item.link, "Priority": "high",
               "Tags": "telephone_receiver", "Content-Type": "text/plain; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _header_text(text: str) -> str:
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        return Header(text, "utf-8").encode(maxlinelen=10_000)


def webhook_body(item: Notice) -> dict:
    """The JSON a generic webhook receives."""
    return {"event": "resident_calling", "title": item.title, "text": item.text, "link": item.link,
            "resident": item.resident, "device": item.device, "home": item.home,
            "time": item.at.isoformat(timespec="seconds"), "language": item.language}


def email_message(item: Notice, sender: str, recipient: str) -> MIMEText:
    """A plain-text e-mail with the link, in the notice's language."""
    say = lambda source: _say(item.language, source, name=item.resident)  # noqa: E731
    message = MIMEText(f"{say(NOTICE_GREETING)}\n\n{item.text}\n\n{say(NOTICE_BROWSER)}\n\n{say(NOTICE_SENT_BY)}\n",
                       "plain", "utf-8")
    # Header() keeps each space inside an encoded word. Python 3.11's EmailMessage folds a long non-ASCII subject
    # between two encoded words at a space, which every reader then drops (RFC 2047 ignores the white space between
    # encoded words): "поговорить с вами" arrived as "поговоритьс вами".
    message["Subject"] = Header(item.title, "utf-8")
    message["From"] = sender
    message["To"] = recipient
    message["Content-Language"] = item.language
    return message


MAX_TOLD_NAMES = 3  # the waiting overlay names at most this many; more, and it says "Ihre Familie"


@dataclass(frozen=True)
class Told:
    """Whom the kiosk told that the resident is calling, and when: the waiting overlay says so."""

    names: tuple[str, ...]  # first names as plain text; empty: the family as a whole (too many to name)
    at: datetime


def told(contacts: Sequence[Contact], at: datetime) -> Told:
    """Who was told: the contacts' first names (plain text), or none to name when there are more than three."""
    names = tuple(dict.fromkeys(safe_name(c.name.split()[0]) for c in contacts if c.name.split()))
    return Told(names if len(names) <= MAX_TOLD_NAMES else (), at)


def should_notify(last: datetime | None, now: datetime, dedupe_minutes: int) -> bool:
    """A second tap within the dedupe window sends nothing new."""
    return last is None or (now - last).total_seconds() >= dedupe_minutes * 60


# --------------------------------------------------------------------------- quiet hours and presence


def presence_url(template: str, room: str, token: str | None = None) -> str:
    """The presence URL for this room; only the room name goes to the server, and the login token as token= when
    the kiosk has one (mod_muc_size checks it when the city turns enable_roomsize_token_verification on).

    The room name goes lower-cased: jitsi-meet joins the lower-cased room, and mod_muc_size looks the name up as
    given, so "Palim-X" would never find the room the family is in."""
    url = template.replace("{room}", quote(room.lower(), safe=""))
    if token:
        url += ("&" if "?" in url else "?") + "token=" + quote(token, safe="")
    return url


def parse_presence(status: int, body: object, forbidden_means_empty: bool = False) -> int | None:
    """Others in the room from a mod_muc_size answer; 404 means empty; anything odd means unknown (None).

    403 and `forbidden_means_empty`: with enable_roomsize_token_verification, mod_muc_size answers a bare 403 both
    for a token it refuses and for a room that does not exist (token/util.lib.lua's verify_room refuses rooms
    that do not exist, jitsi-meet PR 16473), and the answer carries nothing to tell them apart. The caller passes
    True when its own token fits the room as far as it can see without the secret (servertoken.token_fits_room:
    not expired, this room): then 403 is the empty room, the common case, and polling goes on at the normal pace.
    A token the kiosk knows to be wrong (expired, another room, none) keeps 403 unknown. A token signed with
    another secret or for another domain looks like an empty room here; the next call's join tells (ACCESS_DENIED).
    """
    if status == 404 or (status == 403 and forbidden_means_empty):
        return 0
    if status != 200:
        return None
    count = body.get("participants") if isinstance(body, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:  # JSON true is no count
        return count  # /room-size
    if isinstance(body, list):
        return len(body)  # /room lists the occupants without the focus
    return None


# --------------------------------------------------------------------------- who waits (names from /room)

MAX_NAME_CHARS = 40  # a display name is shown with at most this many characters ("…" included)
MAX_OCCUPANTS = 50  # more than this in a family room is no family: the rest are counted, not read
_RAW_NAME_LIMIT = 400  # a 1 MB display name is cut before it is even looked at
_JOINERS = frozenset("\u200c\u200d")  # zero-width (non-)joiner: Persian and Indic scripts
_EMOJI_PARTS = frozenset("\ufe0e\ufe0f\u20e3")  # variation selectors and the keycap of emoji sequences


def _letter(character: str) -> bool:
    return unicodedata.category(character)[0] in "LM"


def safe_name(value: object) -> str:
    """A display name a stranger typed, made fit to show: plain text on one line, no control characters, no bidi
    overrides or isolates, no private-use or unassigned code points, no emoji, spaces collapsed, at most 40 characters
    (the 40th an ellipsis when it was longer); "" when nothing is left. It is only ever shown, never logged."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFC", value[:_RAW_NAME_LIMIT])
    kept = []
    for character in text:
        category = unicodedata.category(character)
        if character.isspace() or category in ("Zs", "Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or (category == "Cf" and character not in _JOINERS):
            continue  # controls, bidi overrides and isolates (U+202A-E, U+2066-9, U+200E/F), soft hyphens, BOMs
        elif category == "So" or character in _EMOJI_PARTS or "\U0001f3fb" <= character <= "\U0001f3ff":
            continue  # emoji and symbols: a kiosk font may lack them (empty boxes), and a name needs none
        else:
            kept.append(character)
    # A joiner stays only between two letters (Persian, Indic scripts), not where an emoji was taken out.
    kept = [c for i, c in enumerate(kept) if c not in _JOINERS
            or (0 < i < len(kept) - 1 and _letter(kept[i - 1]) and _letter(kept[i + 1]))]
    text = " ".join("".join(kept).split())
    if len(text) > MAX_NAME_CHARS:
        text = text[:MAX_NAME_CHARS - 1].rstrip() + "…"
    return text


def presence_names(status: int, body: object) -> tuple[str, ...] | None:
    """The display names of a mod_muc_size /room answer, made safe ("" for one who typed none); None when the
    answer has no names (/room-size, 404, errors)."""
    if status != 200 or not isinstance(body, list):
        return None
    return tuple(safe_name(item.get("display_name")) if isinstance(item, dict) else "" for item in body)


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


@dataclass(frozen=True)
class Visitor:
    """Someone waiting in the room, as the ringing screen shows them: a family contact (relation, photo) or a
    name as typed."""

    name: str
    relation: str | None = None  # kiosk.core.fields.RELATIONS
    photo: str | None = None  # the contact's photo on the device
    known: bool = False  # one of the device's family contacts


@dataclass(frozen=True)
class Waiting:
    """Who waits, for the ringing screen: the named visitors (contacts first met first), and how many more."""

    visitors: tuple[Visitor, ...] = ()
    others: int = 0  # people in the room without a name of their own on the screen (none typed, or a repeat)

    @property
    def photos(self) -> tuple[Visitor, ...]:
        """The contacts whose photo the ringing screen shows (at most three)."""
        return tuple(v for v in self.visitors if v.photo)[:3]


def who_waits(names: Sequence[str] | None, contacts: Sequence[Contact]) -> Waiting:
    """Match the room's display names to the device's contacts by name and aliases (case and spaces aside)."""
    if not names:
        return Waiting()
    lookup: dict[str, Contact] = {}
    for contact in contacts:
        for name in (contact.name, *contact.aliases):
            lookup.setdefault(_key(name), contact)
    visitors: list[Visitor] = []
    seen: set[str] = set()
    others = max(0, len(names) - MAX_OCCUPANTS)
    for name in names[:MAX_OCCUPANTS]:
        name = safe_name(name)  # already safe from presence_names; whoever else calls this gets the same rule
        contact = lookup.get(_key(name)) if name else None
        visitor = (Visitor(safe_name(contact.name), contact.relation, contact.photo, True) if contact is not None
                   else Visitor(name))
        key = _key(visitor.name)
        if visitor.known and key in seen:
            continue  # one contact on two devices ("Anna" and "anna m."): one person, counted once
        if not visitor.name or key in seen:
            others += 1
            continue
        seen.add(key)
        visitors.append(visitor)
    visitors.sort(key=lambda v: not v.known)  # contacts first (stable: in the order they joined)
    return Waiting(tuple(visitors), others)
