"""Deny-by-default decisions for the web page, as plain functions of URLs and names."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL_SCHEME = "palim"
LOCAL_HOST = "kiosk"
_DEFAULT_PORTS = {"https": 443, "http": 80, "wss": 443, "ws": 80}
# A WebSocket to the server (Jitsi's XMPP over wss) belongs to the server's origin.
_SAME_SERVER_SCHEMES = {"https": ("https", "wss"), "http": ("http", "ws")}


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port: what the web's same-origin rule compares."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def of(cls, url: str) -> Origin:
        """The origin of a URL; ports default per scheme."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            port = None
        return cls(scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme))


class Decision(enum.Enum):
    """How a permission request is answered."""

    GRANT = "grant"
    DENY = "deny"


def is_local(url: str) -> bool:
    """True for the kiosk's own call page and its files."""
    origin = Origin.of(url)
    return origin.scheme == LOCAL_SCHEME and origin.host == LOCAL_HOST


def is_server(url: str, server: str, *, websocket: bool = False) -> bool:
    """True when the URL has the configured server's origin (scheme, host and port)."""
    want, got = Origin.of(server), Origin.of(url)
    schemes = _SAME_SERVER_SCHEMES.get(want.scheme, (want.scheme,)) if websocket else (want.scheme,)
    same_port = got.port == want.port or (got.scheme in ("ws", "wss") and got.port == _DEFAULT_PORTS[got.scheme]
                                          and want.port == _DEFAULT_PORTS[want.scheme])
    return got.scheme in schemes and got.host == want.host and same_port


def navigation_allowed(url: str, main_frame: bool, server: str) -> bool:
    """Main frame: only the local call page. Frames: the local page, the server, or an empty frame."""
    if is_local(url):
        return True
    if main_frame:
        return False
    return is_server(url, server) or url in ("about:blank", "about:srcdoc")


def request_allowed(url: str, server: str) -> bool:
    """Sub-resources may come from the local page, the server (https and wss), data: and blob:."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("data", "blob"):
        return True
    return is_local(url) or is_server(url, server, websocket=True)


# Permission decisions by feature. Only camera and microphone, only for the server; everything else is denied,
# and a feature missing here (new in a later Qt) is denied and logged as unknown.
MEDIA_FOR_SERVER = "media-for-server"
PERMISSIONS: dict[str, str | Decision] = {
    "MediaAudioCapture": MEDIA_FOR_SERVER,
    "MediaVideoCapture": MEDIA_FOR_SERVER,
    "MediaAudioVideoCapture": MEDIA_FOR_SERVER,
    "DesktopVideoCapture": Decision.DENY,
    "DesktopAudioVideoCapture": Decision.DENY,
    "MouseLock": Decision.DENY,
    "Notifications": Decision.DENY,
    "Geolocation": Decision.DENY,
    "ClipboardReadWrite": Decision.DENY,
    "LocalFontsAccess": Decision.DENY,
    "PointerLock": Decision.DENY,
    "KeyboardLock": Decision.DENY,
    "Unsupported": Decision.DENY,
}


def permission_decision(feature: str, origin: str, server: str, local_media: bool = False) -> tuple[Decision, str]:
    """Answer a permission request and say why, for the log; `local_media` only for the practice page's own view."""
    rule = PERMISSIONS.get(feature)
    if rule is None:
        return Decision.DENY, f"unknown permission {feature!r}: denied"
    if rule == MEDIA_FOR_SERVER:
        if is_server(origin, server):
            return Decision.GRANT, f"{feature} for the configured server {origin}"
        if local_media and is_local(origin):
            return Decision.GRANT, f"{feature} for the kiosk's own practice page"
        return Decision.DENY, f"{feature} asked by {origin}, which is not the configured server"
    return Decision.DENY, f"{feature} is never allowed"


def certificate_pinned(host: str, port: int | None, leaf_sha256: str, server: str, pins: tuple[str, ...]) -> bool:
    """Accept an otherwise invalid certificate only for the configured host whose leaf matches a pin."""
    want = Origin.of(server)
    if host.lower() != want.host or (port is not None and port not in (want.port, -1)):
        return False
    return leaf_sha256.lower() in pins
