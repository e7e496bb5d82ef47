"""The hidden staff exit: corner-tap gesture, PIN hashes and the PIN pad's lockout."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.core.files import atomic_write

log = logging.getLogger(__name__)

# scrypt cost: about 50 ms on an old laptop; enough to make a stolen config's hash slow to guess.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PIN_LENGTH = 4  # what the PIN pad takes at all (demo and tests use 2468, with force=True)
GOOD_PIN_LENGTH = 6  # what --hash-pin accepts without force
MAX_PIN_LENGTH = 12


def pin_weakness(pin: str) -> str | None:
    """Why a PIN is too easy to guess (None when it is fine): no hash's cost saves a PIN an attacker tries first."""
    if len(pin) < GOOD_PIN_LENGTH:
        return f"the PIN has fewer than {GOOD_PIN_LENGTH} digits"
    if len(set(pin)) == 1:
        return "the PIN repeats one digit"
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:])}
    if steps in ({1}, {9}):
        return "the PIN counts up or down (like 123456 or 654321)"
    half = len(pin) // 2
    if (len(pin) % 2 == 0 and pin[:half] == pin[half:]) or len(set(pin)) <= 2:
        return "the PIN repeats a short pattern (like 121212 or 123123)"
    if pin in _COMMON_PINS:
        return "the PIN is one of the most common ones"
    return None


# Beyond repeats and runs: the PINs people pick most (dates of the form 19xx/20xx are left to length).
_COMMON_PINS = frozenset({"112233", "123321", "159753", "147258", "258369", "789456", "102030", "696969",
                          "131313", "123654", "987654", "246810", "135790", "147852", "159357", "753159"})


def hash_pin(pin: str, *, salt: bytes | None = None, force: bool = False) -> str:
    """Hash a numeric PIN as `scrypt$N$r$p$salt$hash` for the config's admin_pin_hash.

    ValueError when the PIN is not 4 to 12 digits, or, unless `force`, when pin_weakness finds it easy to guess.
    """
    if not (pin.isdigit() and pin.isascii() and MIN_PIN_LENGTH <= len(pin) <= MAX_PIN_LENGTH):
        raise ValueError(f"the PIN must be {GOOD_PIN_LENGTH} to {MAX_PIN_LENGTH} digits")
    weakness = None if force else pin_weakness(pin)
    if weakness is not None:
        raise ValueError(f"{weakness}: choose {GOOD_PIN_LENGTH} to {MAX_PIN_LENGTH} digits that are not obvious")
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


# How long the pad stays locked after the first, second, third (and every later) run of wrong PINs.
LOCKOUTS = (300.0, 900.0, 3600.0)
PIN_LOCK_FILE = "pin-lock.json"


@dataclass
class PinLock:
    """Checks PINs; five wrong ones lock the pad for 5 minutes, the next time 15, then 60.

    With a state file (in the kiosk's state folder) the count and the lock survive a restart or a pulled plug; times
    are wall-clock seconds (time.time()) for that reason. A correct PIN clears both.
    """

    stored_hash: str | None
    state_file: Path | None = None
    # Whose state it is (the config file's path): state saved for another config is not this lock's.
    scope: str = ""
    max_attempts: int = 5
    lockouts: tuple[float, ...] = LOCKOUTS
    failures: int = 0
    locked_until: float = 0.0
    lockout_count: int = 0  # lockouts since the last correct PIN: picks the next lockout's length

    def __post_init__(self) -> None:
        if self.state_file is not None:
            self._load()

    @property
    def enabled(self) -> bool:
        """No PIN configured means no staff exit at all."""
        return self.stored_hash is not None

    def _current_lockout(self) -> float:
        if self.lockout_count <= 0:
            return 0.0
        return self.lockouts[min(self.lockout_count, len(self.lockouts)) - 1]

    def seconds_locked(self, now: float) -> float:
        """How long the pad stays locked, 0 when open."""
        remaining = self.locked_until - now
        longest = self._current_lockout()
        if remaining > longest:
            # The clock was set back (or the file says nonsense): lock for the lockout's length from now, not longer.
            self.locked_until = now + longest
            self._save()
            remaining = longest
        return max(0.0, remaining)

    def check(self, pin: str, now: float) -> bool:
        """Try a PIN; a locked pad refuses everything without checking."""
        if not self.enabled or self.seconds_locked(now) > 0:
            return False
        if verify_pin(pin, self.stored_hash):
            if self.failures or self.lockout_count or self.locked_until:
                self.failures, self.lockout_count, self.locked_until = 0, 0, 0.0
                self._save()
            return True
        self.failures += 1
        if self.failures >= self.max_attempts:
            self.failures = 0
            self.lockout_count += 1
            self.locked_until = now + self._current_lockout()
        self._save()
        return False

    def _load(self) -> None:
        try:
            raw = self.state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("PIN lock state %s cannot be read (%s); starting from no wrong PINs", self.state_file, exc)
            return
        try:
            data = json.loads(raw)
            if data.get("scope", "") != self.scope:
                return  # another config's lock (tests run many kiosks side by side)
            failures, count, until = data["failures"], data["lockouts"], data["locked_until"]
            if not (type(failures) is int and type(count) is int and type(until) in (int, float)
                    and 0 <= failures < self.max_attempts and 0 <= count <= 10_000 and math.isfinite(until)):
                raise ValueError("values out of range")
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            log.warning("PIN lock state %s is broken (%s); starting from no wrong PINs", self.state_file, exc)
            return
        self.failures, self.lockout_count, self.locked_until = failures, count, float(until)

    def _save(self) -> None:
        if self.state_file is None:
            return
        data = {"scope": self.scope, "failures": self.failures, "lockouts": self.lockout_count,
                "locked_until": self.locked_until}
        atomic_write(self.state_file, (json.dumps(data) + "\n").encode(), 0o600)
