"""A real Jitsi XMPP server for tests: Debian's Prosody 0.12 with Jitsi's own Prosody plugins, on loopback.

The plugins (mod_muc_size, mod_auth_token, mod_token_verification, mod_jitsi_session and their libraries) are used
in place from ../shared/upstream/jitsi/jitsi-meet/prosody-plugins (never copied). Prosody is configured the way
docs/jitsi-server.md and Debian's jitsi-meet packages set a city's server up:

- VirtualHost `<domain>`: BOSH and WebSocket (as jitsi-meet connects), mod_muc_size for /room-size and /room, and
  with `tokens=True` token login (`authentication = "token"`, `app_id`, `app_secret`, `allow_empty_token = false`)
  plus, optionally, `enable_roomsize_token_verification`;
- VirtualHost `guest.<domain>`: anonymous, where the family joins without an account;
- VirtualHost `auth.<domain>`: the account of the focus (jicofo), the only one who may create rooms;
- Component `conference.<domain>` "muc" with `restrict_room_creation = true`, and with tokens
  `token_verification` (Debian's jitsi-meet-tokens turns it on) whose `token_verification_allowlist` lets the guest
  domain in (without it the plugin refuses every guest: a guest has no `room` claim);
- `muc_mapper_domain_base = <domain>` globally (Debian's config; token/util.lib.lua needs it to find rooms).

There is no jicofo and no videobridge. What jicofo does for presence is played by `RealJitsi`: when the first
participant joins a room, a "focus" occupant (an admin, as jicofo's focus@auth.<domain>) creates it and joins, and
it leaves when the last participant has gone, so the room disappears (mod_muc_size: 404, or 403 with token
verification). mod_muc_size counts the focus out of /room-size and hides the nick ".../focus" from /room, as it does
on a real server.

Family members are real XMPP clients (slixmpp) on Prosody's c2s port, authenticated with SASL ANONYMOUS on the guest
domain, joining the MUC with a random 8-hex nick and their display name in `<nick xmlns="http://jabber.org/protocol/
nick">` and a `<stats-id>`, which is the presence lib-jitsi-meet sends. The browser reaches the same session over
WebSocket or BOSH; after SASL the server treats both alike (mod_jitsi_session reads only `?token=`/`?room=` from the
HTTP transports, and guests send no token). A token login is done the way jitsi-meet does it: BOSH to
`/http-bind?room=<room>&token=<jwt>`, SASL ANONYMOUS (mod_auth_token checks the token there), bind, and a MUC join
(mod_token_verification checks the room there) - see `RealJitsi.token_join`.

Dependencies: Debian's `prosody`, `lua-cjson`, `lua-luaossl`, `lua-basexx`, `lua-inspect` (scripts/setup installs
them), and from PyPI `slixmpp` and `net-url` (the Lua `net.url` module mod_muc_size requires, which Debian does not
package; the PyPI package ships the upstream url.lua, put on Prosody's Lua path). Debian packages basexx and inspect
for Lua 5.1-5.3 only; Prosody runs on Lua 5.4 and these are pure Lua, so their folders go on the Lua path too.

Use:

    from tests.realjitsi import real_jitsi   # a session fixture: tokens on, enable_roomsize_token_verification on
    def test_x(real_jitsi):
        with real_jitsi.family_member("room1", "Anna"):
            requests.get(real_jitsi.presence_url("room").format(room="room1") + "&token=" + token)

or `with start_prosody(tmp_dir, tokens=False) as jitsi:` for a server of one's own. Measured: Prosody answers
0.15-0.5 s after the start (the focus's account registered first), a family member's first join (focus and guest)
takes 0.1-0.3 s, a BOSH token login with join 0.1 s, the stop 0.02 s. A fixture imported into several test modules
runs one Prosody per module (pytest keeps a fixture per module that defines it), which costs that 0.2 s each.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import os
import secrets
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.requirements import need, need_tool

UPSTREAM = Path(__file__).resolve().parents[1].parent / "shared" / "upstream" / "jitsi"
PLUGINS = UPSTREAM / "jitsi-meet" / "prosody-plugins"
DOMAIN = "meet.palim.test"
APP_ID = "palim-stadt"
APP_SECRET = "the city's secret for the loopback tests only"  # noqa: S105 (a test secret, never a real one)
# Pure-Lua libraries Debian installs for older Lua versions only (lua-basexx, lua-inspect); Prosody runs on 5.4.
DEBIAN_LUA_DIRS = ("/usr/share/lua/5.3", "/usr/share/lua/5.2", "/usr/share/lua/5.1")
START_TIMEOUT_S = 20.0
XMPP_TIMEOUT_S = 15.0

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_NICK = "http://jabber.org/protocol/nick"
NS_BOSH = "http://jabber.org/protocol/httpbind"
NS_XBOSH = "urn:xmpp:xbosh"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class ProsodyError(RuntimeError):
    """Prosody did not start, or a plugin failed to load (the message has the log's error lines)."""


@dataclass(frozen=True)
class JoinResult:
    """What a token login and MUC join over BOSH came to: `joined`, or the stage that refused it and why."""

    joined: bool
    stage: str  # "sasl" (mod_auth_token refused the token), "join" (the MUC refused it), "joined"
    condition: str = ""  # the XMPP error condition, e.g. not-authorized, not-allowed
    text: str = ""  # the server's reason text (may name the claim; it never contains the token)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def net_url_lua_dir() -> Path:
    """The folder with net/url.lua from the PyPI package net-url (the upstream Lua module, not a stand-in)."""
    spec = importlib.util.find_spec("net_url")
    need(spec is not None and spec.origin, "the Python package net-url is not installed (it ships the Lua module "
                                           "net.url that mod_muc_size needs; ./scripts/setup installs it)")
    folder = Path(spec.origin).parent / "src" / "lua"
    need((folder / "net" / "url.lua").is_file(), f"net-url has no {folder}/net/url.lua")
    return folder


def prosody_config(*, workdir: Path, domain: str, c2s_port: int, http_port: int, tokens: bool,
                   roomsize_token_verification: bool, app_id: str, app_secret: str, focus: str, guests_allowed: bool = True) -> str:
    """The prosody.cfg.lua `start_prosody` writes: a city's server as docs/jitsi-server.md sets it up."""
    q = _lua_string
    lines = [
        "-- Palim Kiosk tests: Prosody with Jitsi's own plugins, on loopback only (tests/realjitsi.py)",
        f"run_as_root = {'true' if os.geteuid() == 0 else 'false'}",
        f"pidfile = {q(str(workdir / 'prosody.pid'))}",
        f"data_path = {q(str(workdir / 'data'))}",
        f"certificates = {q(str(workdir / 'certs'))}",
        f"plugin_paths = {{ {q(str(PLUGINS))} }}",
        'interfaces = { "127.0.0.1" }',
        f"c2s_ports = {{ {c2s_port} }}",
        "c2s_direct_tls_ports = { }", "legacy_ssl_ports = { }", "s2s_ports = { }", "component_ports = { }",
        f"http_ports = {{ {http_port} }}",
        'http_interfaces = { "127.0.0.1" }',
        "https_ports = { }",
        'modules_enabled = { "roster"; "saslauth"; "disco"; "ping" }',
        'modules_disabled = { "s2s"; "offline" }',
        f'log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = {q(str(workdir / "prosody.log"))} }} }}',
        "-- as Debian's jitsi-meet: token/util.lib.lua finds rooms through it",
        f"muc_mapper_domain_base = {q(domain)}",
        f"http_default_host = {q(domain)}",
        "consider_bosh_secure = true",
        "consider_websocket_secure = true",
        "c2s_require_encryption = false",
        "allow_unencrypted_plain_auth = true",
        f"admins = {{ {q(focus)} }}",
        "",
        f"VirtualHost {q(domain)}",
    ]
    if tokens:
        lines += [
            '    authentication = "token"',
            f"    app_id = {q(app_id)}",
            f"    app_secret = {q(app_secret)}",
            "    allow_empty_token = false",
        ]
    else:
        lines.append('    authentication = "anonymous"')
    lines += [
        '    modules_enabled = { "bosh"; "websocket"; "muc_size" }',
        f"    enable_roomsize_token_verification = {'true' if roomsize_token_verification else 'false'}",
        "",
        f"VirtualHost {q('guest.' + domain)}",
        '    authentication = "anonymous"',
        "",
        f"VirtualHost {q('auth.' + domain)}",
        '    authentication = "internal_hashed"',
        "",
        f"Component {q('conference.' + domain)} \"muc\"",
        "    restrict_room_creation = true",
        '    storage = "memory"',
        "    muc_room_locking = false",
        "    muc_room_default_public_jids = true",
    ]
    if tokens:
        lines += [
            '    modules_enabled = { "token_verification" }',
        ]
        if guests_allowed:
            lines.append(f"    token_verification_allowlist = {{ {q('guest.' + domain)} }}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- XMPP clients (slixmpp, in one thread)


class _Loop:
    """One asyncio loop in a daemon thread for every slixmpp client of a server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="realjitsi-xmpp", daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = XMPP_TIMEOUT_S):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def collect(self) -> None:
        """Collect slixmpp's disconnected clients now. They sit in reference cycles with a __del__ that runs Python
        code; collected later, at a random moment, that code can run inside another test's ast.parse and trip
        CPython 3.11's "AST constructor recursion depth mismatch" (seen in tests/test_architecture.py)."""
        self.run(_collect_garbage(), 5)

    def close(self) -> None:
        async def cancel_the_rest() -> None:  # slixmpp's stream tasks, so that nothing is left pending
            for _ in range(10):  # a cancelled stream may start another task on its way out
                tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
                if not tasks:
                    return
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks, timeout=1)

        with contextlib.suppress(Exception):
            self.run(cancel_the_rest(), 5)
            self.collect()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


async def _collect_garbage() -> None:
    gc.collect()


class _Occupant:
    """One slixmpp client in one MUC room."""

    def __init__(self, jitsi: RealJitsi, *, jid: str, password: str, room: str, nick: str,
                 display_name: str | None):
        self.jitsi, self.jid, self.password = jitsi, jid, password
        self.room_jid = f"{room}@{jitsi.muc_domain}"
        self.nick, self.display_name = nick, display_name
        self.client = None
        self.joined = False

    async def join(self) -> None:
        import slixmpp  # imported here: a test without XMPP does not need it

        client = slixmpp.ClientXMPP(self.jid, self.password)
        client.enable_direct_tls = False
        client.enable_starttls = False
        client.enable_plaintext = True  # loopback: Prosody offers no TLS here (no certificate)
        client.plugin["feature_mechanisms"].unencrypted_scram = True  # the focus's password login, on loopback only
        started: asyncio.Future = asyncio.get_running_loop().create_future()
        joined: asyncio.Future = asyncio.get_running_loop().create_future()
        occupant = f"{self.room_jid}/{self.nick}"

        def settle(future, value=None, error=None):
            if not future.done():
                future.set_exception(error) if error else future.set_result(value)

        client.add_event_handler("session_start", lambda _: settle(started, True))
        client.add_event_handler("failed_all_auth", lambda _: settle(started, error=ProsodyError(
            f"{self.jid}: SASL refused")))
        client.add_event_handler("connection_failed", lambda why: settle(started, error=ProsodyError(
            f"{self.jid}: cannot connect: {why}")))

        def on_presence(presence):
            if str(presence["from"]) != occupant:
                return
            if presence["type"] == "error":
                error = presence.xml.find(f"{{{NS_CLIENT}}}error")
                words = [child.tag.split("}")[1] if child.tag != f"{{{NS_STANZAS}}}text" else child.text or ""
                         for child in (error if error is not None else ())]
                settle(joined, error=ProsodyError(f"{occupant}: join refused: {' '.join(words)}"))
            elif presence["type"] != "unavailable":
                settle(joined, True)

        client.add_event_handler("presence", on_presence)
        client.connect("127.0.0.1", self.jitsi.c2s_port)
        self.client = client
        await asyncio.wait_for(started, XMPP_TIMEOUT_S)
        # The presence lib-jitsi-meet sends when it joins: MUC x, the display name as XEP-0172 nick, a stats id.
        presence = client.make_presence(pto=occupant)
        presence.append(ET.Element(f"{{{NS_MUC}}}x"))
        if self.display_name is not None:
            nick = ET.Element(f"{{{NS_NICK}}}nick")
            nick.text = self.display_name
            presence.append(nick)
        stats = ET.Element(f"{{{NS_CLIENT}}}stats-id")
        stats.text = "Palim-" + secrets.token_hex(3)
        presence.append(stats)
        presence.send()
        await asyncio.wait_for(joined, XMPP_TIMEOUT_S)
        self.joined = True

    async def leave(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        occupant = f"{self.room_jid}/{self.nick}"
        gone: asyncio.Future = asyncio.get_running_loop().create_future()

        def on_presence(presence):
            if str(presence["from"]) == occupant and presence["type"] == "unavailable" and not gone.done():
                gone.set_result(True)

        if self.joined:  # leave the room and see it confirmed, so that presence has changed when this returns
            client.add_event_handler("presence", on_presence)
            client.make_presence(pto=occupant, ptype="unavailable").send()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(gone, XMPP_TIMEOUT_S / 2)
        with contextlib.suppress(Exception):
            await client.disconnect(wait=2.0)


# --------------------------------------------------------------------------- the server


@dataclass
class RealJitsi:
    """A running Prosody with Jitsi's plugins. URLs are plain HTTP on 127.0.0.1 (nginx's TLS is not part of it)."""

    domain: str
    http_port: int
    c2s_port: int
    tokens: bool
    roomsize_token_verification: bool
    app_id: str
    app_secret: str
    workdir: Path
    _loop: _Loop = field(default_factory=_Loop, repr=False)
    _focus: dict = field(default_factory=dict, repr=False)  # room -> the focus occupant
    _members: dict = field(default_factory=dict, repr=False)  # room -> number of participants besides the focus
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def muc_domain(self) -> str:
        """Where the rooms are: conference.<domain> (mod_muc_size's default muc_mapper_domain_prefix)."""
        return f"conference.{self.domain}"

    @property
    def guest_domain(self) -> str:
        return f"guest.{self.domain}"

    @property
    def http_url(self) -> str:
        """Prosody's HTTP server: /room-size, /room, /http-bind, /xmpp-websocket (what nginx proxies to)."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def bosh_url(self) -> str:
        return f"{self.http_url}/http-bind"

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.http_port}/xmpp-websocket"

    @property
    def log_path(self) -> Path:
        return self.workdir / "prosody.log"

    def presence_url(self, endpoint: str = "room-size", base: str | None = None) -> str:
        """The kiosk's presence template for this server: `<base>/<endpoint>?room={room}&domain=<domain>` (the XMPP
        domain, as mod_muc_size wants it)."""
        return f"{base or self.http_url}/{endpoint}?room={{room}}&domain={self.domain}"

    # ----- participants

    @contextlib.contextmanager
    def family_member(self, room: str, display_name: str | None = "Anna") -> Iterator[str]:
        """A guest in `room` with this display name while the block runs (None: sends no nick, like a guest who
        typed none). Yields the occupant's nick. Room names are used as given: jitsi-meet joins lower-cased ones."""
        nick = secrets.token_hex(4)
        self._focus_in(room)
        member = _Occupant(self, jid=self.guest_domain, password="", room=room, nick=nick,
                           display_name=display_name)
        try:
            self._loop.run(member.join())
        except BaseException:
            self._loop.run(member.leave())
            self._focus_out(room)
            self._loop.collect()
            raise
        try:
            yield nick
        finally:
            self._loop.run(member.leave())
            self._focus_out(room)
            self._loop.collect()

    def _focus_in(self, room: str) -> None:
        with self._lock:
            self._members[room] = self._members.get(room, 0) + 1
            if room in self._focus:
                return
            focus = _Occupant(self, jid=f"focus@auth.{self.domain}", password=self._focus_password(), room=room,
                              nick="focus", display_name=None)
            self._loop.run(focus.join())
            self._focus[room] = focus

    def _focus_out(self, room: str) -> None:
        with self._lock:
            self._members[room] -= 1
            if self._members[room] > 0:
                return
            del self._members[room]
            focus = self._focus.pop(room, None)
            if focus is not None:
                self._loop.run(focus.leave())  # the last occupant gone: Prosody destroys the room
                self._loop.collect()

    def _focus_password(self) -> str:
        return (self.workdir / "focus.password").read_text()

    # ----- token login as jitsi-meet does it (BOSH)

    def token_join(self, token: str | None, room: str, display_name: str = "Erna") -> JoinResult:
        """Log in with `token` the way jitsi-meet does (BOSH to /http-bind?room=…&token=…, SASL ANONYMOUS, bind) and
        join `room` (created by the focus first, as jicofo does); leaves again at once. Says where it was refused."""
        self._focus_in(room)
        try:
            return _BoshClient(self, room, token).login_and_join(display_name)
        finally:
            self._focus_out(room)

    def close(self) -> None:
        for room in list(self._focus):
            with contextlib.suppress(Exception):
                self._loop.run(self._focus.pop(room).leave())
        self._loop.close()


class _BoshClient:
    """XEP-0124/0206 over requests: what strophe.js in jitsi-meet sends, reduced to login and one MUC join."""

    def __init__(self, jitsi: RealJitsi, room: str, token: str | None):
        self.jitsi, self.room = jitsi, room
        query = f"?room={room}" + (f"&token={token}" if token else "")
        self.url = jitsi.bosh_url + query
        self.rid = secrets.randbelow(2 ** 40)
        self.sid = None
        self.http = requests.Session()

    def _post(self, *children: ET.Element, **attrs: str) -> ET.Element:
        self.rid += 1
        body = ET.Element(f"{{{NS_BOSH}}}body", {"rid": str(self.rid), **attrs})
        if self.sid:
            body.set("sid", self.sid)
        body.extend(children)
        answer = self.http.post(self.url, data=ET.tostring(body), timeout=XMPP_TIMEOUT_S,
                                headers={"Content-Type": "text/xml; charset=utf-8"})
        answer.raise_for_status()
        return ET.fromstring(answer.content)

    def _until(self, found, first: ET.Element) -> ET.Element:
        """The first child that `found` accepts, in this answer or the next polls."""
        deadline = time.monotonic() + XMPP_TIMEOUT_S
        answer = first
        while True:
            for child in answer:
                if found(child):
                    return child
            if time.monotonic() > deadline:
                raise ProsodyError("BOSH: no answer in time")
            answer = self._post()

    def login_and_join(self, display_name: str) -> JoinResult:
        domain = self.jitsi.domain
        first = self._post(**{"to": domain, "xml:lang": "en", "wait": "5", "hold": "1", "ver": "1.6",
                              f"{{{NS_XBOSH}}}version": "1.0"})
        self.sid = first.get("sid")
        self._until(lambda e: e.tag.endswith("}features"), first)
        auth = ET.Element(f"{{{NS_SASL}}}auth", {"mechanism": "ANONYMOUS"})
        outcome = self._until(lambda e: e.tag in (f"{{{NS_SASL}}}success", f"{{{NS_SASL}}}failure"), self._post(auth))
        if outcome.tag == f"{{{NS_SASL}}}failure":
            condition = next((c.tag.split("}")[1] for c in outcome if not c.tag.endswith("}text")), "")
            return JoinResult(False, "sasl", condition, outcome.findtext(f"{{{NS_SASL}}}text") or "")
        restarted = self._post(**{"to": domain, f"{{{NS_XBOSH}}}restart": "true"})
        self._until(lambda e: e.tag.endswith("}features"), restarted)
        iq = ET.Element(f"{{{NS_CLIENT}}}iq", {"type": "set", "id": "bind1"})
        ET.SubElement(iq, f"{{{NS_BIND}}}bind")
        self._until(lambda e: e.tag == f"{{{NS_CLIENT}}}iq" and e.get("id") == "bind1", self._post(iq))
        occupant = f"{self.room}@{self.jitsi.muc_domain}/{secrets.token_hex(4)}"
        presence = ET.Element(f"{{{NS_CLIENT}}}presence", {"to": occupant})
        ET.SubElement(presence, f"{{{NS_MUC}}}x")
        ET.SubElement(presence, f"{{{NS_NICK}}}nick").text = display_name
        answer = self._until(lambda e: e.tag == f"{{{NS_CLIENT}}}presence" and e.get("from") == occupant,
                             self._post(presence))
        try:
            if answer.get("type") == "error":
                error = answer.find(f"{{{NS_CLIENT}}}error")
                conditions = [c.tag.split("}")[1] for c in error if c.tag.startswith(f"{{{NS_STANZAS}}}")]
                text = error.findtext(f"{{{NS_STANZAS}}}text") or ""
                return JoinResult(False, "join", next((c for c in conditions if c != "text"), ""), text)
            return JoinResult(True, "joined")
        finally:
            with contextlib.suppress(Exception):
                self._post(ET.Element(f"{{{NS_CLIENT}}}presence", {"to": occupant, "type": "unavailable"}),
                           type="terminate")


# --------------------------------------------------------------------------- start and stop


def _prosody_env() -> dict[str, str]:
    lua_path = ";".join([f"{net_url_lua_dir()}/?.lua", *(f"{d}/?.lua" for d in DEBIAN_LUA_DIRS)])
    return {**os.environ, "LUA_PATH_5_4": ";;" + lua_path}  # ";;" first: Lua 5.4's own path comes before ours


def _load_errors(log_path: Path) -> list[str]:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return [line for line in text.splitlines() if "\terror\t" in line]


@contextlib.contextmanager
def start_prosody(workdir: Path, *, domain: str = DOMAIN, tokens: bool = True, roomsize_token_verification: bool =
                  True, app_id: str = APP_ID, app_secret: str = APP_SECRET, guests_allowed: bool = True,
                  ) -> Iterator[RealJitsi]:
    """Run Prosody with Jitsi's plugins for the block, its config, data and log under `workdir` (made if needed).

    `tokens`: token login on the main host (app_id/app_secret, HS256) and token_verification on the MUC;
    `roomsize_token_verification`: mod_muc_size wants a token that fits the room (needs `tokens`);
    `guests_allowed`: with tokens, the guest domain is on the MUC's token_verification_allowlist (else the plugin
    refuses every guest: the family could not join).
    Raises ProsodyError, with the log's error lines, when it does not start or a plugin does not load."""
    if roomsize_token_verification and not tokens:
        raise ValueError("enable_roomsize_token_verification needs token login (tokens=True)")
    prosody = need_tool("prosody", apt="prosody")
    need(importlib.util.find_spec("slixmpp") is not None,
         "the Python package slixmpp is not installed (the family's XMPP client; ./scripts/setup installs it)")
    prosodyctl = need_tool("prosodyctl", apt="prosody")
    for module, package in (("cjson.so", "lua-cjson"), ("_openssl.so", "lua-luaossl")):
        need(Path("/usr/lib/x86_64-linux-gnu/lua/5.4", module).exists() or
             any(Path("/usr/lib").glob(f"*/lua/5.4/{module}")),
             f"Lua 5.4's {module} is missing (install the Debian package {package}; ./scripts/setup installs it)")
    for module, package in (("basexx.lua", "lua-basexx"), ("inspect.lua", "lua-inspect")):
        need(any(Path(d, module).exists() for d in DEBIAN_LUA_DIRS),
             f"the Lua module {module} is missing (install the Debian package {package}; ./scripts/setup installs it)")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    (workdir / "certs").mkdir(exist_ok=True)
    env = _prosody_env()
    focus_password = secrets.token_urlsafe(16)
    (workdir / "focus.password").write_text(focus_password)
    for attempt in range(3):  # a port picked free may be taken before Prosody binds it: pick again
        c2s_port, http_port = _free_port(), _free_port()
        config = workdir / "prosody.cfg.lua"
        config.write_text(prosody_config(workdir=workdir, domain=domain, c2s_port=c2s_port, http_port=http_port,
                                         tokens=tokens, roomsize_token_verification=roomsize_token_verification,
                                         app_id=app_id, app_secret=app_secret, focus=f"focus@auth.{domain}",
                                         guests_allowed=guests_allowed))
        log_path = workdir / "prosody.log"
        log_path.unlink(missing_ok=True)
        if attempt == 0:  # the focus's account, as jicofo's installation registers it
            subprocess.run([prosodyctl, "--config", str(config), "register", "focus", f"auth.{domain}",
                            focus_password], env=env, check=True, capture_output=True, timeout=30)
        with open(workdir / "prosody.out", "wb") as out:
            process = subprocess.Popen([prosody, "--config", str(config), "-F"], env=env, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            if _wait_ready(process, http_port, c2s_port, log_path):
                break
        except BaseException:
            _stop(process)
            raise
        _stop(process)
    else:
        raise ProsodyError("Prosody did not start (ports taken?):\n" + "\n".join(_load_errors(log_path)[-10:]))
    jitsi = RealJitsi(domain=domain, http_port=http_port, c2s_port=c2s_port, tokens=tokens,
                      roomsize_token_verification=roomsize_token_verification, app_id=app_id,
                      app_secret=app_secret, workdir=workdir)
    try:
        yield jitsi
    finally:
        jitsi.close()
        _stop(process)


def _wait_ready(process: subprocess.Popen, http_port: int, c2s_port: int, log_path: Path) -> bool:
    """True once both ports answer; False when Prosody exited (e.g. a port taken); ProsodyError for a module that
    failed to load (a missing Lua library), which no retry mends."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            ok = requests.get(f"http://127.0.0.1:{http_port}/http-bind", timeout=1).status_code == 200
            with socket.create_connection(("127.0.0.1", c2s_port), timeout=1):
                pass
        except (requests.RequestException, OSError):
            ok = False
        if ok:
            # Expected: no certificates on loopback; and without token login mod_muc_size's token/util logs that
            # app_id is missing (then it answers without token checks, as on a real open server).
            errors = [line for line in _load_errors(log_path)
                      if "certificate" not in line and "'app_id' must not be empty" not in line]
            if errors:
                raise ProsodyError("Prosody started, but with errors:\n" + "\n".join(errors))
            return True
        time.sleep(0.05)
    raise ProsodyError(f"Prosody did not answer within {START_TIMEOUT_S:.0f} s; log: {log_path}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="session")
def real_jitsi(tmp_path_factory) -> Iterator[RealJitsi]:
    """One Prosody for the whole run: token login on, enable_roomsize_token_verification on (docs/jitsi-server.md's
    recommended setup). Tests use their own room names; rooms vanish when their last participant leaves."""
    with start_prosody(tmp_path_factory.mktemp("prosody")) as jitsi:
        yield jitsi


@pytest.fixture(scope="session")
def real_jitsi_open(tmp_path_factory) -> Iterator[RealJitsi]:
    """One Prosody for the whole run without token login: anyone joins, /room-size and /room answer anyone."""
    with start_prosody(tmp_path_factory.mktemp("prosody-open"), tokens=False,
                       roomsize_token_verification=False) as jitsi:
        yield jitsi


def token_for(jitsi: RealJitsi, room: str, **changes) -> str:
    """A kiosk token for `room` minted as `palim-provision tokens` does (provisioning/tokens.py), `sub` the XMPP
    domain; `changes` override mint()'s arguments (secret=, domain=, valid_days=, now=)."""
    from provisioning.tokens import mint

    arguments = {"app_id": jitsi.app_id, "secret": jitsi.app_secret, "domain": jitsi.domain, "room": room,
                 "resident": "Erna", **changes}
    return mint(**arguments)


__all__ = ["RealJitsi", "JoinResult", "ProsodyError", "start_prosody", "real_jitsi", "real_jitsi_open", "token_for",
           "DOMAIN", "APP_ID", "APP_SECRET", "UPSTREAM"]
