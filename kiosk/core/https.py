"""HTTPS sessions for background requests: the device's own trust store, or exactly one pinned leaf certificate."""

from __future__ import annotations

import ssl

import requests
import truststore
from requests.adapters import HTTPAdapter

TIMEOUT_S = 5.0


class _SystemTrustAdapter(HTTPAdapter):
    """Verifies servers against the operating system's CA store (where staff install a city CA), not certifi's."""

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return super().init_poolmanager(*args, **kwargs)


class _PinnedAdapter(HTTPAdapter):
    """Accepts exactly the leaf certificate with this SHA-256, checked by urllib3 during the handshake."""

    def __init__(self, pin: str):
        self._pin = pin
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["assert_fingerprint"] = self._pin  # the leaf's SHA-256 instead of a CA
        kwargs["cert_reqs"] = "CERT_NONE"
        return super().init_poolmanager(*args, **kwargs)


def system_trust_session() -> requests.Session:
    """A session that trusts what the device trusts (its CA store), and nothing else."""
    session = requests.Session()
    session.trust_env = False  # no REQUESTS_CA_BUNDLE or proxy from the environment decides for the device
    session.mount("https://", _SystemTrustAdapter())
    return session


def pinned_session(pin: str) -> requests.Session:
    """A session whose HTTPS connections accept exactly the leaf certificate with this SHA-256 (hex)."""
    session = requests.Session()
    session.trust_env = False
    session.mount("https://", _PinnedAdapter(pin))
    return session


def get_json(session: requests.Session, url: str, timeout: float = TIMEOUT_S, verify: bool = True,
             headers: dict | None = None) -> tuple[int, object]:
    """GET url with this session; (status, JSON body or None)."""
    # verify=False goes with a pinned session only: there the pin is the check, and no CA bundle may override it.
    with session:
        response = session.get(url, timeout=timeout, headers={"Accept": "application/json", **(headers or {})},
                               verify=verify)
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body
