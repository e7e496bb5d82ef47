"""palim-provision server-check: which servers to check (one URL, or every distinct server of a device list).

The checks themselves are kiosk.core.servercheck, the same the kiosk's service screen runs on a device.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from kiosk.core.fields import check_server_url, check_url_with_path
from kiosk.core.servercheck import ServerReport, check_server

from .devicelist import Loaded


@dataclass(frozen=True)
class ServerTarget:
    """One server to check, with what the kiosks configure for it."""

    server: str
    pins: tuple[str, ...] = ()
    presence: str | None = None

    @classmethod
    def from_url(cls, url: str, pins: tuple[str, ...] = (), presence: str | None = None) -> ServerTarget:
        """From the command line; ValueError with the reason when the URL or a pin is wrong."""
        try:
            server = check_server_url(url)
        except ValueError as exc:
            raise ValueError(f"URL {url!r} {exc}") from None
        for pin in pins:
            if len(pin) != 64 or any(c not in "0123456789abcdefABCDEF" for c in pin):
                raise ValueError(f"--pin {pin!r} is no SHA-256 (64 hex digits)")
        if presence is not None:
            try:
                check_url_with_path(presence)
            except ValueError as exc:
                raise ValueError(f"--presence {presence!r} {exc}") from None
        return cls(server, tuple(p.lower() for p in pins), presence)


def targets_from_devices(loaded: Loaded) -> list[ServerTarget]:
    """Every distinct server of the list, in order of appearance, with the union of its devices' pins and the first
    presence URL configured for it."""
    pins: dict[str, list[str]] = {}
    presence: dict[str, str | None] = {}
    for target in loaded.targets:
        config = target.config
        known = pins.setdefault(config.server, [])
        known += [p for p in config.tls_pins if p not in known]
        if presence.get(config.server) is None:
            presence[config.server] = config.presence.url
    return [ServerTarget(server, tuple(pins[server]), presence[server]) for server in pins]


def run_server_check(targets: list[ServerTarget], token: str | None = None) -> list[ServerReport]:
    """Check every server (a few at once); the reports in the targets' order."""
    with ThreadPoolExecutor(max_workers=min(4, max(1, len(targets)))) as pool:
        return list(pool.map(lambda t: check_server(t.server, t.pins, token=token, presence_url=t.presence),
                             targets))
