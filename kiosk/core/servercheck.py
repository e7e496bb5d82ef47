"""Is a city's Jitsi server ready for kiosks? One check for `palim-provision server-check` and the service screen.

What it looks at: the TLS certificate (trusted by the system's CA store, or the leaf matches a configured pin; days
left), `external_api.js` (is it the IFrame API), `config.js` and `interface_config.js` (the settings only the server
can make: watermarks, app promotion, welcome and close page, deep linking, prejoin, p2p, tokens and guests), and
presence (mod_muc_size answers for a random room). Each finding is one line: ok, warn or fail, and for warn and
fail the fix in one sentence. The JavaScript is read as a syntax tree (kiosk.core.jsconfig), never run. No Qt:
the kiosk runs this in a worker thread.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import socket
import ssl
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import truststore

from kiosk.core.https import TIMEOUT_S, pinned_session, system_trust_session
from kiosk.core.jsconfig import UNKNOWN, defines_external_api, get, read_object

OK, WARN, FAIL = "ok", "warn", "fail"
EXPIRY_WARN_DAYS = 21
MAX_SCRIPT_BYTES = 4 << 20  # external_api.min.js is a few hundred kB; anything far bigger is not it


@dataclass(frozen=True)
class Finding:
    """One line of the result: what was checked, what was found, and how to fix it (warn and fail only)."""

    status: str  # ok | warn | fail
    check: str  # a short name: tls, certificate, external_api.js, watermarks, ...
    message: str
    fix: str = ""

    def line(self) -> str:
        """The finding as one line of text."""
        text = f"{self.status:<4}  {self.check:<19} {self.message}"
        return f"{text}; fix: {self.fix}" if self.fix else text


@dataclass
class ServerReport:
    """Every finding for one server."""

    server: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No finding failed (warnings are allowed)."""
        return all(f.status != FAIL for f in self.findings)

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)

    def summary(self) -> str:
        """'12 ok, 2 warn, 0 fail'."""
        return f"{self.count(OK)} ok, {self.count(WARN)} warn, {self.count(FAIL)} fail"

    def as_json(self) -> dict[str, Any]:
        return {"server": self.server, "ok": self.ok, "findings": [asdict(f) for f in self.findings]}


# ------------------------------------------------------------------------------------------- the findings


def config_findings(config: dict[str, Any], has_token: bool) -> list[Finding]:
    """What config.js says that matters to a kiosk and to the family."""
    out: list[Finding] = []
    prejoin = get(config, "prejoinConfig.enabled")
    if "prejoinConfig" in config:
        out.append(Finding(OK, "prejoin", f"config.js sets prejoinConfig (enabled: {_js(prejoin)}); the kiosk "
                                          "skips the page for its own calls, the family sees it"))
    elif "prejoinPageEnabled" in config:
        out.append(Finding(WARN, "prejoin", "config.js knows only the old prejoinPageEnabled, a sign of an old "
                                            "jitsi-meet that ignores the kiosk's prejoinConfig",
                           "update jitsi-meet and set prejoinConfig: { enabled: true } instead of "
                           "prejoinPageEnabled in config.js"))
    else:
        out.append(Finding(OK, "prejoin", "config.js leaves the pre-join page at jitsi-meet's default; the kiosk "
                                          "skips it for its own calls"))

    if get(config, "deeplinking.disabled") is True or config.get("disableDeepLinking") is True:
        out.append(Finding(OK, "deep linking", "off: a room link opens in the phone's browser, no app needed"))
    else:
        out.append(Finding(WARN, "deep linking", "on: a bare room link on a phone shows 'get the app' first "
                                                 "(the family's links turn it off themselves)",
                           "optionally set deeplinking: { disabled: true } in config.js"))

    if config.get("enableWelcomePage", True) is False:
        out.append(Finding(OK, "welcome page", "off"))
    else:
        out.append(Finding(WARN, "welcome page", "on: the server's start page offers anyone a room-name field",
                           "set enableWelcomePage: false in config.js"))
    if config.get("enableClosePage") is True:
        out.append(Finding(WARN, "close page", "on: after hanging up the family lands on Jitsi's close page",
                           "set enableClosePage: false in config.js"))
    else:
        out.append(Finding(OK, "close page", "off"))

    if get(config, "p2p.enabled", True) is False:
        out.append(Finding(WARN, "p2p", "off: every call, also one to one, goes through the video bridge",
                           "set p2p: { enabled: true } in config.js unless the city decided against it"))
    else:
        out.append(Finding(OK, "p2p", "on: a call between two goes directly, the bridge takes over when needed"))

    guests = get(config, "hosts.anonymousdomain")
    token_hints = [k for k in ("tokenAuthUrl", "enableUserRolesBasedOnToken", "hosts.authdomain")
                   if get(config, k) not in (None, False, "", UNKNOWN)]
    if isinstance(guests, str) and guests:
        if has_token:
            out.append(Finding(OK, "tokens", f"rooms need a token, guests join through {guests}: the kiosk has "
                                             "a token, the family needs no account"))
        else:
            out.append(Finding(WARN, "tokens", f"rooms need a token (guests join through {guests}) and no token "
                                               "was given to this check: a kiosk without one cannot open its room",
                               "give every kiosk a token (palim-provision tokens) and pass one to this check"))
    elif token_hints:
        out.append(Finding(FAIL, "tokens", f"rooms need a token ({', '.join(token_hints)}) and config.js sets no "
                                           "hosts.anonymousdomain: the family cannot join without an account",
                           "allow guests: add a guest VirtualHost in Prosody and set hosts.anonymousdomain to it "
                           "in config.js"))
    else:
        out.append(Finding(OK, "tokens", "no token needed: anyone who knows a room's name can join (the kiosk's "
                                         "rooms are unguessable)"))
    return out


def interface_findings(interface: dict[str, Any]) -> list[Finding]:
    """What interface_config.js says: watermarks and app promotion (no override can change these)."""
    out: list[Finding] = []
    defaults = {"SHOW_JITSI_WATERMARK": True, "SHOW_WATERMARK_FOR_GUESTS": True, "SHOW_BRAND_WATERMARK": False}
    shown = [k for k, default in defaults.items() if interface.get(k, default) is not False]
    if shown:
        out.append(Finding(WARN, "watermarks", f"{', '.join(shown)} on: a logo link sits in the call's corner, "
                                               "where a resident may tap it",
                           f"set {', '.join(k + ': false' for k in shown)} in interface_config.js"))
    else:
        out.append(Finding(OK, "watermarks", "off"))
    if interface.get("MOBILE_APP_PROMO", True) is False:
        out.append(Finding(OK, "app promotion", "off"))
    else:
        out.append(Finding(WARN, "app promotion", "MOBILE_APP_PROMO on: phones are pushed to install the app",
                           "set MOBILE_APP_PROMO: false in interface_config.js"))
    return out


def _js(value: Any) -> str:
    if value is UNKNOWN:
        return "computed"
    if value is None:
        return "default"
    return str(value).lower() if isinstance(value, bool) else str(value)


# ------------------------------------------------------------------------------------------- TLS


@dataclass
class _Tls:
    findings: list[Finding]
    pin: str | None = None  # the configured pin the leaf matched; None: trust the system's CA store
    usable: bool = False  # the HTTP checks may go on


def _handshake(host: str, port: int, context: ssl.SSLContext, timeout: float) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True) or b""


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


def _fetch(server: str, path: str, pin: str | None, timeout: float, params: dict | None = None
           ) -> requests.Response:
    session = pinned_session(pin) if pin else system_trust_session()
    with session:
        response = session.get(server + path, params=params, timeout=timeout, verify=pin is None,
                               allow_redirects=False, stream=True)
        body = response.raw.read(MAX_SCRIPT_BYTES + 1, decode_content=True)
        response._content = body  # noqa: SLF001 (read with a limit; .text works as usual)
        return response


def _script(server: str, name: str, pin: str | None, timeout: float) -> tuple[str | None, Finding | None]:
    """The text of /NAME, or a fail finding."""
    try:
        response = _fetch(server, "/" + name, pin, timeout)
    except requests.RequestException as exc:
        return None, Finding(FAIL, name, f"no answer: {type(exc).__name__}",
                             "check the web server (nginx) in front of Jitsi")
    if response.status_code != 200:
        return None, Finding(FAIL, name, f"HTTP {response.status_code} for {server}/{name}",
                             f"serve jitsi-meet's {name} at the server's root, as the Debian package's nginx site does")
    if len(response.content) > MAX_SCRIPT_BYTES:
        return None, Finding(FAIL, name, "larger than 4 MiB: not Jitsi's file",
                             f"serve jitsi-meet's own {name} at the server's root")
    return response.content.decode("utf-8", "replace"), None


def check_external_api(server: str, pin: str | None, timeout: float) -> Finding:
    source, problem = _script(server, "external_api.js", pin, timeout)
    if problem is not None:
        return problem
    defined = defines_external_api(source or "")
    if defined:
        return Finding(OK, "external_api.js", "the IFrame API (it defines JitsiMeetExternalAPI)")
    what = "it is no JavaScript" if defined is None else "it does not define JitsiMeetExternalAPI"
    return Finding(FAIL, "external_api.js", f"served, but {what}",
                   "serve jitsi-meet's libs/external_api.min.js as /external_api.js")


def check_scripts(server: str, pin: str | None, timeout: float, has_token: bool
                  ) -> tuple[list[Finding], dict[str, Any]]:
    out: list[Finding] = []
    config: dict[str, Any] = {}
    for name, variable in (("config.js", "config"), ("interface_config.js", "interfaceConfig")):
        source, problem = _script(server, name, pin, timeout)
        if problem is None:
            try:
                value = read_object(source or "", variable)
            except ValueError as exc:
                problem = Finding(FAIL, name, f"cannot read it: {exc}",
                                  f"serve jitsi-meet's {name} (a 'var {variable} = {{...}}' object)")
        if problem is not None:
            out.append(problem)
            continue
        if name == "config.js":
            config = value
            out += config_findings(value, has_token)
        else:
            out += interface_findings(value)
    return out, config


def check_presence(server: str, pin: str | None, timeout: float, presence_url: str | None, config: dict[str, Any],
                   token: str | None) -> Finding:
    """mod_muc_size for a room nobody uses (404 is right), or with a token for the token's own room (mod_muc_size
    checks a token's room claim); configured presence fails, unconfigured only warns."""
    own_room = token_room(token)
    room = own_room or "palim-check-" + secrets.token_hex(12)
    bad = FAIL if presence_url else WARN
    if presence_url:
        url = presence_url.replace("{room}", quote(room, safe=""))
        if urlsplit(url).netloc != urlsplit(server).netloc:
            pin = None  # pins belong to the Jitsi server only
    else:
        muc = get(config, "hosts.muc")
        domain = get(config, "hosts.domain")
        muc = muc if isinstance(muc, str) else f"conference.{domain if isinstance(domain, str) else urlsplit(server).hostname}"
        url = f"{server}/room-size?room={room}&domain={quote(muc, safe='')}"
    params = {"token": token} if token else None
    fix = ("enable Prosody's mod_muc_size and proxy /room-size to it" if presence_url else
           "for ringing, enable Prosody's mod_muc_size and proxy /room-size to it (or leave presence out)")
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        response = _fetch(base, path, pin, timeout, params)
    except requests.RequestException as exc:
        return Finding(bad, "presence", f"no answer: {type(exc).__name__}", fix)
    status = response.status_code
    kind = response.headers.get("Content-Type", "")
    if status == 404:
        return Finding(OK, "presence", "answers 404 for an empty room, as mod_muc_size does")
    if status == 200 and "json" in kind and own_room:
        return Finding(OK, "presence", "answers for the token's room, as mod_muc_size does")
    if status == 403:
        return Finding(FAIL if token or presence_url else WARN, "presence",
                       "HTTP 403: the room-size endpoint refuses " + ("this token" if token else "requests without a token"),
                       "give the kiosks a token the server accepts (same app id and secret as Prosody)")
    if status == 200 and "json" in kind:
        return Finding(WARN, "presence", "a random room has participants: this is no mod_muc_size answer",
                       "point presence at Prosody's mod_muc_size (/room-size)")
    if status == 200:
        return Finding(bad, "presence", f"HTTP 200 with {kind.split(';')[0] or 'no type'}: /room-size is not "
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
    """Every check for one server; never raises for what the server does."""
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
    return report
