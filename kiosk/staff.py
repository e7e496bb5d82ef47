"""The hidden staff exit: corner-tap gesture, PIN hashes and the PIN pad's lockout."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

# scrypt cost: about 50 ms on an old laptop; enough to make a stolen config's hash slow to guess.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 12


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """Hash a numeric PIN as `scrypt$N$r$p$salt$hash` for the config's admin_pin_hash."""
    if not (pin.isdigit() and MIN_PIN_LENGTH <= len(pin) <= MAX_PIN_LENGTH):
        raise ValueError(f"the PIN must be {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} digits")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt)}${encode(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when the PIN matches the stored hash; a malformed hash never matches."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected), maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass
class CornerTaps:
    """Counts taps in one corner; five within three seconds open the PIN pad."""

    needed: int = 5
    window: float = 3.0
    taps: list[float] = field(default_factory=list)

    def tap(self, now: float, in_corner: bool) -> bool:
        """Record a tap; True when the gesture is complete."""
        if not in_corner:
            self.taps.clear()  # a tap elsewhere breaks the sequence, so a resident's random taps rarely add up
            return False
        self.taps = [t for t in self.taps if now - t <= self.window] + [now]
        if len(self.taps) >= self.needed:
            self.taps.clear()
            return True
        return False


@dataclass
class PinLock:
    """Checks PINs; five wrong ones lock the pad for five minutes."""

    stored_hash: str | None
    max_attempts: int = 5
    lockout: float = 300.0
    failures: int = 0
    locked_until: float = 0.0

    @property
    def enabled(self) -> bool:
        """No PIN configured means no staff exit at all."""
        return self.stored_hash is not None

    def seconds_locked(self, now: float) -> float:
        """How long the pad stays locked, 0 when open."""
        return max(0.0, self.locked_until - now)

    def check(self, pin: str, now: float) -> bool:
        """Try a PIN; a locked pad refuses everything without checking."""
        if not self.enabled or self.seconds_locked(now) > 0:
            return False
        if verify_pin(pin, self.stored_hash):
            self.failures = 0
            return True
        self.failures += 1
        if self.failures >= self.max_attempts:
            self.failures = 0
            self.locked_until = now + self.lockout
        return False
