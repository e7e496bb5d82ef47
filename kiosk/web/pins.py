"""Certificate pins, the one place they are checked: the call page, the service screen's check, background requests.

A pin is the SHA-256 of the leaf certificate of the configured server (`tls_pins`). In Chromium and for the service
screen's check a pin only rescues a certificate no CA vouches for; for background requests (requests/urllib3) a
configured pin is required in the handshake, before the request with the room name is sent.
"""

from __future__ import annotations

from PyQt6.QtCore import QCryptographicHash, QUrl
from PyQt6.QtNetwork import QNetworkReply

from kiosk.config import KioskConfig
from kiosk.web.policy import Origin, certificate_pinned


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


def fetch_json(url: str, server: str, pins: tuple[str, ...], timeout: float = 5.0) -> tuple[int, object]:
    """GET a JSON answer; for the configured server a pinned certificate is checked by its fingerprint."""
    import requests

    if not (pins and Origin.of(url).host == Origin.of(server).host and url.startswith("https:")):
        return get_json(requests.Session(), url, timeout, verify=True)
    # urllib3 checks one fingerprint during the handshake, before the request (and the room in its URL) is sent; a
    # server that is changing certificates has two pins, so try each until one matches.
    for pin in pins[:-1]:
        try:
            return get_json(pinned_session(pin), url, timeout, verify=False)
        except requests.exceptions.SSLError:
            continue  # not this pin (or TLS failed, which the last try will report)
    return get_json(pinned_session(pins[-1]), url, timeout, verify=False)


def pinned_session(pin: str):
    """A requests session whose HTTPS connections accept exactly the leaf certificate with this SHA-256."""
    import requests
    from requests.adapters import HTTPAdapter

    class PinnedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["assert_fingerprint"] = pin  # urllib3 checks the leaf's SHA-256 instead of a CA
            kwargs["cert_reqs"] = "CERT_NONE"
            return super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount("https://", PinnedAdapter())
    return session


def get_json(session, url: str, timeout: float, verify: bool) -> tuple[int, object]:
    """GET url with this session and return (status, JSON body or None)."""
    # verify=False goes with a pinned session: the environment's CA bundle must not override the pin, the pin is the check
    with session:
        response = session.get(url, timeout=timeout, headers={"Accept": "application/json"}, verify=verify)
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body
