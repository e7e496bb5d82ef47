"""The one bounded way to ask a server: a total deadline, capped headers and body (gzip/deflate counted as decoded),
no redirects, the content type checked; the device's CA store or exactly one of the configured leaf pins.

Every background request of the kiosk and palim-provision goes through `fetch` (presence, the family notices,
server-check and its BOSH login, the service screen's check). requests/urllib3 only bound each read: a server that
sends one byte a second, headers without end or a 1 MB gzip answer that unpacks to gigabytes held the kiosk's worker
forever or took gigabytes. Here a watchdog shuts the socket down at the deadline, whatever it is waiting for; the
status line and headers are read through a counter; the body is decoded in steps, never past the cap. A redirect is
never followed (a pinned https address must not hand the request with the room and the token to another place).
No Qt.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kiosk.core.https import leaf_pinned, tls_context

DEADLINE_S = 10.0  # the whole request: connect, TLS, headers, body
MAX_HEADER_BYTES = 16 * 1024  # the status line and all headers; nginx answers with well under 1 KiB
MAX_BODY_BYTES = 1 << 20  # the decoded body; callers that expect more say so
_CHUNK = 16 * 1024


# The end (time.monotonic) of a whole job of several requests, like server-check: each request ends by it too.
_job_end: contextvars.ContextVar[float | None] = contextvars.ContextVar("job_end", default=None)


@contextlib.contextmanager
def job_deadline(seconds: float):
    """Every fetch in this block (this thread) ends within `seconds` from now, whatever its own deadline."""
    token = _job_end.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _job_end.reset(token)


def time_left(seconds: float) -> float:
    """`seconds`, or less when the job's deadline comes sooner; 0 when it has passed."""
    end = _job_end.get()
    return seconds if end is None else max(0.0, min(seconds, end - time.monotonic()))


class FetchError(Exception):
    """The server did not give a usable answer in time and size; the message says which limit, never a secret."""


@dataclass(frozen=True)
class Answer:
    """A server's answer, read within the limits."""

    status: int
    content_type: str  # media type only, lower-cased ("application/json"), "" when none was sent
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class _Counted:
    """The socket's file for HTTPResponse: counts what the status line and headers take, until `lift()`."""

    def __init__(self, raw, limit: int):
        self._raw = raw
        self._left = limit

    def lift(self) -> None:
        self._left = None

    def _take(self, data: bytes) -> bytes:
        if self._left is not None:
            self._left -= len(data)
            if self._left < 0:
                raise FetchError(f"headers larger than {MAX_HEADER_BYTES // 1024} KiB")
        return data

    def readline(self, limit: int = -1) -> bytes:
        if self._left is not None:
            limit = self._left + 1 if limit < 0 else min(limit, self._left + 1)
        return self._take(self._raw.readline(limit))

    def read(self, amount: int | None = None) -> bytes:
        return self._take(self._raw.read(amount) if amount is not None else self._raw.read())

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        if self._left is not None:
            self._take(bytes(count))
        return count

    def __getattr__(self, name):
        return getattr(self._raw, name)


class _Response(http.client.HTTPResponse):
    header_limit = MAX_HEADER_BYTES

    def __init__(self, sock, *args, **kwargs):
        super().__init__(sock, *args, **kwargs)
        self.fp = _Counted(self.fp, self.header_limit)


class _Http(http.client.HTTPConnection):
    response_class = _Response


class _Https(http.client.HTTPSConnection):
    """HTTPS whose plain socket is handed to the watchdog before the TLS handshake (a handshake can drip too)."""

    response_class = _Response

    def __init__(self, *args, watchdog: "Watchdog", context: ssl.SSLContext, **kwargs):
        super().__init__(*args, context=context, **kwargs)
        self._watchdog = watchdog
        self._tls = context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self._watchdog.watch(self.sock)
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)


class Watchdog:
    """Shuts a connection's socket down at the deadline: a blocked read returns at once, whatever it waits for
    (per-read timeouts alone never end a server that sends a byte a second)."""

    def __init__(self, seconds: float):
        self._sock: socket.socket | None = None
        self._fired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self._fired:
                self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            try:
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)  # the plain socket's, also under TLS
            except OSError:
                pass

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            self._shut()

    @property
    def fired(self) -> bool:
        return self._fired

    def cancel(self) -> None:
        self._timer.cancel()


def _decoder(encoding: str):
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib-wrapped, as RFC 9110 means it
    raise FetchError(f"an answer in an encoding this device does not read ({encoding[:40]})")


def _read_body(response: http.client.HTTPResponse, limit: int) -> bytes:
    """The decoded body, at most `limit` bytes; FetchError past it (the rest is never decoded)."""
    decoder = _decoder((response.getheader("Content-Encoding") or "").strip().lower())
    length = response.getheader("Content-Length")
    if decoder is None and length and length.strip().isdigit() and int(length) > limit:
        raise FetchError(f"an answer larger than {_size(limit)} (Content-Length {int(length)})")
    out = bytearray()
    while True:
        chunk = response.read(_CHUNK)
        if not chunk:
            break
        if decoder is None:
            out += chunk
        else:
            # Decoded in steps of at most what is still allowed: a gzip bomb never unpacks past the cap.
            data = chunk
            while data:
                out += decoder.decompress(data, limit - len(out) + 1)
                data = decoder.unconsumed_tail
                if len(out) > limit:
                    break
        if len(out) > limit:
            raise FetchError(f"an answer larger than {_size(limit)}")
    if decoder is not None:
        out += decoder.flush(limit - len(out) + 1)
        if len(out) > limit:
            raise FetchError(f"an answer larger than {_size(limit)}")
    return bytes(out)


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"


def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def fetch(url: str, *, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
          pins: tuple[str, ...] = (), deadline_s: float = DEADLINE_S, max_bytes: int = MAX_BODY_BYTES,
          accept: tuple[str, ...] | None = None, read_body: bool = True) -> Answer:
    """Ask URL once within the limits; FetchError for every way it fails (its message says how, in English).

    pins: SHA-256 (hex) of leaf certificates, one of which the server must show (https only); none: the device's CA
    store. accept: the media types a 2xx answer may have ("": none sent; None: any). read_body=False reads the status and headers
    only (a notice needs no more). A 3xx is returned as it is, never followed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) address: {parts.scheme or 'no scheme'}")
    if pins and parts.scheme != "https":
        raise FetchError("a pinned server is asked over https only")
    deadline_s = time_left(deadline_s)
    if deadline_s <= 0:
        raise FetchError("not asked: the time for the whole check is used up")
    start = time.monotonic()
    watchdog = Watchdog(deadline_s)
    left = lambda: max(0.05, deadline_s - (time.monotonic() - start))  # noqa: E731
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = _Https(parts.hostname, parts.port, timeout=left(),
                                                        context=tls_context(pins), watchdog=watchdog)
    else:
        connection = _Http(parts.hostname, parts.port, timeout=left())
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        try:
            connection.connect()
            watchdog.watch(connection.sock)
            if pins and not leaf_pinned(connection.sock, pins):
                raise FetchError("the server's certificate matches none of the configured pins")
            sent = {"Accept-Encoding": "gzip, deflate", "Connection": "close", **(headers or {})}
            if accept and "Accept" not in sent:
                sent["Accept"] = ", ".join(accept)
            connection.sock.settimeout(left())
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            if watchdog.fired:  # the headers were cut off by the deadline: nothing of them counts
                raise FetchError(f"no complete answer within {deadline_s:.3g} s")
            response.fp.lift()
            status = response.status
            kind = _media_type(response.getheader("Content-Type"))
            if accept is not None and 200 <= status < 300 and kind not in accept:
                wanted = " or ".join(a or "none" for a in accept)
                raise FetchError(f"an answer of type {kind[:60] or 'none'}, not {wanted}")
            data = _read_body(response, max_bytes) if read_body else b""
            answer_headers = {name.lower(): value[:1000] for name, value in response.getheaders()}
        except (http.client.HTTPException, OSError, ValueError, zlib.error) as exc:
            # A socket timeout is the deadline too (each wait is set to the time left): on a busy machine it may
            # come before the watchdog's thread has marked the deadline, and must read the same.
            if watchdog.fired or isinstance(exc, TimeoutError):
                raise FetchError(f"no complete answer within {deadline_s:.3g} s") from None
            if isinstance(exc, zlib.error):
                raise FetchError("an answer that does not unpack") from None
            if isinstance(exc, ssl.SSLError):
                raise FetchError(f"no TLS connection ({exc.reason or type(exc).__name__})") from None
            if isinstance(exc, OSError):
                raise FetchError(f"no connection ({exc.strerror or type(exc).__name__})") from None
            # http.client's own limits (more than 100 headers) say so in their message; the others are named
            detail = str(exc)[:60] if type(exc) is http.client.HTTPException else type(exc).__name__
            raise FetchError(f"no usable HTTP answer ({detail})") from None
        if watchdog.fired:
            raise FetchError(f"no complete answer within {deadline_s:.3g} s")
        return Answer(status, kind, data, answer_headers)
    finally:
        watchdog.cancel()
        connection.close()
