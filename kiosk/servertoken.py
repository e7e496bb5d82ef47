"""The server's login token (JWT for Prosody's token authentication), as the kiosk sees it: read, expiry, warnings.

The kiosk never checks the signature (only the server holds the secret); it reads `exp` to tell staff in time. The
token itself is never logged, shown or put into an incident.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from pathlib import Path

import jwt

from kiosk.core.safefile import FileRefused, read_limited

from kiosk.core.tokenclaims import token_fits_room  # noqa: F401 - the kiosk's presence asks it here

log = logging.getLogger(__name__)
_warned: set[str] = set()

# From this many days before the token expires, staff get an incident every day.
WARN_DAYS = 30
MAX_TOKEN_BYTES = 16 * 1024


def read_token(path: str | Path | None) -> str | None:
    """The token in this file, or None when there is no file, it cannot be read or it is empty."""
    if not path:
        return None
    try:
        # A FIFO or a device in its place is refused at once (a FIFO without a writer hung the kiosk's start).
        raw = read_limited(path, MAX_TOKEN_BYTES, follow_symlinks=False)
    except (OSError, FileRefused) as exc:
        if not isinstance(exc, FileNotFoundError) and str(exc) not in _warned:
            _warned.add(str(exc))  # read at every presence question: said once, not every few seconds
            log.warning("the server token file cannot be used: %s", exc)
        return None
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return text or None


def token_expiry(token: str | None) -> datetime | None:
    """When the token expires (its `exp`, UTC), read without checking the signature; None when it has none."""
    if not token:
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool) or not math.isfinite(exp):
        return None
    try:
        return datetime.fromtimestamp(exp, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def days_left(expiry: datetime, now: datetime) -> int:
    """Whole days until the token expires (0 on its last day, negative once it has expired)."""
    return math.floor((expiry - now).total_seconds() / 86400)


def expiry_warning(expiry: datetime | None, now: datetime) -> str | None:
    """The incident detail staff get when the token expires within WARN_DAYS (or has expired); None otherwise."""
    if expiry is None:
        return None
    if expiry <= now:
        return f"the server token expired on {expiry:%Y-%m-%d}: mint a new one (palim-provision tokens) and apply it"
    days = days_left(expiry, now)
    if days > WARN_DAYS:
        return None
    return (f"the server token expires on {expiry:%Y-%m-%d} (in {days} days): mint a new one (palim-provision "
            "tokens) and apply it")
