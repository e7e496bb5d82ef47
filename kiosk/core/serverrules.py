"""The verdicts of the server check: what the effective config.js and interface_config.js mean for a kiosk.

Each rule follows jitsi-meet's current code and defaults (see ../shared/upstream/jitsi/SOURCES.md): welcomePage.disabled
(the old enableWelcomePage only when that key is absent), prejoinConfig.enabled (default true; prejoinPageEnabled is
read nowhere), deeplinking.disabled (else disableDeepLinking), p2p on only when p2p.enabled is true or p2p is absent,
the interface_config keys still read (SHOW_WATERMARK_FOR_GUESTS is not). Every fix names the key and the file an admin
edits: Debian's /etc/jitsi/meet/<domain>-config.js, or docker-jitsi-meet's environment variable. Pure: no I/O, no Qt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kiosk.core.jsconfig import get, truthy
from kiosk.core.xmpplogin import Login

OK, WARN, FAIL = "ok", "warn", "fail"


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


def config_file(host: str) -> str:
    return f"/etc/jitsi/meet/{host}-config.js"


INTERFACE_FILE = "/usr/share/jitsi-meet/interface_config.js"


def welcome_page_on(config: dict[str, Any]) -> bool:
    """jitsi-meet: welcomePage.disabled decides; the old enableWelcomePage only when that key is absent."""
    if isinstance(config.get("welcomePage"), dict) and "disabled" in config["welcomePage"]:
        return not truthy(config["welcomePage"]["disabled"])
    if "enableWelcomePage" in config:
        return truthy(config["enableWelcomePage"])
    return True


def deep_linking_on(config: dict[str, Any]) -> bool:
    """jitsi-meet: deeplinking.disabled decides; the old disableDeepLinking only when that key is absent."""
    if isinstance(config.get("deeplinking"), dict) and "disabled" in config["deeplinking"]:
        return not truthy(config["deeplinking"]["disabled"])
    return not truthy(config.get("disableDeepLinking"))


def p2p_on(config: dict[str, Any]) -> bool:
    """lib-jitsi-meet: p2p is on only when p2p.enabled is true, or when config.js has no p2p at all."""
    if "p2p" not in config:
        return True
    return truthy(get(config, "p2p.enabled"))


def config_findings(config: dict[str, Any], has_token: bool, host: str = "<domain>",
                    login: Login | None = None) -> list[Finding]:
    """What the effective config.js means for a kiosk and the family, by jitsi-meet's current rules and defaults;
    `login`: what an anonymous XMPP login got (None: not asked)."""
    out: list[Finding] = []
    file = config_file(host)
    prejoin = truthy(get(config, "prejoinConfig.enabled", True))
    state = "on" if prejoin else "off"
    if "prejoinPageEnabled" in config and "enabled" not in (config.get("prejoinConfig") or {}):
        out.append(Finding(WARN, "prejoin", f"config.js sets prejoinPageEnabled, which current jitsi-meet reads "
                                            f"nowhere (the family's pre-join page is {state}: prejoinConfig.enabled "
                                            "defaults to true); a jitsi-meet that still reads it ignores the "
                                            "kiosk's prejoinConfig",
                           f"update jitsi-meet and write prejoinConfig: {{ enabled: true }} instead of "
                           f"prejoinPageEnabled in {file} (docker: ENABLE_PREJOIN_PAGE=1)"))
    else:
        out.append(Finding(OK, "prejoin", f"the family's pre-join page is {state} (prejoinConfig.enabled); the "
                                          "kiosk skips it for its own calls"))

    if deep_linking_on(config):
        out.append(Finding(WARN, "deep linking", "on: a bare room link on a phone shows 'get the app' first "
                                                 "(the family's links turn it off themselves)",
                           f"optionally set deeplinking: {{ disabled: true }} in the config object of {file} "
                           "(docker: DISABLE_DEEP_LINKING=1)"))
    else:
        out.append(Finding(OK, "deep linking", "off: a room link opens in the phone's browser, no app needed"))

    if not welcome_page_on(config):
        out.append(Finding(OK, "welcome page", "off"))
    else:
        why = (" (welcomePage.disabled is false, and it wins over enableWelcomePage)"
               if "enableWelcomePage" in config and not truthy(config["enableWelcomePage"]) else "")
        out.append(Finding(WARN, "welcome page", f"on: the server's start page offers anyone a room-name field{why}",
                           f"set welcomePage: {{ disabled: true }} in {file} (docker: ENABLE_WELCOME_PAGE=0)"))
    if truthy(config.get("enableClosePage")):
        out.append(Finding(WARN, "close page", "on: after hanging up the family lands on Jitsi's close page",
                           f"set enableClosePage: false in {file} (docker: ENABLE_CLOSE_PAGE=0)"))
    else:
        out.append(Finding(OK, "close page", "off"))

    if not p2p_on(config):
        out.append(Finding(WARN, "p2p", "off: every call, also one to one, goes through the video bridge"
                                        + ("" if "enabled" in config["p2p"] else " (p2p is set without enabled)"),
                           f"set p2p.enabled: true in {file} unless the city decided against it "
                           "(docker: ENABLE_P2P=1)"))
    else:
        out.append(Finding(OK, "p2p", "on: a call between two goes directly, the bridge takes over when needed"))
    out.append(_tokens_finding(config, has_token, file, login))
    return out


def _tokens_finding(config: dict[str, Any], has_token: bool, file: str, login: Login | None) -> Finding:
    guests = get(config, "hosts.anonymousdomain")
    guests = guests if isinstance(guests, str) and guests else None
    guest_fix = (f"allow guests: add a guest VirtualHost (authentication = \"anonymous\") in Prosody and set "
                 f"hosts.anonymousdomain to it in {file} (docker: ENABLE_GUESTS=1)")
    if login is not None and login.answered and login.accepted is not None:
        if login.accepted:
            return Finding(OK, "tokens", "no token needed (Prosody accepts an anonymous login): anyone who knows a "
                                         "room's name can join (the kiosk's rooms are unguessable)")
        if guests is None:
            return Finding(FAIL, "tokens", f"Prosody refuses a login without a token ({login.detail}) and config.js "
                                           "sets no hosts.anonymousdomain: the family cannot join without an account",
                           guest_fix)
        return _with_guests(guests, has_token, f"Prosody refuses a login without a token, guests join through "
                                               f"{guests}")
    if login is None:
        asked = ""
    elif login.answered:
        asked = f" (judged from config.js: Prosody's answer to an anonymous login was no verdict: {login.detail})"
    else:
        asked = f" (judged from config.js: Prosody was not asked, /http-bind: {login.detail})"
    hints = [k for k in ("tokenAuthUrl", "enableUserRolesBasedOnToken", "hosts.authdomain")
             if truthy(get(config, k))]
    if guests is not None:
        return _with_guests(guests, has_token, f"rooms need a token, guests join through {guests}{asked}")
    if hints:
        return Finding(FAIL, "tokens", f"rooms need a token ({', '.join(hints)}) and config.js sets no "
                                       f"hosts.anonymousdomain: the family cannot join without an account{asked}",
                       guest_fix)
    return Finding(OK, "tokens", "no token needed: anyone who knows a room's name can join (the kiosk's rooms are "
                                 f"unguessable){asked}")


def _with_guests(guests: str, has_token: bool, what: str) -> Finding:
    if has_token:
        return Finding(OK, "tokens", f"{what}: the kiosk has a token, the family needs no account")
    return Finding(WARN, "tokens", f"{what}; no token was given to this check: a kiosk without one cannot open "
                                   "its room", "give every kiosk a token (palim-provision tokens) and pass one to "
                                               "this check")


def interface_findings(interface: dict[str, Any], deep_linking: bool = True) -> list[Finding]:
    """What interface_config.js says: watermarks, and app promotion while deep linking is on (no override can
    change these). Keys jitsi-meet still reads; SHOW_WATERMARK_FOR_GUESTS is read nowhere any more."""
    out: list[Finding] = []
    shown = [k for k in ("SHOW_JITSI_WATERMARK", "SHOW_BRAND_WATERMARK") if truthy(interface.get(k))]
    where = f"{INTERFACE_FILE} (docker: custom-interface_config.js in the web config folder)"
    if shown:
        out.append(Finding(WARN, "watermarks", f"{', '.join(shown)} on: a logo link sits in the call's corner, "
                                               "where a resident may tap it",
                           f"set {', '.join('interfaceConfig.' + k + ' = false' for k in shown)} at the end of "
                           f"{where}"))
    else:
        out.append(Finding(OK, "watermarks", "off"))
    if not truthy(interface.get("MOBILE_APP_PROMO")):
        out.append(Finding(OK, "app promotion", "off"))
    elif not deep_linking:
        out.append(Finding(OK, "app promotion", "MOBILE_APP_PROMO is on, but deep linking is off: no phone is "
                                                "sent to the app store"))
    else:
        out.append(Finding(WARN, "app promotion", "MOBILE_APP_PROMO on while deep linking is on: phones are "
                                                  "pushed to install the app",
                           f"set interfaceConfig.MOBILE_APP_PROMO = false at the end of {where}, or turn deep "
                           "linking off"))
    return out
