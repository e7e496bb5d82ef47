"""Is a city's Jitsi server ready for kiosks? One check for `palim-provision server-check` and the service screen.

What it looks at: the TLS certificate (trusted by the system's CA store, or the leaf matches a configured pin; days
left), `external_api.js` (is it the IFrame API), `config.js` and `interface_config.js` (the settings only the server
can make: watermarks, app promotion, welcome and close page, deep linking, prejoin, p2p, tokens and guests), and
presence (mod_muc_size answers for a random room). Each finding is one line: ok, warn or fail, and for warn and
fail the fix in one sentence, naming the key and the file an admin edits. The JavaScript runs as in a browser
(kiosk.core.jsconfig: V8 with limits), and whether rooms need a token is asked of Prosody itself, with an anonymous
XMPP login (kiosk.core.xmpplogin). No Qt: the kiosk and palim-provision run this in a child process
(kiosk.core.servercheck_child).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import truststore

from kiosk.core.boundedhttp import Answer, FetchError, Watchdog, fetch, job_deadline, time_left
from kiosk.core.jsconfig import Outcome, Page, external_api_outcome, get
from kiosk.core.serverrules import (FAIL, INTERFACE_FILE, OK, WARN, Finding, ServerReport, config_file, config_findings,
                                    deep_linking_on, interface_findings)
from kiosk.core.tokenclaims import token_fits_room
from kiosk.core.xmpplogin import anonymous_login

EXPIRY_WARN_DAYS = 21
MAX_SCRIPT_BYTES = 4 << 20  # external_api.min.js is a few hundred kB; anything far bigger is not it
MAX_PRESENCE_BYTES = 256 << 10  # mod_muc_size's answer is a few bytes, its /room list a few kB
MUC_SIZE_TYPES = ("application/json", "")  # mod_muc_size sends its JSON without a Content-Type
TIMEOUT_S = 5.0  # each request's whole deadline (boundedhttp)
# The whole check's network time is this many request timeouts (TLS, three scripts, the BOSH logins, presence); the
# child process gets kiosk.core.servercheck_child.START_ALLOWANCE_S on top.
REQUESTS_PER_CHECK = 10
# How web servers name JavaScript: nginx's and Apache's mime.types (application/javascript), RFC 9239's
# text/javascript, and the older application/x-javascript.
SCRIPT_TYPES = frozenset({"application/javascript", "text/javascript", "application/x-javascript",
                          "application/ecmascript", "text/ecmascript"})


# ------------------------------------------------------------------------------------------- TLS


@dataclass
class _Tls:
    findings: list[Finding]
    pin: str | None = None  # the configured pin the leaf matched; None: trust the system's CA store
    usable: bool = False  # the HTTP checks may go on


def _handshake(host: str, port: int, context: ssl.SSLContext, timeout: float) -> bytes:
    timeout = time_left(timeout)
    if timeout <= 0:
        raise socket.timeout("the time for the whole check is used up")
    watchdog = Watchdog(timeout)  # a handshake that drips ends at the deadline too
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            watchdog.watch(raw)
            with context.wrap_socket(raw, server_hostname=host) as tls:
                return tls.getpeercert(binary_form=True) or b""
    finally:
        watchdog.cancel()


def _days_left(der: bytes, now: datetime.datetime) -> tuple[int, str]:
    from cryptography import x509

    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    return (not_after - now).days, not_after.date().isoformat()


def check_tls(server: str, pins: tuple[str, ...], timeout: float, now: datetime.datetime) -> _Tls:
    parts = urlsplit(server)
    host, port = parts.hostname or "", parts.port or 443
    if parts.scheme != "https":
        return _Tls([Finding(FAIL, "tls", f"{server} is not https", "use the server's https:// address")])
    pins = tuple(p.lower() for p in pins)
    trusted, reason = True, ""
    try:
        der = _handshake(host, port, truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT), timeout)
    except ssl.SSLCertVerificationError as exc:
        trusted, reason = False, exc.verify_message or str(exc)
    except ssl.SSLError as exc:
        return _Tls([Finding(FAIL, "tls", f"no TLS connection to {host}:{port}: {exc.reason or exc}",
                             "make the server speak TLS 1.2 or newer on this port")])
    except OSError as exc:
        return _Tls([Finding(FAIL, "reachable", f"cannot reach {host}:{port}: {exc.strerror or exc}",
                             "check the address, DNS and the firewall between here and the server")])
    if not trusted:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # only to read the leaf and compare it with the pins
        try:
            der = _handshake(host, port, context, timeout)
        except OSError as exc:
            return _Tls([Finding(FAIL, "tls", f"no TLS connection to {host}:{port}: {exc}",
                                 "make the server speak TLS 1.2 or newer on this port")])
    leaf = hashlib.sha256(der).hexdigest()
    findings: list[Finding] = []
    matched = leaf if leaf in pins else None
    if pins and matched is None:
        findings.append(Finding(FAIL, "tls", f"the certificate (sha256 {leaf}) matches none of the configured "
                                             "tls_pins: the kiosks refuse it",
                                "put the new certificate's sha256 into tls_pins (keep the old one until every "
                                "device has the new list)"))
        return _Tls(findings)
    if not trusted and matched is None:
        findings.append(Finding(FAIL, "tls", f"no CA this system trusts vouches for the certificate ({reason})",
                                "use a certificate from a public CA (Let's Encrypt), install the city's CA on the "
                                f"devices, or pin the leaf: tls_pins: ['{leaf}']"))
        return _Tls(findings)
    if trusted and matched:
        findings.append(Finding(OK, "tls", "the chain is valid for this system's CA store and the leaf matches a "
                                           "configured pin"))
    elif trusted:
        findings.append(Finding(OK, "tls", "the chain is valid for this system's CA store"))
    else:
        findings.append(Finding(OK, "tls", f"the leaf matches a configured pin (no CA vouches for it: {reason})"))
    days, until = _days_left(der, now)
    if days < 0:
        findings.append(Finding(FAIL, "certificate", f"expired on {until}", "renew the certificate now"))
    elif days < EXPIRY_WARN_DAYS:
        findings.append(Finding(WARN, "certificate", f"expires in {days} days ({until})",
                                "renew the certificate (and, with pins, add the new pin to every device first)"))
    else:
        findings.append(Finding(OK, "certificate", f"valid for {days} more days (until {until})"))
    return _Tls(findings, matched, True)


# ------------------------------------------------------------------------------------------- HTTP


def _fetch(server: str, path: str, pin: str | None, timeout: float, params: dict | None = None,
           max_bytes: int = MAX_SCRIPT_BYTES) -> Answer:
    """One bounded GET (kiosk.core.boundedhttp): the whole request within `timeout`, never a redirect followed."""
    url = server + path + (("&" if "?" in path else "?") + urlencode(params) if params else "")
    return fetch(url, pins=(pin,) if pin else (), deadline_s=timeout, max_bytes=max_bytes)


def _script(server: str, name: str, pin: str | None, timeout: float) -> tuple[str | None, Finding | None]:
    """The text of /NAME, or a fail finding."""
    try:
        response = _fetch(server, "/" + name, pin, timeout)
    except FetchError as exc:
        if str(exc).startswith("an answer larger than"):
            return None, Finding(FAIL, name, "larger than 4 MiB: not Jitsi's file",
                                 f"serve jitsi-meet's own {name} at the server's root")
        return None, Finding(FAIL, name, f"no answer: {exc}", "check the web server (nginx) in front of Jitsi")
    if response.status != 200:
        return None, Finding(FAIL, name, f"HTTP {response.status} for {server}/{name}",
                             f"serve jitsi-meet's {name} at the server's root, as the Debian package's nginx site does")
    if response.content_type not in SCRIPT_TYPES:
        return None, Finding(FAIL, name, f"served as {response.content_type[:60] or 'no type'}, not as JavaScript: "
                                         "a browser runs none of it",
                             f"serve jitsi-meet's {name} as application/javascript (nginx: the mime.types of Debian)")
    return response.body.decode("utf-8", "replace"), None


def _script_finding(name: str, variable: str, outcome: Outcome, file: str) -> Finding | None:
    """What went wrong running a settings script (None: it ran to the end and left its object)."""
    if outcome.syntax:
        return Finding(FAIL, name, f"does not compile (line {outcome.line}: {outcome.error}): the browser runs "
                                   "none of it", f"fix line {outcome.line} of {file}")
    if outcome.value is None:
        why = f" (it stops at line {outcome.line}: {outcome.error})" if outcome.error else ""
        return Finding(FAIL, name, f"leaves no {variable} object{why}",
                       f"serve jitsi-meet's {name}, which starts with 'var {variable} = {{'")
    if outcome.error:
        where = f"line {outcome.line}" if outcome.line else "a line"
        lost = f" ({outcome.lines_lost} more line(s) never run)" if outcome.lines_lost else ""
        return Finding(WARN, name, f"{where} throws {outcome.error}: the browser stops there, nothing after it "
                                   f"is applied{lost}; the findings below are what is in effect",
                       f"fix {where} of {file}")
    return None


def check_external_api(server: str, pin: str | None, timeout: float) -> Finding:
    source, problem = _script(server, "external_api.js", pin, timeout)
    if problem is not None:
        return problem
    parts = urlsplit(server)
    defined, outcome = external_api_outcome(source or "", parts.hostname or "", parts.port)
    if defined:
        return Finding(OK, "external_api.js", "the IFrame API (it defines JitsiMeetExternalAPI)")
    if outcome.syntax:
        what = f"it does not compile as JavaScript (line {outcome.line}: {outcome.error})"
    elif outcome.error:
        what = f"it throws at line {outcome.line} ({outcome.error}) and does not define JitsiMeetExternalAPI"
    else:
        what = "it does not define JitsiMeetExternalAPI"
    return Finding(FAIL, "external_api.js", f"served, but {what}",
                   "serve jitsi-meet's libs/external_api.min.js as /external_api.js")


def check_scripts(server: str, pin: str | None, timeout: float, has_token: bool
                  ) -> tuple[list[Finding], dict[str, Any]]:
    """config.js and interface_config.js run on one page, as the browser runs them, and the effective values
    judged; a throw stops its script there (what came before stays)."""
    out: list[Finding] = []
    config: dict[str, Any] = {}
    parts = urlsplit(server)
    host = parts.hostname or ""
    sources = {name: _script(server, name, pin, timeout) for name in ("config.js", "interface_config.js")}
    with Page(host, parts.port) as page:
        for name, variable, file in (("config.js", "config", config_file(host)),
                                     ("interface_config.js", "interfaceConfig", INTERFACE_FILE)):
            source, problem = sources[name]
            outcome = None
            if problem is None:
                outcome = page.settings(source or "", variable)
                problem = _script_finding(name, variable, outcome, file)
            if problem is not None:
                out.append(problem)
            if outcome is None or outcome.value is None:
                continue
            if name == "config.js":
                config = outcome.value
                login = anonymous_login(_bosh_url(server, config), _xmpp_domain(config, host), pin, timeout)
                out += config_findings(config, has_token, host, login)
            else:
                out += interface_findings(outcome.value, deep_linking_on(config) if config else True)
    return out, config


def _bosh_url(server: str, config: dict[str, Any]) -> str:
    """The BOSH endpoint on this server: config.bosh's path (a full URL, '//host/…' or '/…'), else /http-bind.
    Only the server's own origin is asked: a stock config.js still names its placeholder host."""
    bosh = config.get("bosh")
    path = urlsplit(bosh).path if isinstance(bosh, str) and bosh else "/http-bind"
    return server + (path if path.startswith("/") else "/" + path)


def _xmpp_domain(config: dict[str, Any], host: str) -> str:
    domain = get(config, "hosts.domain")
    return domain if isinstance(domain, str) and domain else host


def check_presence(server: str, pin: str | None, timeout: float, presence_url: str | None, config: dict[str, Any],
                   token: str | None) -> Finding:
    """mod_muc_size for a room nobody uses (404 is right), or with a token for the token's own room (mod_muc_size
    checks a token's room claim); configured presence fails, unconfigured only warns.

    mod_muc_size builds the room's address as <room>@conference.<domain> from `domain=`, which is therefore the XMPP
    domain (config.js hosts.domain), never the MUC domain; it does not lower-case the room, so the check sends it
    lower-cased as jitsi-meet joins it. With enable_roomsize_token_verification it answers a bare 403 both for a
    token it refuses and for a room that does not exist: for the token's own room and a token that has not expired
    (tokenclaims.token_fits_room), 403 is the empty room, as the kiosk takes it too."""
    own_room = token_room(token)
    room = (own_room or "palim-check-" + secrets.token_hex(12)).lower()
    bad = FAIL if presence_url else WARN
    if presence_url:
        url = presence_url.replace("{room}", quote(room, safe=""))
        if urlsplit(url).netloc != urlsplit(server).netloc:
            pin = None  # pins belong to the Jitsi server only
    else:
        domain = _xmpp_domain(config, urlsplit(server).hostname or "")
        url = f"{server}/room-size?room={room}&domain={quote(domain, safe='')}"
    params = {"token": token} if token else None
    fix = ("enable Prosody's mod_muc_size and proxy /room-size to it" if presence_url else
           "for ringing, enable Prosody's mod_muc_size and proxy /room-size to it (or leave presence out)")
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        response = _fetch(base, path, pin, timeout, params, MAX_PRESENCE_BYTES)
    except FetchError as exc:
        return Finding(bad, "presence", f"no answer: {exc}", fix)
    status = response.status
    kind = response.content_type
    if status == 404:
        return Finding(OK, "presence", "answers 404 for an empty room, as mod_muc_size does")
    if status == 200 and kind in MUC_SIZE_TYPES and own_room:
        return Finding(OK, "presence", "answers for the token's room, as mod_muc_size does")
    if status == 403 and own_room and token_fits_room(token, room):
        return Finding(OK, "presence", "answers 403 for the token's room while nobody is in it, as mod_muc_size does "
                                       "with enable_roomsize_token_verification (a token signed with another secret "
                                       "gets the same answer: the token login check tells)")
    if status == 403:
        why = ("this token (expired, not yet valid, or for another room)" if token else "requests without a token")
        return Finding(FAIL if token or presence_url else WARN, "presence",
                       f"HTTP 403: the room-size endpoint refuses {why}",
                       "give the kiosks a token the server accepts (palim-provision tokens: same app id and secret as "
                       "Prosody, the device's room); domain= must be the XMPP domain, not conference.…")
    if status == 200 and kind in MUC_SIZE_TYPES:
        return Finding(WARN, "presence", "a random room has participants: this is no mod_muc_size answer",
                       "point presence at Prosody's mod_muc_size (/room-size)")
    if status == 200:
        return Finding(bad, "presence", f"HTTP 200 with {kind[:60] or 'no type'}: /room-size is not "
                                        "proxied to Prosody", fix)
    return Finding(bad, "presence", f"HTTP {status}", fix)


def token_room(token: str | None) -> str | None:
    """The `room` claim of a JWT, read without checking it (only the server holds the secret); None for none or
    for '*' (any room)."""
    import base64
    import json

    try:
        payload = token.split(".")[1] if token else ""
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) if payload else {}
    except (ValueError, IndexError):
        return None
    room = claims.get("room") if isinstance(claims, dict) else None
    return room if isinstance(room, str) and room and room != "*" else None


def check_server(server: str, pins: tuple[str, ...] = (), *, token: str | None = None,
                 presence_url: str | None = None, timeout: float = TIMEOUT_S,
                 now: datetime.datetime | None = None) -> ServerReport:
    """Every check for one server; never raises for what the server does. The whole check ends within
    REQUESTS_PER_CHECK times `timeout` of network time (boundedhttp.job_deadline): a request after that is reported
    as not asked."""
    with job_deadline(REQUESTS_PER_CHECK * timeout):
        return _check_server(server, pins, token, presence_url, timeout, now)


def _check_server(server: str, pins: tuple[str, ...], token: str | None, presence_url: str | None, timeout: float,
                  now: datetime.datetime | None) -> ServerReport:
    server = server.rstrip("/")
    report = ServerReport(server)
    tls = check_tls(server, tuple(pins), timeout, now or datetime.datetime.now(datetime.timezone.utc))
    report.findings += tls.findings
    if not tls.usable:
        return report
    report.findings.append(check_external_api(server, tls.pin, timeout))
    findings, config = check_scripts(server, tls.pin, timeout, token is not None)
    report.findings += findings
    report.findings.append(check_presence(server, tls.pin, timeout, presence_url, config, token))
    if token is not None:
        report.findings.append(check_token_login(server, tls.pin, timeout, config, token))
    return report


def check_token_login(server: str, pin: str | None, timeout: float, config: dict[str, Any], token: str) -> Finding:
    """The kiosk's token, as its call page logs in with it: Prosody's token auth checks secret, app id, expiry and
    sub at login (mod_muc_size's 403 cannot tell a wrong secret from an empty room)."""
    host = urlsplit(server).hostname or ""
    login = anonymous_login(_bosh_url(server, config), _xmpp_domain(config, host), pin, timeout, token=token,
                            room=token_room(token))
    if login.accepted:
        return Finding(OK, "token login", "Prosody lets the kiosk's token in (its login over BOSH)")
    if login.accepted is False:
        return Finding(FAIL, "token login", f"Prosody refuses the kiosk's token: {login.detail}",
                       "mint the tokens with the app id and secret Prosody has (palim-provision tokens); sub must be "
                       "the XMPP domain (Debian: the server's name, docker: meet.jitsi)")
    return Finding(WARN, "token login", f"not asked: {login.detail}",
                   "serve Prosody's BOSH at /http-bind (config.bosh) on the server's own address")
