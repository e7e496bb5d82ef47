"""The family side, as plain logic: what a notification says, when to send it, quiet hours, presence answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from urllib.parse import quote

from kiosk.config import KioskConfig
from kiosk.health import in_time_window


@dataclass(frozen=True)
class Notice:
    """What every channel says when the resident taps "Familie anrufen"."""

    title: str
    text: str
    link: str
    resident: str
    device: str | None
    home: str | None
    at: datetime


def notice(config: KioskConfig, at: datetime) -> Notice:
    """The notice for one tap: who calls, and the link a family member opens on a phone."""
    name = config.resident
    link = config.room_url
    return Notice(title=f"{name} möchte Sie per Video sprechen",
                  text=f"{name} hat gerade auf „Familie anrufen“ getippt und wartet im Videoraum. "
                       f"Zum Mitmachen öffnen Sie bitte: {link}",
                  link=link, resident=name, device=config.device_id, home=config.home, at=at)


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
            "time": item.at.isoformat(timespec="seconds")}


def email_message(item: Notice, sender: str, recipient: str) -> EmailMessage:
    """A plain-text German e-mail with the link."""
    message = EmailMessage()
    message["Subject"] = item.title
    message["From"] = sender
    message["To"] = recipient
    message.set_content(f"Guten Tag,\n\n{item.text}\n\nEs ist kein Programm nötig: Der Link öffnet sich im "
                        f"Browser des Telefons. Bitte Kamera und Mikrofon erlauben.\n\n"
                        f"Diese Nachricht hat das Videotelefon von {item.resident} geschickt.\n")
    return message


def should_notify(last: datetime | None, now: datetime, dedupe_minutes: int) -> bool:
    """A second tap within the dedupe window sends nothing new."""
    return last is None or (now - last).total_seconds() >= dedupe_minutes * 60


# --------------------------------------------------------------------------- quiet hours and presence


def in_quiet_hours(now: datetime, windows: tuple[str, ...]) -> bool:
    """True inside any window like 20:00-08:00 (windows may cross midnight)."""
    return any(in_time_window(now, spec) for spec in windows)


def presence_url(template: str, room: str) -> str:
    """The presence URL for this room; only the room name goes to the server."""
    return template.replace("{room}", quote(room, safe=""))


def parse_presence(status: int, body: object) -> int | None:
    """Others in the room from a mod_muc_size answer; 404 means empty; anything odd means unknown (None)."""
    if status == 404:
        return 0
    if status != 200:
        return None
    if isinstance(body, dict) and isinstance(body.get("participants"), int) and body["participants"] >= 0:
        return body["participants"]  # /room-size
    if isinstance(body, list):
        return len(body)  # /room lists the occupants without the focus
    return None
