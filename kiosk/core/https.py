"""TLS for background requests: the device's own trust store, or exactly the configured leaf pins."""

from __future__ import annotations

import hashlib
import ssl

import truststore


def tls_context(pins: tuple[str, ...]) -> ssl.SSLContext:
    """The context for one connection: the operating system's CA store (where staff install a city CA; never
    certifi's list or a bundle named in the environment), or, with pins, no CA at all: `leaf_pinned` decides right
    after the handshake, before any request is sent."""
    if not pins:
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only the leaf's SHA-256 counts, compared with the pins
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def leaf_pinned(tls: ssl.SSLSocket, pins: tuple[str, ...]) -> bool:
    """Whether the leaf this connection's server showed has one of the pins (SHA-256, hex, any case)."""
    leaf = hashlib.sha256(tls.getpeercert(binary_form=True) or b"").hexdigest()
    return leaf in {pin.lower() for pin in pins}
