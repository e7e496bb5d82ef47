"""palim-provision server-check: which servers to check (one URL, or every distinct server of a device list).

The checks themselves are kiosk.core.servercheck, the same the kiosk's service screen runs on a device, and like there
each runs in a child process (kiosk.core.servercheck_child): the server's JavaScript runs in V8 under limits there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from kiosk.core.fields import check_server_url, check_url_with_path
from kiosk.core.servercheck import ServerReport
from kiosk.core.servercheck_child import check_server_in_child

from kiosk.core.yamlpos import Problem

from .devicelist import Loaded


@dataclass(frozen=True)
class ServerTarget:
    """One server to check, with what the kiosks configure for it."""

    server: str
    pins: tuple[str, ...] = ()
    presence: str | None = None
    token: str | None = None  # a device's token (jitsi_token in the list), for presence with token verification

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


def targets_from_devices(loaded: Loaded) -> tuple[list[ServerTarget], list[Problem]]:
    """Every distinct server of the list, in order of appearance, with the union of its devices' pins, the first
    presence URL configured for it, and with token login (jitsi_token) the token of its first device, minted as
    `palim-provision tokens` does; and why a token could not be minted here (its secret is missing)."""
    from .tokens import device_tokens

    pins: dict[str, list[str]] = {}
    presence: dict[str, str | None] = {}
    tokens: dict[str, str] = {}
    problems: list[Problem] = []
    for target in loaded.targets:
        config = target.config
        known = pins.setdefault(config.server, [])
        known += [p for p in config.tls_pins if p not in known]
        if presence.get(config.server) is None:
            presence[config.server] = config.presence.url
        if target.jitsi_token is not None and config.server not in tokens:
            minted, unavailable, wrong = device_tokens(loaded, [target])
            if target.id in minted:
                tokens[config.server] = minted[target.id]
            elif not any(p.message == q.message for p in problems for q in unavailable + wrong):
                problems += unavailable + wrong
    return [ServerTarget(server, tuple(pins[server]), presence[server], tokens.get(server)) for server in pins], \
        problems


def run_server_check(targets: list[ServerTarget], token: str | None = None) -> list[ServerReport]:
    """Check every server (a few at once); the reports in the targets' order. `token` (--token-file) goes before a
    token minted from the list."""
    with ThreadPoolExecutor(max_workers=min(4, max(1, len(targets)))) as pool:
        return list(pool.map(lambda t: check_server_in_child(t.server, t.pins, token=token or t.token,
                                                             presence_url=t.presence), targets))
