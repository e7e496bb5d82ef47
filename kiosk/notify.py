"""Sending the family notice: ntfy, webhook and e-mail, with retries; runs in a worker thread, never the GUI's."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Contact, SmtpOptions
from kiosk.core.files import read_secret_file
from kiosk.core.boundedhttp import FetchError, Watchdog, fetch
from kiosk.family import Notice, email_message, in_language, ntfy_headers, webhook_body

log = logging.getLogger(__name__)

TIMEOUT_S = 10  # each request's whole deadline (ntfy, webhook); each read of the e-mail relay's answers
EMAIL_DEADLINE_S = 30  # the whole e-mail: connect, STARTTLS, login, message
RETRY_DELAYS_S = (0.0, 5.0, 30.0)  # three tries in about half a minute, then staff hear about it


class SendError(Exception):
    """A channel did not take the notice; the message names the channel, never a secret."""


@dataclass(frozen=True)
class Delivery:
    """The outcome for one channel of one contact."""

    contact: str
    channel: str
    ok: bool
    detail: str


def _secret(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return read_secret_file(Path(path)).strip() or None
    except OSError as exc:
        raise SendError(f"cannot read the secret file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a folder, a device, a pipe, too large: the wrong file, and nothing read from it
        raise SendError(f"the secret file {exc}") from None


def _post(url: str, data: bytes, headers: dict[str, str]) -> None:
    # The device's CA store (a city CA installed there works), within boundedhttp's deadline; a notice needs the
    # status only: whatever the receiver sends after it is never read. A redirect is not followed: it fails.
    try:
        answer = fetch(url, method="POST", body=data, headers=headers, deadline_s=TIMEOUT_S, read_body=False)
    except FetchError as exc:
        raise SendError(str(exc)) from None
    if answer.status >= 300:
        raise SendError(f"HTTP {answer.status}")


def send_ntfy(contact: Contact, item: Notice) -> None:
    """Publish to the contact's ntfy topic."""
    _post(contact.ntfy.url, item.text.encode("utf-8"), ntfy_headers(item, _secret(contact.ntfy.token_file)))


def send_webhook(contact: Contact, item: Notice) -> None:
    """POST the notice as JSON."""
    token = _secret(contact.webhook.token_file)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    _post(contact.webhook.url, json.dumps(webhook_body(item)).encode(), headers)


class _Relay(smtplib.SMTP):
    """smtplib's client whose socket the watchdog holds from the start (the relay's greeting can drip too)."""

    def __init__(self, watchdog: Watchdog, **kwargs):
        self._watchdog = watchdog
        super().__init__(**kwargs)

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        self._watchdog.watch(sock)
        return sock


def send_email(contact: Contact, item: Notice, smtp: SmtpOptions | None) -> None:
    """Send the notice through the city's relay with STARTTLS (never in clear text)."""
    if smtp is None:
        raise SendError("no smtp relay configured")
    context = ssl.create_default_context(cafile=smtp.ca_file)
    # A relay that answers a byte a second is cut off at EMAIL_DEADLINE_S (smtplib's timeout is per read only).
    watchdog = Watchdog(EMAIL_DEADLINE_S)
    try:
        with _Relay(watchdog, host=smtp.host, port=smtp.port, timeout=TIMEOUT_S) as client:
            client.starttls(context=context)
            watchdog.watch(client.sock)  # the TLS socket now carries the connection
            if smtp.user:
                client.login(smtp.user, _secret(smtp.password_file) or "")
            client.send_message(email_message(item, smtp.sender, contact.email))
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        if watchdog.fired:
            raise SendError(f"the relay did not finish within {EMAIL_DEADLINE_S:g} s") from None
        raise SendError(f"{type(exc).__name__}: {str(exc)[:120]}") from None
    finally:
        watchdog.cancel()


def channels(contact: Contact, smtp: SmtpOptions | None) -> list[tuple[str, Callable[[Notice], None]]]:
    """The ways to reach one contact."""
    found = []
    if contact.ntfy:
        found.append(("ntfy", lambda item: send_ntfy(contact, item)))
    if contact.webhook:
        found.append(("webhook", lambda item: send_webhook(contact, item)))
    if contact.email:
        found.append(("email", lambda item: send_email(contact, item, smtp)))
    return found


def deliver(contacts: tuple[Contact, ...], smtp: SmtpOptions | None, item: Notice,
            delays: tuple[float, ...] | None = None, sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Try every channel of every contact, each with retries, in the contact's language; report what happened."""
    delays = RETRY_DELAYS_S if delays is None else delays
    results = []
    for contact in contacts:
        own = in_language(item, contact.language)
        for name, send in channels(contact, smtp):
            detail = ""
            for attempt, delay in enumerate(delays, 1):
                sleep(delay)
                try:
                    send(own)
                except SendError as exc:
                    detail = f"attempt {attempt}: {exc}"
                    log.warning("notice to %s by %s failed (%s)", contact.name, name, detail)
                    continue
                detail = f"attempt {attempt}"
                break
            else:
                results.append(Delivery(contact.name, name, False, detail))
                continue
            log.info("notice to %s by %s delivered (%s)", contact.name, name, detail)
            results.append(Delivery(contact.name, name, True, detail))
    return results
