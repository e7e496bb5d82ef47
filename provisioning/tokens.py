"""Login tokens for a city's Jitsi server with Prosody's token authentication: one per device, for its room only.

HS256 with the app id and secret the city set in Prosody (`app_id`, `app_secret`); the claims are the ones Prosody
checks: `iss` and `aud` the app id, `sub` the server's domain, `room` the device's own room, `exp`; the resident's
name in `context.user.name`, and `moderator: true` (the kiosk opens its own room). Minted from the start of the
day (UTC), so applying twice on one day writes the same token and shows no change.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import jwt

from kiosk.core.safefile import FileRefused, read_limited
from kiosk.core.yamlpos import Problem

from .devicelist import Loaded, Target

DEFAULT_VALID_DAYS = 365
# HS256's key must be at least as long as its hash (RFC 7518, 3.2): 32 bytes.
MIN_SECRET_BYTES = 32


def mint(*, app_id: str, secret: str, domain: str, room: str, resident: str, valid_days: int = DEFAULT_VALID_DAYS,
         now: datetime | None = None) -> str:
    """One device's token (a JWT, HS256)."""
    now = now or datetime.now(timezone.utc)
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    claims = {
        "iss": app_id,
        "aud": app_id,
        "sub": domain,
        "room": room,
        "iat": int(day.timestamp()),
        "nbf": int(day.timestamp()),
        "exp": int((day + timedelta(days=valid_days)).timestamp()),
        "context": {"user": {"name": resident}},
        "moderator": True,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


# --------------------------------------------------------------------------- the device list's tokens


def _read_secret(path: Path) -> str:
    """A secrets file's one line; ValueError for what cannot be a secret (a folder, a device, a FIFO, over 64 KiB
    (a sparse 30 GB file too), not text): looked at on the open file before anything is read."""
    try:
        raw = read_limited(path, 65536)
    except FileRefused as exc:
        raise ValueError(f"{exc}: it cannot be a secret") from None
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None


def _domain(target: Target) -> str:
    return target.jitsi_token.sub or (urlsplit(target.config.server).hostname or "")


def device_tokens(loaded: Loaded, targets: list[Target], env: Mapping[str, str] | None = None,
                  base_dir: Path | None = None, now: datetime | None = None,
                  ) -> tuple[dict[str, str], list[Problem], list[Problem]]:
    """Mint the token of every given device that has token login: device id -> token, then the problems in two
    lists like read_secrets: secrets not available here, and secrets that are there but wrong. Values are never
    put in messages."""
    env = os.environ if env is None else env
    base_dir = Path(loaded.file).parent if base_dir is None else base_dir
    tokens: dict[str, str] = {}
    unavailable: list[Problem] = []
    wrong: list[Problem] = []
    for target in targets:
        spec = target.jitsi_token
        if spec is None:
            continue
        level = ("homes", target.home_key) if target.home.jitsi_token is not None else ("defaults",)
        where = level + ("jitsi_token",)
        if spec.token_env is not None:
            value = env.get(spec.token_env)
            if not value:
                unavailable.append(loaded.doc.problem(where + ("token_env",), f"the environment variable "
                                                      f"{spec.token_env} is not set (it must hold the device's token)"))
            else:
                tokens[target.id] = value.strip()
            continue
        if spec.secret_env is not None:
            secret = env.get(spec.secret_env)
            if secret is None:
                unavailable.append(loaded.doc.problem(where + ("secret_env",), f"the environment variable "
                                                      f"{spec.secret_env} is not set (it must hold the app secret)"))
                continue
        else:
            path = base_dir / spec.secret_file
            try:
                secret = _read_secret(path)
            except FileNotFoundError:
                unavailable.append(loaded.doc.problem(where + ("secret_file",), f"the secrets file {path} does "
                                                                                f"not exist"))
                continue
            except PermissionError as exc:
                unavailable.append(loaded.doc.problem(where + ("secret_file",), f"the secrets file {path} cannot "
                                                      f"be read: {exc.strerror or exc}"))
                continue
            except (ValueError, OSError) as exc:
                wrong.append(loaded.doc.problem(where + ("secret_file",), f"the secrets file {exc}"))
                continue
        if not secret.strip():
            wrong.append(loaded.doc.problem(where, "the app secret is empty"))
            continue
        if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            source = where + (("secret_env",) if spec.secret_env is not None else ("secret_file",))
            wrong.append(loaded.doc.problem(source, (
                f"the app secret is {len(secret.encode('utf-8'))} bytes long, and a token signed with it (HS256) "
                f"needs at least {MIN_SECRET_BYTES}: anyone could guess a shorter one and log in to every room; make "
                f"a new one with 'openssl rand -hex 32' and set it in Prosody (app_secret) and here")))
            continue
        tokens[target.id] = mint(app_id=spec.app_id, secret=secret, domain=_domain(target),
                                 room=target.config.room, resident=target.config.resident,
                                 valid_days=spec.valid_days, now=now)
    # Devices that share the defaults' or a home's token login share its problem: said once.
    return tokens, list(dict.fromkeys(unavailable)), list(dict.fromkeys(wrong))
