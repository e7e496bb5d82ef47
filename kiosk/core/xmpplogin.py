"""Does the server let a client in without a token? An anonymous XMPP login over BOSH, as jitsi-meet's client does.

Debian's jitsi-meet-tokens turns on token login in Prosody only and leaves config.js as it was, so config.js cannot
tell. What can: opening a BOSH session (`/http-bind`, plain HTTP POSTs of XML) to the XMPP domain and asking for
SASL ANONYMOUS without a token. Prosody's token auth (mod_auth_token) offers ANONYMOUS too and refuses it when no
token comes with the connection; an open server says <success/>. Bounded: every answer is read up to 64 KiB, every
request has the check's timeout as its whole deadline (kiosk.core.boundedhttp). No Qt.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode

from kiosk.core.boundedhttp import FetchError, fetch

MAX_ANSWER_BYTES = 64 << 10
_BOSH = "http://jabber.org/protocol/httpbind"
_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
_WAIT_S = 5  # how long Prosody may hold a poll open; the features come with the session's first answer


@dataclass(frozen=True)
class Login:
    """What an anonymous login got: answered (the endpoint speaks BOSH), accepted (None: no verdict), why."""

    answered: bool
    accepted: bool | None
    detail: str


def _post(url: str, body: str, timeout: float, pin: str | None) -> ET.Element:
    try:
        answer = fetch(url, method="POST", body=body.encode(), pins=(pin,) if pin else (), deadline_s=timeout,
                       max_bytes=MAX_ANSWER_BYTES, headers={"Content-Type": "text/xml; charset=utf-8"})
    except FetchError as exc:
        raise _NoBosh(f"no answer: {exc}") from None
    if answer.status != 200:
        raise _NoBosh(f"HTTP {answer.status}")
    data = answer.body
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise _NoBosh("an answer that is no XML") from None
    if root.tag != f"{{{_BOSH}}}body":
        raise _NoBosh("XML that is no BOSH")
    return root


class _NoBosh(Exception):
    pass


def _mechanisms(root: ET.Element) -> list[str] | None:
    found = root.find(f".//{{{_SASL}}}mechanisms")
    if found is None:
        return None
    return [(m.text or "").strip() for m in found.findall(f"{{{_SASL}}}mechanism")]


def anonymous_login(url: str, domain: str, pin: str | None, timeout: float, *, token: str | None = None,
                    room: str | None = None) -> Login:
    """Open a BOSH session at URL to DOMAIN and try SASL ANONYMOUS, without a token or, as jitsi-meet's client does,
    with `?room=…&token=…` on the BOSH URL (Prosody's token auth checks the token when the login comes)."""
    if token is not None:
        url += ("&" if "?" in url else "?") + urlencode({"room": room or "", "token": token})
    rid = secrets.randbelow(1 << 40) + 1
    try:
        opened = _post(url, (
            f"<body content='text/xml; charset=utf-8' hold='1' rid='{rid}' to='{_attr(domain)}' ver='1.6' "
            f"wait='{_WAIT_S}' xml:lang='en' xmpp:version='1.0' xmlns='{_BOSH}' "
            "xmlns:xmpp='urn:xmpp:xbosh'/>"), timeout, pin)
        if opened.get("type") == "terminate":
            condition = opened.get("condition", "no reason given")
            return Login(True, None, f"Prosody ended the session for {domain}: {condition}")
        sid = opened.get("sid")
        if not sid:
            return Login(False, None, "a BOSH answer without a session id")
        mechanisms = _mechanisms(opened)
        if mechanisms is None:
            rid += 1
            mechanisms = _mechanisms(_post(url, f"<body rid='{rid}' sid='{_attr(sid)}' xmlns='{_BOSH}'/>",
                                           timeout + _WAIT_S, pin))
        if mechanisms is None:
            return Login(True, None, "Prosody offered no login mechanisms")
        if "ANONYMOUS" not in mechanisms:
            return Login(True, False, f"no anonymous login offered (only {', '.join(mechanisms) or 'none'})")
        rid += 1
        answer = _post(url, f"<body rid='{rid}' sid='{_attr(sid)}' xmlns='{_BOSH}'>"
                                     f"<auth xmlns='{_SASL}' mechanism='ANONYMOUS'/></body>", timeout, pin)
        try:
            rid += 1
            _post(url, f"<body rid='{rid}' sid='{_attr(sid)}' type='terminate' xmlns='{_BOSH}'/>",
                  timeout, pin)
        except _NoBosh:
            pass  # the session times out on its own
    except _NoBosh as exc:
        return Login(False, None, str(exc))
    if answer.find(f"{{{_SASL}}}success") is not None:
        return Login(True, True, "anonymous login accepted")
    failure = answer.find(f"{{{_SASL}}}failure")
    if failure is not None:
        reasons = [child.tag.split("}")[-1] for child in failure if not child.tag.endswith("}text")]
        text = failure.find(f"{{{_SASL}}}text")
        why = (text.text or "").strip()[:120] if text is not None else ""
        return Login(True, False, "anonymous login refused (" + ", ".join(filter(None, [*reasons, why])) + ")")
    return Login(True, None, "no answer to the login")


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")
