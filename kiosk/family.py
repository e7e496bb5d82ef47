"""The family side, as plain logic: what a notification says, when to send it, quiet hours, presence answers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from email.header import Header
from email.mime.text import MIMEText
from urllib.parse import quote

from kiosk import i18n
from kiosk.config import KioskConfig
from kiosk.health import in_time_window
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


def should_notify(last: datetime | None, now: datetime, dedupe_minutes: int) -> bool:
    """A second tap within the dedupe window sends nothing new."""
    return last is None or (now - last).total_seconds() >= dedupe_minutes * 60


# --------------------------------------------------------------------------- quiet hours and presence


def in_quiet_hours(now: datetime, windows: tuple[str, ...]) -> bool:
    """True inside any window like 20:00-08:00 (windows may cross midnight)."""
    return any(in_time_window(now, spec) for spec in windows)


def presence_url(template: str, room: str, token: str | None = None) -> str:
    """The presence URL for this room; only the room name goes to the server, and the login token as token= when
    the kiosk has one (mod_muc_size checks it when the city turns enable_roomsize_token_verification on)."""
    url = template.replace("{room}", quote(room, safe=""))
    if token:
        url += ("&" if "?" in url else "?") + "token=" + quote(token, safe="")
    return url


def parse_presence(status: int, body: object) -> int | None:
    """Others in the room from a mod_muc_size answer; 404 means empty; anything odd means unknown (None)."""
    if status == 404:
        return 0
    if status != 200:
        return None
    count = body.get("participants") if isinstance(body, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:  # JSON true is no count
        return count  # /room-size
    if isinstance(body, list):
        return len(body)  # /room lists the occupants without the focus
    return None
