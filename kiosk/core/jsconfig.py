"""Running a Jitsi server's JavaScript settings the way a browser does: V8 (mini-racer), a minimal page, limits.

`config.js` and `interface_config.js` are scripts the browser runs one after the other in the room page's window:
`var config = {...}` plus whatever an admin wrote after it (`config.x = ...`, `Object.assign`, spread, `if
(location.hostname === ...)`, minified `!0`). Reading them as text can never be right, so they run here in a real
JavaScript engine with a minimal `window`/`location`/`document` for the server's host, under a time limit and a V8
heap limit, and the effective `config` / `interfaceConfig` objects are read back as JSON. A script that throws stops
where it throws, as in the browser: what it set before that line stays, the rest is lost, and the result says which
line. `external_api.js` must compile and, run on such a page, define JitsiMeetExternalAPI. No Qt; the kiosk runs this
only in a child process (kiosk.core.servercheck_child), so V8 never stays in the kiosk.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SCRIPT_TIMEOUT_S = 2.0  # the real config.js runs in under a millisecond; a loop that never ends is cut here
HEAP_LIMIT_BYTES = 64 << 20  # V8's hard heap limit per page: the IFrame API bundle needs a few MiB, config.js less
_MESSAGE_CHARS = 200

# The page a script sees: what config.js, interface_config.js and the IFrame API bundle touch while they load.
# Timers never fire and events never come: only the scripts' own top-level code runs.
_PRELUDE = r"""
var window = globalThis, self = globalThis, top = globalThis, parent = globalThis;
var location = %(location)s;
var navigator = {userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) '
    + 'Chrome/140.0.0.0 Safari/537.36', language: 'en', languages: ['en'], product: 'Gecko', platform: 'Linux x86_64'};
function _element() { return {style: {}, dataset: {}, setAttribute: function () {}, getAttribute: function () { return null; },
    appendChild: function (c) { return c; }, removeChild: function (c) { return c; }, addEventListener: function () {},
    removeEventListener: function () {}}; }
var document = {location: location, readyState: 'complete', cookie: '', referrer: '', currentScript: null,
    head: _element(), body: _element(), documentElement: _element(), createElement: _element,
    getElementById: function () { return null; }, getElementsByTagName: function () { return []; },
    querySelector: function () { return null; }, querySelectorAll: function () { return []; },
    addEventListener: function () {}, removeEventListener: function () {}};
function addEventListener() {} function removeEventListener() {} function postMessage() {}
function setTimeout() { return 0; } function clearTimeout() {} function setInterval() { return 0; } function clearInterval() {}
var localStorage = {getItem: function () { return null; }, setItem: function () {}, removeItem: function () {},
    clear: function () {}, key: function () { return null; }, length: 0}, sessionStorage = localStorage;
var console = {log: function () {}, warn: function () {}, error: function () {}, info: function () {},
    debug: function () {}, trace: function () {}};
function URLSearchParams(init) {
    this._p = [];
    var list = this._p;
    String(init || '').replace(/^\?/, '').split('&').forEach(function (kv) {
        if (kv) { var i = kv.indexOf('='); list.push(i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)]); }
    });
}
URLSearchParams.prototype = {
    append: function (k, v) { this._p.push([String(k), String(v)]); },
    delete: function (k) { this._p = this._p.filter(function (p) { return p[0] !== k; }); },
    forEach: function (f, t) { this._p.forEach(function (p) { f.call(t, p[1], p[0]); }); },
    get: function (k) { var p = this._p.find(function (p) { return p[0] === k; }); return p ? p[1] : null; },
    getAll: function (k) { return this._p.filter(function (p) { return p[0] === k; }).map(function (p) { return p[1]; }); },
    has: function (k) { return this._p.some(function (p) { return p[0] === k; }); },
    set: function (k, v) { this.delete(k); this.append(k, v); },
    sort: function () {},
    toString: function () { return this._p.map(function (p) { return p[0] + '=' + p[1]; }).join('&'); }
};
function URL(href) {
    var m = /^([a-z][a-z0-9+.-]*:)\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(String(href)) || [];
    this.protocol = m[1] || ''; this.host = m[2] || ''; this.hostname = this.host.replace(/:\d+$/, '');
    this.pathname = m[3] || '/'; this.search = m[4] || ''; this.hash = m[5] || ''; this.href = String(href);
    this.origin = this.protocol + '//' + this.host; this.searchParams = new URLSearchParams(this.search);
}
"""


@dataclass(frozen=True)
class Outcome:
    """What one script did: the object it left (None: none), and where it stopped when it threw."""

    value: dict[str, Any] | None
    error: str | None = None  # 'TypeError: Cannot set properties of undefined (setting ...)'
    line: int | None = None  # the line that threw (1-based); None: it ran to the end
    lines_lost: int = 0  # lines after the throw that never ran
    syntax: bool = False  # the script did not even compile: nothing of it ran


def _location(host: str, port: int | None) -> str:
    netloc = host if port in (None, 443) else f"{host}:{port}"
    value = {"protocol": "https:", "hostname": host, "host": netloc, "port": "" if port in (None, 443) else str(port),
             "origin": f"https://{netloc}", "pathname": "/", "search": "", "hash": "", "href": f"https://{netloc}/"}
    return json.dumps(value)


def _stopped(exc: Exception) -> tuple[str, int | None]:
    """('TypeError: ...', line) from V8's message, which starts '<anonymous>:LINE: TypeError: ...'."""
    first = str(exc).split("\n", 1)[0]
    found = re.match(r"<anonymous>:(\d+): (.*)", first)
    if found:
        return found.group(2)[:_MESSAGE_CHARS], int(found.group(1))
    return first[:_MESSAGE_CHARS] or type(exc).__name__, None


class Page:
    """One browser page for a server: config.js and interface_config.js run in it one after the other."""

    def __init__(self, host: str, port: int | None = None):
        from py_mini_racer import MiniRacer  # imported here: only the check needs V8

        self._racer = MiniRacer()
        self._racer.eval(_PRELUDE % {"location": _location(host, port)}, timeout_sec=SCRIPT_TIMEOUT_S,
                         max_memory=HEAP_LIMIT_BYTES)

    def close(self) -> None:
        self._racer.close()

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, source: str) -> tuple[str | None, int | None, bool]:
        """Run one script as a <script> element does; (error, line, did-not-compile) when it threw."""
        from py_mini_racer import JSEvalException, JSParseException

        try:
            self._racer.eval(source, timeout_sec=SCRIPT_TIMEOUT_S, max_memory=HEAP_LIMIT_BYTES)
        except JSParseException as exc:
            error, line = _stopped(exc)
            return error, line, True
        except JSEvalException as exc:  # a throw, the time limit or the heap limit
            error, line = _stopped(exc)
            return error, line, False
        return None, None, False

    def global_object(self, name: str) -> dict[str, Any] | None:
        """The global NAME as JSON (functions and undefined dropped, as JSON.stringify does); None when no object."""
        from py_mini_racer import JSEvalException

        probe = (f"(function () {{ var v; try {{ v = {name}; }} catch (e) {{ return 'null'; }}"
                 f" return (v !== null && typeof v === 'object') ? JSON.stringify(v) : 'null'; }})()")
        try:
            text = self._racer.eval(probe, timeout_sec=SCRIPT_TIMEOUT_S, max_memory=HEAP_LIMIT_BYTES)
        except JSEvalException:  # a getter that throws, a cycle
            return None
        value = json.loads(text) if isinstance(text, str) else None
        return value if isinstance(value, dict) else None

    def settings(self, source: str, name: str) -> Outcome:
        """Run a settings script and read the object NAME it leaves behind (also when it threw half-way)."""
        error, line, syntax = self.run(source)
        lost = max(0, source.count("\n") + 1 - line) if line is not None and not syntax else 0
        return Outcome(self.global_object(name), error, line, lost, syntax)

    def truthy(self, expression: str) -> bool:
        from py_mini_racer import JSEvalException

        try:
            return self._racer.eval(f"!!({expression})", timeout_sec=SCRIPT_TIMEOUT_S) is True
        except JSEvalException:
            return False


def external_api_outcome(source: str, host: str, port: int | None = None) -> tuple[bool, Outcome]:
    """Whether the script, run on a fresh page, defines JitsiMeetExternalAPI (as a global or window's property)."""
    with Page(host, port) as page:
        error, line, syntax = page.run(source)
        defined = not syntax and page.truthy("typeof JitsiMeetExternalAPI === 'function'")
        return defined, Outcome(None, error, line, 0, syntax)


def get(value: dict[str, Any], dotted: str, default: Any = None) -> Any:
    """value['a']['b'] for 'a.b'; default when a part is missing."""
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def truthy(value: Any) -> bool:
    """JavaScript's truthiness of a JSON value: '' and 0 are false, {} and [] are true."""
    if isinstance(value, (dict, list)):
        return True
    return bool(value)
