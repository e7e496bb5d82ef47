"""The shared field rules of the kiosk config and the device list: one home for every pattern and check."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from urllib.parse import urlsplit

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

# The resident's languages: German is the source, the others the most common first languages of older migrants.
LANGUAGES = ("de", "en", "tr", "ru", "pl")
DEFAULT_LANGUAGE = "de"
# A family contact's relation to the resident (config `relation:`), in the device list's German; the ringing screen
# says it in the resident's language ("Ihre Tochter Anna ist da", "Your daughter Anna is here").
RELATIONS = ("Tochter", "Sohn", "Enkelin", "Enkel", "Schwester", "Bruder", "Ehefrau", "Ehemann", "Nichte", "Neffe",
             "Schwiegertochter", "Schwiegersohn", "Freundin", "Freund")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
# Jitsi itself warns about guessable rooms; 128 random bits is the floor we accept.
MIN_ROOM_BITS = 128

# Every pattern is used with fullmatch: a value with a trailing newline is refused, not accepted by `$`.
HOSTNAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
ROOM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
PIN_HASH = re.compile(r"scrypt\$([0-9]{1,9})\$([0-9]{1,4})\$([0-9]{1,4})\$([A-Za-z0-9+/]{4,88}={0,2})"
                      r"\$([A-Za-z0-9+/]{4,88}={0,2})")
# A PIN has few possibilities, so only the hash's cost protects it: scrypt N >= 2^14, r >= 8 (what --hash-pin makes).
# The ceiling is half of what the kiosk lets scrypt use when it checks a PIN (256 MiB): a valid hash always verifies.
PIN_HASH_MIN_N, PIN_HASH_MIN_R, PIN_HASH_MAX_MEMORY = 2**14, 8, 128 * 1024 * 1024
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
HHMM = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
BRAND_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
EMAIL = re.compile(r"[^@\s,;<>\x00-\x1f\x7f-\x9f]+@[^@\s,;<>\x00-\x1f\x7f-\x9f]+\.[^@\s,;<>\x00-\x1f\x7f-\x9f]+")


class Strict(BaseModel):
    """Base of every config model: unknown keys refused, no type coercion, values frozen."""

    # strict: YAML's surprises (yes -> True, 0123 -> 83) must be refused, not converted. A field's docstring is its
    # description: the settings reference (docs/settings.md) is generated from them.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True)


def is_control(character: str) -> bool:
    """C0 and C1 control characters and the Unicode line and paragraph separators."""
    code = ord(character)
    return code < 32 or 0x7f <= code <= 0x9f or character in "\u2028\u2029"


def one_line_text(value: str) -> str:
    """Plain text on one line, stripped; ValueError for blank text or control characters."""
    # These end up in generated files and log lines: a line break would inject lines into them.
    if not value.strip() or any(is_control(c) for c in value):
        raise ValueError("must be plain text on one line")
    return value.strip()


def photo_path(value: str) -> str:
    """A JPEG or PNG file: a name next to the device list (photos/anna.jpg), or an absolute path on the device."""
    value = one_line_text(value)
    if not value.lower().endswith(PHOTO_SUFFIXES):
        raise ValueError("must be a JPEG or PNG file (.jpg, .jpeg or .png)")
    if ".." in value.split("/") or "\\" in value:
        raise ValueError("must not leave the device list's folder ('..' or backslashes)")
    return value


def clock_time(value: str) -> str:
    """A time of day like "03:30"; ValueError otherwise."""
    if not HHMM.fullmatch(value):
        raise ValueError('must be a time like "03:30"')
    return value


def time_window(value: str) -> str:
    """A window like "03:00-04:00" (it may pass midnight), normalised; ValueError otherwise."""
    start, sep, end = value.partition("-")
    start, end = start.strip(" "), end.strip(" ")  # spaces around the dash are fine; line breaks are not
    if not sep or not HHMM.fullmatch(start) or not HHMM.fullmatch(end) or start == end:
        raise ValueError(f"{value!r} must be a time window like '03:00-04:00'")
    return f"{start}-{end}"


def hex_colour(value: str) -> str:
    """A colour as lower-case #rrggbb; ValueError otherwise."""
    if not HEX_COLOUR.fullmatch(value):
        raise ValueError("must be a colour like '#17592f' (quote it: YAML reads # as a comment)")
    return value.lower()


def hostname(value: str) -> str:
    """A single DNS label as a device id; ValueError otherwise."""
    if not HOSTNAME.fullmatch(value):
        raise ValueError("must be a valid hostname: lower-case letters, digits and '-', at most 63 characters")
    return value


def email_address(value: str) -> str:
    """One plain e-mail address: no display name, no list, nothing that could add a mail header."""
    if not EMAIL.fullmatch(value):
        raise ValueError("must be one plain e-mail address, like anna@example.org")
    return value


def absolute_path(value: str) -> str:
    """An absolute path without control characters or line breaks; ValueError otherwise."""
    if not value.startswith("/") or any(is_control(c) for c in value):
        raise ValueError("must be an absolute path on one line, like /var/lib/palim-kiosk/usage.jsonl")
    return value


def secret_file(value: str) -> str:
    """The absolute path of a file holding a secret (never the secret itself)."""
    if not value.startswith("/") or any(is_control(c) for c in value):
        raise ValueError("must be the absolute path of a file that holds the secret (never the secret itself)")
    return value


def pin_hash(value: str) -> str:
    """An admin_pin_hash as --hash-pin makes it, costly enough to guess; ValueError otherwise (never naming it)."""
    found = PIN_HASH.fullmatch(value)
    if not found:
        raise ValueError("must be a hash made by 'palim-kiosk --hash-pin' (scrypt$...), never the PIN itself")
    n, r, p = (int(x) for x in found.group(1, 2, 3))
    try:
        salt, digest = (base64.b64decode(x, validate=True) for x in found.group(4, 5))
    except (binascii.Error, ValueError):
        raise ValueError("is not a whole hash made by 'palim-kiosk --hash-pin' (its salt or digest is cut "
                         "short): copy the whole line again") from None
    if n & (n - 1) or p < 1:
        raise ValueError(f"is not a hash made by 'palim-kiosk --hash-pin' (scrypt N={n} is not a power of two, or "
                         f"p={p} is 0): make a new one")
    if n < PIN_HASH_MIN_N or r < PIN_HASH_MIN_R:
        raise ValueError(f"is too cheap to guess (scrypt N={n}, r={r}; at least N={PIN_HASH_MIN_N} and "
                         f"r={PIN_HASH_MIN_R} are needed): make a new one with 'palim-kiosk --hash-pin'")
    if 128 * n * r * p > PIN_HASH_MAX_MEMORY:
        raise ValueError(f"asks scrypt for more memory than a kiosk gives it (N={n}, r={r}, p={p}): make a new "
                         f"one with 'palim-kiosk --hash-pin'")
    if len(salt) < 16 or len(digest) < 32:
        raise ValueError("has too short a salt or digest (at least 16 and 32 bytes): make a new one with "
                         "'palim-kiosk --hash-pin'")
    return value


def is_loopback_host(host: str) -> bool:
    """True for localhost and addresses in 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_characters(value: str) -> None:
    # urlsplit silently drops tabs and line breaks: refuse them here, or they would travel on with the URL.
    if any(c.isspace() or is_control(c) for c in value):
        raise ValueError("must be one URL without spaces, line breaks or control characters")


def check_server_url(value: str) -> str:
    """Return the server URL normalised (no trailing slash) or raise ValueError."""
    _url_characters(value)
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be a URL like https://konferenz.example.org")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError("must use https (plain http is only allowed for 127.0.0.1 and localhost)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("must be the server's address only, without a path, query or login")
    try:
        parts.port
    except ValueError as exc:
        raise ValueError(f"has an invalid port ({exc})") from None
    return f"{parts.scheme}://{parts.netloc}"


def check_url_with_path(value: str) -> str:
    """An https URL that may have a path and query (loopback may use http); raise ValueError otherwise."""
    _url_characters(value)
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be a URL like https://ntfy.example.org/topic")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError("must use https (plain http is only allowed for 127.0.0.1 and localhost)")
    if parts.username or parts.password:
        raise ValueError("must not carry a login: put secrets in a token file")
    return value


def room_entropy_bits(room: str) -> float:
    """Upper bound of the random bits in a room name, as an attacker guessing it would count them."""
    body = room.removeprefix("palim-")
    if re.fullmatch(r"[A-Za-z]+(?:[-_][A-Za-z]+)*", body):
        # Words, not random characters: count each as one pick from a large dictionary.
        return 16.0 * len(re.split(r"[-_]", body))
    alphabet = sum(size for pattern, size in ((r"[a-z]", 26), (r"[A-Z]", 26), (r"[0-9]", 10), (r"[-_]", 2))
                   if re.search(pattern, body))
    if alphabet == 0 or len(set(body)) <= len(body) / 4:
        return 0.0  # repeats such as "aaaa1111" carry next to nothing
    return len(body) * math.log2(alphabet)


def normalise_pin(value: str) -> str:
    """Return a certificate pin as 64 lower-case hex digits or raise ValueError."""
    text = value.lower()
    if text.startswith("sha256:") or text.startswith("sha256/"):
        text = text[7:]
    text = text.replace(":", "")
    if not SHA256_HEX.fullmatch(text):
        raise ValueError("must be a SHA-256 fingerprint: 64 hex digits, colons allowed")
    return text


# Field types whose every item is checked on its own, so a problem points at the item (tls_pins[1]), not the list.
CertificatePin = Annotated[str, AfterValidator(normalise_pin)]
TimeWindow = Annotated[str, AfterValidator(time_window)]
