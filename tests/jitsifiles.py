"""Jitsi's real files for the server-check tests: served on loopback as a city's server serves them, and docker's
config templates rendered as docker-jitsi-meet renders them.

The files stay in ../shared/upstream/jitsi/ (SOURCES.md) and are read from there, never copied. The loopback server is
the stand-in (its TLS and certificate) with a handler that serves given bytes for chosen paths. Docker's web image
renders `system-config.js` and then `settings-config.js` with its `tpl` tool (Go's text/template with sprig's
functions and a `toBool`) into one config.js; `render_tpl` does the same for the constructs those two templates use
(variables, pipelines, if/else if/else, trim markers, default, toBool, not, or, printf %t, ternary, join, splitList,
compact, split, trimPrefix, trimSuffix), and refuses anything else rather than guess.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import requests

from jitsi_standin.server import StandinHandler, StandinServer

UPSTREAM = Path(__file__).resolve().parents[1].parent / "shared" / "upstream" / "jitsi"
CONFIG_JS = UPSTREAM / "jitsi-meet" / "config.js"
INTERFACE_CONFIG_JS = UPSTREAM / "jitsi-meet" / "interface_config.js"
EXTERNAL_API_JS = UPSTREAM / "external_api.min.js"
DOCKER = UPSTREAM / "docker-jitsi-meet"


class _FilesHandler(StandinHandler):
    def do_GET(self) -> None:  # noqa: N802 (name fixed by the base class)
        body = self.server.standin.files.get(self.path.split("?")[0])
        if body is None:
            super().do_GET()
        else:
            self.send_body(200, body, "application/javascript; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802 (name fixed by the base class)
        """/http-bind to Prosody, as Debian's nginx site proxies it (location = /http-bind)."""
        upstream = self.server.standin.bosh_upstream
        if upstream is None or self.path.split("?")[0] != "/http-bind":
            super().do_POST()
            return
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(length, 1 << 16))
        query = self.path[len("/http-bind"):]
        answer = requests.post(upstream + query, data=body, timeout=20,
                               headers={"Content-Type": self.headers.get("Content-Type", "text/xml")})
        self.send_body(answer.status_code, answer.content, answer.headers.get("Content-Type", "text/xml"))


class FilesServer(StandinServer):
    """The stand-in, serving `files` (path -> bytes) in place of its own config.js, interface_config.js and
    external_api.js, and with `bosh_upstream` passing POST /http-bind on to that Prosody (tests/realjitsi.py)."""

    handler_class = _FilesHandler

    def __init__(self, files: dict[str, bytes], bosh_upstream: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.files = dict(files)
        self.bosh_upstream = bosh_upstream


def debian_config_js(domain: str) -> bytes:
    """jitsi-meet's config.js as Debian's jitsi-meet-web-config postinst installs it for `domain` (its sed)."""
    return CONFIG_JS.read_bytes().replace(b"jitsi-meet.example.com", domain.encode())


def upstream_files(config: bytes | None = None) -> dict[str, bytes]:
    """jitsi-meet's own three scripts as a server serves them; `config` replaces config.js (docker's render)."""
    return {"/config.js": config if config is not None else CONFIG_JS.read_bytes(),
            "/interface_config.js": INTERFACE_CONFIG_JS.read_bytes(),
            "/external_api.js": EXTERNAL_API_JS.read_bytes()}


def docker_config_js(env: dict[str, str]) -> bytes:
    """config.js as docker-jitsi-meet's web container writes it for this environment."""
    return (render_tpl((DOCKER / "system-config.js").read_text(), env)
            + render_tpl((DOCKER / "settings-config.js").read_text(), env)).encode()


# ----------------------------------------------------------------------------------- Go's text/template, a subset

_ACTION = re.compile(r"{{(-\s)?(.*?)(\s-)?}}", re.S)
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+)|(?P<open>\()|(?P<close>\))'
                    r'|(?P<pipe>\|)|(?P<word>[$.\w]+(?:\.\w+)*))')


def _go_string(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), literal[1:-1])


def _empty(value: Any) -> bool:
    return value in (None, "", False, 0) or value == [] or value == {}


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value) in ("1", "t", "T", "TRUE", "true", "True")  # Go's strconv.ParseBool; anything else: false


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


_FUNCS = {
    "default": lambda fallback, value=None: fallback if _empty(value) else value,
    "toBool": _to_bool,
    "not": lambda value: _empty(value),
    "or": lambda *values: next((v for v in values if not _empty(v)), values[-1]),
    "printf": lambda fmt, *args: fmt.replace("%t", "%s") % tuple(_text(a) for a in args),
    "ternary": lambda yes, no, test: yes if test else no,
    "join": lambda sep, items: sep.join(_text(i) for i in items),
    "splitList": lambda sep, text: text.split(sep),
    "compact": lambda items: [i for i in items if not _empty(i)],
    "split": lambda sep, text: {f"_{i}": part for i, part in enumerate(text.split(sep))},
    "trimPrefix": lambda prefix, text: text[len(prefix):] if text.startswith(prefix) else text,
    "trimSuffix": lambda suffix, text: text[:-len(suffix)] if suffix and text.endswith(suffix) else text,
}


class _Pipeline:
    def __init__(self, source: str, env: dict[str, str], variables: dict[str, Any]):
        self.tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN.finditer(source)]
        if "".join(t for _, t in self.tokens).replace(" ", "") != source.replace(" ", "").replace("\n", ""):
            raise ValueError(f"template syntax this renderer does not know: {source!r}")
        self.env, self.variables, self.pos = env, variables, 0

    def run(self) -> Any:
        value = self._command(None)
        while self.pos < len(self.tokens) and self.tokens[self.pos][0] == "pipe":
            self.pos += 1
            value = self._command(value, piped=True)
        return value

    def _command(self, piped_value: Any, piped: bool = False) -> Any:
        args: list[Any] = []
        name = None
        while self.pos < len(self.tokens) and self.tokens[self.pos][0] not in ("pipe", "close"):
            kind, text = self.tokens[self.pos]
            if name is None and not args and kind == "word" and text in _FUNCS:
                name = text
                self.pos += 1
                continue
            args.append(self._operand())
        if piped:
            args.append(piped_value)
        if name is None:
            if len(args) != 1:
                raise ValueError(f"a command without a function takes one value: {args!r}")
            return args[0]
        return _FUNCS[name](*args)

    def _operand(self) -> Any:
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "str":
            return _go_string(text)
        if kind == "num":
            return int(text)
        if kind == "open":
            value = self.run()
            if self.tokens[self.pos][0] != "close":
                raise ValueError("unbalanced parenthesis")
            self.pos += 1
            if self.pos < len(self.tokens) and self.tokens[self.pos][1].startswith("._"):
                value = value[self.tokens[self.pos][1][1:]]  # (split "." x)._0
                self.pos += 1
            return value
        if text.startswith(".Env."):
            return self.env.get(text[5:], "")  # a map[string]string: a missing key is ""
        if text.startswith("$"):
            return self.variables[text]
        raise ValueError(f"unknown operand {text!r}")


def render_tpl(template: str, env: dict[str, str]) -> str:
    """Render a docker-jitsi-meet template as its tpl tool does (the subset described above)."""
    pieces: list[tuple[str, str]] = []  # ("text", ...) and ("action", ...), trim markers applied
    last = 0
    for match in _ACTION.finditer(template):
        text = template[last:match.start()]
        if match.group(1):
            text = text.rstrip()
        pieces.append(("text", text))
        pieces.append(("action", match.group(2).strip()))
        if match.group(3):
            rest = template[match.end():]
            last = match.end() + len(rest) - len(rest.lstrip())
        else:
            last = match.end()
    pieces.append(("text", template[last:]))

    variables: dict[str, Any] = {}
    out: list[str] = []
    stack: list[list[bool]] = []  # per open if: [this branch is on, a branch was taken, the enclosing one is on]

    def active() -> bool:
        return all(frame[0] for frame in stack)

    for kind, body in pieces:
        if kind == "text":
            if active():
                out.append(body)
            continue
        if body.startswith("if "):
            on = active() and not _empty(_Pipeline(body[3:], env, variables).run())
            stack.append([on, on])
        elif body.startswith("else if "):
            frame = stack[-1]
            stack.pop()
            on = active() and not frame[1] and not _empty(_Pipeline(body[8:], env, variables).run())
            stack.append([on, frame[1] or on])
        elif body == "else":
            frame = stack.pop()
            on = active() and not frame[1]
            stack.append([on, True])
        elif body == "end":
            stack.pop()
        elif re.match(r"\$\w+\s*:=", body):
            name, expression = body.split(":=", 1)
            if active():
                variables[name.strip()] = _Pipeline(expression, env, variables).run()
        elif active():
            out.append(_text(_Pipeline(body, env, variables).run()))
    if stack:
        raise ValueError("an if without its end")
    return "".join(out)
