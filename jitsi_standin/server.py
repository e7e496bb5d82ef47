"""A loopback HTTPS stand-in for a city's Jitsi server; over 400 lines because it speaks the whole IFrame API contract."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import ipaddress
import json
import logging
import os
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from . import whitelist
from .tokens import Refusal, TokenAuth

log = logging.getLogger(__name__)

CERT_FILE = "standin-cert.pem"
KEY_FILE = "standin-key.pem"
# A room page's path: one segment without dots (so /favicon.ico and friends get a 404, not a room page), not starting
# with "_" (the stand-in's own pages).
ROOM_PATH = re.compile(r"^/(?!_)([^/.]+)$")
_MAX_BODY = 1 << 20
_MAX_POLL_WAIT = 5.0
_TLS_HANDSHAKE_TIMEOUT = 10.0
_CERT_DAYS = 90


def static_file(name: str) -> bytes:
    """Read one file of the stand-in's static folder (room.html, room.js, host.html, external_api.js)."""
    return resources.files(__package__).joinpath("static", name).read_bytes()


def whitelist_script() -> bytes:
    """The override whitelists for room.js, which applies only what a real Jitsi applies (whitelist.py)."""
    lists = {"embedded": whitelist.whitelists(embedded=True), "top": whitelist.whitelists(embedded=False)}
    return f"window.PALIM_STANDIN_WHITELISTS = {json.dumps(lists)};\n".encode()


def _generate_cert(cert_path: Path, key_path: Path, days: int = _CERT_DAYS) -> None:
    """Write a fresh self-signed ECDSA certificate for 127.0.0.1 and localhost, valid for `days` days."""
    # Imported here: only test and demo code needs cryptography, and only when a certificate must be made.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Palim Jitsi stand-in (loopback only)")])
    now = datetime.datetime.now(datetime.timezone.utc)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))  # tolerate small clock differences
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        # A self-signed leaf used as its own trust anchor: strict verifiers want these extensions present.
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _cert_still_usable(cert_path: Path, key_path: Path) -> bool:
    """Tell whether a stored certificate exists and stays valid for at least another day."""
    if not (cert_path.is_file() and key_path.is_file()):
        return False
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError:
        return False
    remaining = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return remaining > datetime.timedelta(days=1)


class _TLSServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer that does the TLS handshake in the per-request thread."""

    daemon_threads = True
    # Long polls may be in flight at stop(); they are daemon threads and are woken anyway.
    block_on_close = False

    def __init__(self, address: tuple[str, int], standin: StandinServer, context: ssl.SSLContext) -> None:
        self.standin = standin
        self.ssl_context = context
        super().__init__(address, standin.handler_class)

    def finish_request(self, request: socket.socket, client_address: Any) -> None:
        """Wrap the accepted socket in TLS here, so a stalled client cannot block the accept loop."""
        request.settimeout(_TLS_HANDSHAKE_TIMEOUT)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            # Browsers probe and drop connections while they decide about a self-signed certificate.
            log.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed request quietly; clients hanging up mid-response are normal here."""
        log.debug("request from %s failed", client_address, exc_info=True)


class StandinHandler(http.server.BaseHTTPRequestHandler):
    """Routes the stand-in's few endpoints; subclass it (and set StandinServer.handler_class) to serve more.

    A subclass reaches its StandinServer as self.server.standin and answers with send_body() or send_json().
    """

    server: _TLSServer
    server_version = "PalimJitsiStandin/1"
    timeout = 30  # seconds of client silence before a thread gives up; long polls last at most _MAX_POLL_WAIT

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature fixed by the base class)
        """Send access logs to logging instead of stderr."""
        log.debug("%s " + format, self.address_string(), *args)

    def send_body(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        """Send a complete response that no cache may keep."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def refuse_presence(self, room: str, query: dict, exists: bool) -> bool:
        """mod_muc_size's refusals, the same for /room-size and /room: an injected failure, 400, 403 for a token,
        404 for a room that is not there.

        As the real plugin: `domain` is the XMPP domain, the room is looked up as <room>@conference.<domain>, so
        any other domain (the MUC domain itself, say) finds no room; names are compared as sent (no lower-casing).
        With token verification (token mode) the token is checked first, and a room that does not exist, or is
        asked for under another domain than the token's `sub`, answers 403 too (token/util.lib.lua's verify_room),
        so an empty room is 403 there, not 404."""
        standin = self.server.standin
        domain = query.get("domain", [""])[0]
        if standin.room_size_status != 200:
            self.send_body(standin.room_size_status, b"injected failure\n")
        elif not room or not domain:
            self.send_body(400, b"room and domain are required\n")
        elif standin.presence_refused(room, query) or (standin.token_auth is not None and (
                not exists or domain != standin.xmpp_domain)):
            self.send_body(403, b"")
        elif not exists or domain != standin.xmpp_domain:
            self.send_body(404, b"")
        else:
            return False
        return True

    def send_json(self, status: int, value: Any) -> None:
        """Send a JSON response."""
        self.send_body(status, json.dumps(value).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802 (name fixed by the base class)
        """Serve the API script, room pages, the test host page and the poll endpoint."""
        standin = self.server.standin
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path != "/_standin/poll":  # polls arrive every second and would drown everything else
            standin.record_request(parts.path)

        if parts.path == "/external_api.js":
            if standin.delay_external_api > 0:
                time.sleep(standin.delay_external_api)
            status = standin.external_api_status
            if status != 200:
                self.send_body(status, f"external_api.js unavailable (injected {status})\n".encode())
                return
            self.send_body(200, static_file("external_api.js"), "text/javascript; charset=utf-8")
        elif parts.path == "/_standin/poll":
            room = query.get("room", [""])[0]
            if not room:
                self.send_json(400, {"error": "room missing"})
                return
            try:
                wait = min(float(query.get("wait", ["0"])[0]) / 1000.0, _MAX_POLL_WAIT)
            except ValueError:
                wait = 0.0
            self.send_json(200, {"events": standin._take_events(room, wait)})
        elif parts.path == "/room-size":
            # Prosody's mod_muc_size: {"participants": N} for a room that exists, 404 for one that does not.
            room = query.get("room", [""])[0]
            if self.refuse_presence(room, query, room in standin.room_size):
                return
            self.send_json(200, {"participants": standin.room_size[room]})
        elif parts.path == "/room":
            # mod_muc_size's occupant list: [{jid, email, display_name}] without the focus, 404 for no such room.
            room = query.get("room", [""])[0]
            if self.refuse_presence(room, query, room in standin.room_occupants):
                return
            muc = f"conference.{standin.xmpp_domain}"
            self.send_json(200, [{"jid": f"{room}@{muc}/occupant{index}", "email": "", "display_name": name or ""}
                                 for index, name in enumerate(standin.room_occupants[room])])
        elif parts.path in ("/config.js", "/interface_config.js"):
            # As a stock server serves them (nginx maps them to /etc/jitsi/meet/); which set: server_config.
            name = parts.path[1:] if standin.server_config == "good" else parts.path[1:-3] + "-bad.js"
            body = static_file(name)
            if name == "config.js" and standin.token_auth is not None:
                body += b"config.hosts.anonymousdomain = 'guest.meet.jitsi';  // token mode: the family joins as guests\n"
            self.send_body(200, body, "text/javascript; charset=utf-8")
        elif parts.path == "/_standin/whitelist.js":
            self.send_body(200, whitelist_script(), "text/javascript; charset=utf-8")
        elif parts.path == "/_standin/room.js":
            self.send_body(200, static_file("room.js"), "text/javascript; charset=utf-8")
        elif parts.path == "/_standin/host.html":
            self.send_body(200, static_file("host.html"), "text/html; charset=utf-8")
        elif ROOM_PATH.match(parts.path):
            self.send_body(200, standin.room_page(unquote(parts.path[1:]), query), "text/html; charset=utf-8")
        else:
            self.send_body(404, b"not found\n")

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802 (name fixed by the base class)
        """Accept a report from a room page."""
        standin = self.server.standin
        path = urlsplit(self.path).path
        standin.record_request(path)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY:
            self.close_connection = True
            self.send_json(413 if length > _MAX_BODY else 400, {"error": "bad Content-Length"})
            return
        # Read the body even when it will be refused: closing with unread data makes TCP reset the connection,
        # and the client then sees no response at all.
        body = self.rfile.read(length)
        if path != "/_standin/report":
            self.send_body(404, b"not found\n")
            return
        try:
            report = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self.send_json(400, {"error": "body is not JSON"})
            return
        if not isinstance(report, dict):
            self.send_json(400, {"error": "report must be a JSON object"})
            return
        standin.add_report(report)
        self.send_json(200, {"ok": True})


class StandinServer:
    """Loopback HTTPS server that pretends to be a Jitsi deployment for tests and demos."""

    # Subclasses (the benchmarks in bench/) may serve extra pages with a subclass of StandinHandler.
    handler_class: type[StandinHandler] = StandinHandler

    def __init__(self, host: str = "127.0.0.1", port: int = 0, cert_dir: str | os.PathLike[str] | None = None,
                 *, server_config: str = "good", cert_days: int = _CERT_DAYS, app_id: str | None = None,
                 app_secret: str | None = None, token_domain: str | None = None):
        if host != "127.0.0.1":
            # The stand-in has no authentication at all: it must never be reachable from the network.
            raise ValueError("the Jitsi stand-in binds to 127.0.0.1 only")
        if server_config not in ("good", "bad"):
            raise ValueError("server_config is 'good' or 'bad'")
        # Which config.js and interface_config.js it serves: "good" as docs/jitsi-server.md sets a server up,
        # "bad" an old stock setup locked with tokens and no guests (what palim-provision server-check must catch).
        self.server_config = server_config
        self.cert_days = cert_days  # a certificate it makes is valid this long (reused ones keep theirs)
        self.host = host
        self.port = port
        # Token mode (tokens.py): with an app id and secret every join and presence request needs a token Prosody's
        # token authentication would accept; `sub` must name token_domain (default: the host).
        if (app_id is None) != (app_secret is None):
            raise ValueError("token mode needs both app_id and app_secret")
        self.token_auth = (TokenAuth(app_id, app_secret, token_domain or host)
                           if app_id is not None and app_secret is not None else None)
        # The XMPP domain (Prosody's VirtualHost): presence wants it as domain=, a token's sub names it.
        self.xmpp_domain = token_domain or host
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._tmp_dir: str | None = None
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        self.cert_sha256 = ""
        self.external_api_status = 200
        self.delay_external_api = 0.0
        # Presence as mod_muc_size reports it: room -> participants (absent: 404); any other status is injected.
        self.room_size: dict[str, int] = {}
        self.room_size_status = 200
        # /room: room -> the occupants' display names (None: an occupant who typed none); absent: 404.
        self.room_occupants: dict[str, list[str | None]] = {}
        self._cond = threading.Condition()
        self._reports: list[dict[str, Any]] = []
        self._requests: list[str] = []
        self._dropped: list[str] = []
        self._joins: list[tuple[str, Refusal | None]] = []
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._stopping = False
        self._httpd: _TLSServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> StandinServer:
        """Create or reuse the certificate, bind, and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("stand-in already started")
        if self._cert_dir is None:
            self._tmp_dir = tempfile.mkdtemp(prefix="jitsi-standin-")
            directory = Path(self._tmp_dir)
        else:
            directory = self._cert_dir
            directory.mkdir(parents=True, exist_ok=True)
        self.cert_path = directory / CERT_FILE
        self.key_path = directory / KEY_FILE
        if not _cert_still_usable(self.cert_path, self.key_path):
            _generate_cert(self.cert_path, self.key_path, self.cert_days)
        der = ssl.PEM_cert_to_DER_cert(self.cert_path.read_text())
        self.cert_sha256 = hashlib.sha256(der).hexdigest()

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        self._stopping = False
        self._httpd = _TLSServer((self.host, self.port), self, context)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="jitsi-standin", daemon=True
        )
        self._thread.start()
        log.info("Jitsi stand-in serving %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, wake pending long polls and remove a temporary certificate."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = None

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------------------------

    @property
    def domain(self) -> str:
        """The IFrame API's domain argument: host and port, no scheme."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL without a trailing slash."""
        return f"https://{self.domain}"

    def host_page_url(self, room: str, *, cross_origin: bool = True, **params: str) -> str:
        """URL of the test-only embedding page; cross_origin serves it from localhost so the iframe is foreign."""
        # The kiosk's own page (palim://kiosk) is cross-origin to Jitsi; localhost vs 127.0.0.1 reproduces that.
        base = f"https://localhost:{self.port}" if cross_origin else self.url
        query = {"room": room, "domain": self.domain, **params}
        return f"{base}/_standin/host.html?{urlencode(query)}"

    # -- recording -------------------------------------------------------------------------------------------

    @property
    def reports(self) -> list[dict[str, Any]]:
        """Snapshot of the reports posted by room pages, oldest first."""
        with self._cond:
            return list(self._reports)

    @property
    def requests(self) -> list[str]:
        """Snapshot of request paths seen (without query; poll requests are left out), oldest first."""
        with self._cond:
            return list(self._requests)

    @property
    def dropped_overrides(self) -> list[str]:
        """Overrides the room pages dropped as a real Jitsi would (not on its whitelists), as "room: config.key"."""
        with self._cond:
            return list(self._dropped)

    @property
    def join_attempts(self) -> list[tuple[str, Refusal | None]]:
        """Every room page served, oldest first: the room and, in token mode, why the join was refused (None: let
        in). A kiosk that gives up at once on a refused token makes exactly one."""
        with self._cond:
            return list(self._joins)

    def room_page(self, room: str, query: dict[str, list[str]]) -> bytes:
        """The room page for one join; in token mode a refused token makes it report the refusal and join nothing."""
        refusal = self.token_auth.check(query.get("jwt", [""])[0], room) if self.token_auth else None
        with self._cond:
            self._joins.append((room, refusal))
        page = static_file("room.html")
        if refusal is None:
            return page
        log.info("join of %s refused: %s (%s)", room, refusal.name, refusal.reason)
        script = f"<script>window.PALIM_STANDIN_REFUSAL = {json.dumps(refusal.error())};</script>\n".encode()
        return page.replace(b'<script src="/_standin/whitelist.js">', script + b'<script src="/_standin/whitelist.js">')

    def presence_refused(self, room: str, query: dict[str, list[str]]) -> bool:
        """In token mode, whether mod_muc_size (enable_roomsize_token_verification) refuses this presence request."""
        return self.token_auth is not None and self.token_auth.check(query.get("token", [""])[0], room) is not None

    def take_dropped_overrides(self) -> list[str]:
        """The dropped overrides seen so far, forgetting them (a test's teardown checks and resets this way)."""
        with self._cond:
            taken, self._dropped = self._dropped, []
            return taken

    def clear(self) -> None:
        """Forget reports, requests, dropped overrides and undelivered events."""
        with self._cond:
            self._reports.clear()
            self._requests.clear()
            self._dropped.clear()
            self._joins.clear()
            self._events.clear()

    def wait_for_report(
        self, type: str, timeout: float = 10, predicate: Callable[[dict[str, Any]], bool] | None = None  # noqa: A002
    ) -> dict[str, Any]:
        """Return the first report (seen or future) of this type that satisfies predicate; TimeoutError if none."""
        deadline = time.monotonic() + timeout

        def find() -> dict[str, Any] | None:
            for report in self._reports:
                if report.get("type") == type and (predicate is None or predicate(report)):
                    return report
            return None

        with self._cond:
            while (found := find()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no {type!r} report within {timeout} s; reports so far: {json.dumps(self._reports)}"
                    )
                self._cond.wait(remaining)
            return found

    def record_request(self, path: str) -> None:
        """Note a request path (the handler calls this; subclasses may override it to note more)."""
        with self._cond:
            self._requests.append(path)

    def add_report(self, report: dict[str, Any]) -> None:
        """Keep a report posted by a room page and wake wait_for_report() (the handler calls this)."""
        with self._cond:
            self._reports.append(report)
            if report.get("type") == "loaded" and isinstance(report.get("dropped"), list):
                self._dropped += [f"{report.get('room')}: {key}" for key in report["dropped"]]
            self._cond.notify_all()

    # -- remote control --------------------------------------------------------------------------------------

    def send(self, room: str, event_name: str, payload: dict[str, Any] | None = None, *, raw: bool = False) -> None:
        """Queue an event for the room page to emit as if Jitsi sent it ("family-hangup" ends the call).

        errorOccurred payloads are nested under "error" as Jitsi's API.js does, unless raw is true or the payload
        already has an "error" key.
        """
        if event_name == "errorOccurred" and not raw and payload is not None and "error" not in payload:
            payload = {"error": payload}
        with self._cond:
            self._events.setdefault(room, []).append({"name": event_name, "data": payload})
            self._cond.notify_all()

    def fail_peer_connection(self, room: str, p2p: bool) -> None:
        """Make the room say peerConnectionFailure, as Jitsi does when the direct (p2p) or the bridge's media
        connection breaks; the payload carries isP2P as the IFrame API gives it."""
        self.send(room, "peerConnectionFailure", {"isP2P": p2p})

    def _take_events(self, room: str, wait: float) -> list[dict[str, Any]]:
        """Hand out the queued events of one room, waiting up to wait seconds for the first one."""
        deadline = time.monotonic() + wait
        with self._cond:
            while not self._events.get(room) and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return self._events.pop(room, [])
