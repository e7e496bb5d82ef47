"""Certificate pins for the call page and background requests (the server check, kiosk.core.servercheck, compares
the leaf with the pins the same way background requests do).

A pin is the SHA-256 of the leaf certificate of the configured server (`tls_pins`). In Chromium a pin only rescues a
certificate no CA vouches for; for background requests (kiosk.core.boundedhttp) a configured pin is required in the
handshake, before the request with the room name is sent; without pins they trust the device's own CA store
(kiosk.core.https), so a city CA installed there works.
"""

from __future__ import annotations

import json

from PyQt6.QtCore import QCryptographicHash, QUrl
from PyQt6.QtNetwork import QNetworkReply

from kiosk.config import KioskConfig
from kiosk.core.boundedhttp import fetch
from kiosk.web.policy import Origin, certificate_pinned

TIMEOUT_S = 10.0  # the whole request, answer included
# Prosody's mod_muc_size sends its JSON without a Content-Type; anything that names another type (a captive portal's
# text/html) is no presence answer.
PRESENCE_TYPES = ("application/json", "")
MAX_JSON_BYTES = 256 * 1024  # a /room list of 50 people with long names is under 50 KiB


def leaf_sha256(chain: list) -> str:
    """The hex SHA-256 of a Qt certificate chain's leaf; empty when there is none."""
    return bytes(chain[0].digest(QCryptographicHash.Algorithm.Sha256).toHex()).decode() if chain else ""


def chain_pinned(chain: list, url: QUrl, config: KioskConfig) -> tuple[bool, str]:
    """Whether a chain's leaf matches a configured pin for the configured host; and the leaf's SHA-256."""
    leaf = leaf_sha256(chain)
    pinned = bool(leaf) and certificate_pinned(url.host(), url.port(), leaf, config.server, config.tls_pins)
    return pinned, leaf


def accept_if_pinned(reply: QNetworkReply, config: KioskConfig) -> bool:
    """For a reply's sslErrors: ignore them when the leaf is pinned (and say so); False when it is not."""
    pinned, _ = chain_pinned(reply.sslConfiguration().peerCertificateChain(), reply.url(), config)
    if pinned:
        reply.ignoreSslErrors()
    return pinned


def fetch_json(url: str, server: str, pins: tuple[str, ...], timeout: float = TIMEOUT_S,
               max_bytes: int = MAX_JSON_BYTES) -> tuple[int, object]:
    """GET a JSON answer within kiosk.core.boundedhttp's limits: pinned for the configured server when pins are set,
    else against the device's CA store. (status, body or None); FetchError when no usable answer came in time."""
    pinned = bool(pins) and Origin.of(url).host == Origin.of(server).host and url.startswith("https:")
    # One handshake: the leaf is compared with every configured pin (a server changing certificates has two), before
    # the request (and the room in its URL) is sent.
    answer = fetch(url, pins=tuple(pins) if pinned else (), deadline_s=timeout, max_bytes=max_bytes,
                   accept=PRESENCE_TYPES)
    try:
        body = json.loads(answer.body) if answer.body else None
    except (ValueError, RecursionError):
        body = None
    return answer.status, body
