"""server-check against Jitsi's own files as a city's server serves them: jitsi-meet's config.js, interface_config.js
and IFrame API bundle unchanged, and docker-jitsi-meet's config.js rendered from its templates for several
environments (tests/jitsifiles.py). Each finding is what jitsi-meet does with that file."""

from __future__ import annotations

import pytest

from kiosk.core.jsconfig import Page
from kiosk.core.servercheck import FAIL, OK, WARN, check_server
from kiosk.core.servercheck_child import check_server_in_child
from tests.jitsifiles import CONFIG_JS, EXTERNAL_API_JS, FilesServer, docker_config_js, render_tpl, upstream_files
from tests.requirements import need


@pytest.fixture(autouse=True)
def upstream_present():
    need(CONFIG_JS.is_file() and EXTERNAL_API_JS.is_file(),
         f"Jitsi's upstream files are not at {CONFIG_JS.parent.parent} (../shared/upstream/jitsi from the project)")


def verdicts(report) -> dict[str, str]:
    return {f.check: f.status for f in report.findings}


def test_jitsi_meets_own_files_as_shipped():
    with FilesServer(upstream_files()) as server:
        report = check_server(server.url, (server.cert_sha256,), timeout=5.0)
    assert verdicts(report) == {
        "tls": OK, "certificate": OK,
        "external_api.js": OK,      # the real bundle: ES2022 class fields, regexes; it defines the API when run
        "prejoin": OK,              # prejoinConfig is commented out: jitsi-meet's default, on for the family
        "deep linking": WARN,       # deeplinking and disableDeepLinking commented out: on
        "welcome page": WARN,       # welcomePage commented out: on
        "close page": OK,           # enableClosePage commented out: off
        "p2p": OK,                  # p2p: { enabled: true }
        "tokens": OK,               # no token settings, and no Prosody behind this loopback server
        "watermarks": WARN,         # SHOW_JITSI_WATERMARK: true
        "app promotion": WARN,      # MOBILE_APP_PROMO: true while deep linking is on
        "presence": OK,
    }
    assert not any(f.check in ("config.js", "interface_config.js") for f in report.findings)  # both ran to the end


def test_the_real_config_js_stops_where_an_admins_line_throws():
    # What issue 25 found: stock config.js has no deeplinking object, so this line throws in the browser and the
    # welcome-page line after it never runs.
    tail = b"\nconfig.deeplinking.disabled = true;\nconfig.welcomePage = { disabled: true };\n"
    files = upstream_files(CONFIG_JS.read_bytes() + tail)
    with FilesServer(files) as server:
        report = check_server(server.url, (server.cert_sha256,), timeout=5.0)
    found = {f.check: f for f in report.findings}
    line = CONFIG_JS.read_bytes().count(b"\n") + 2
    assert found["config.js"].status == WARN and f"line {line} throws TypeError" in found["config.js"].message
    assert found["welcome page"].status == WARN and found["deep linking"].status == WARN


def test_the_child_process_finds_the_same_on_the_real_files():
    with FilesServer(upstream_files()) as server:
        pins = (server.cert_sha256,)
        assert check_server_in_child(server.url, pins, timeout=5.0) == check_server(server.url, pins, timeout=5.0)


def test_the_real_bundle_defines_the_api_on_a_minimal_page():
    with Page("meet.example.org") as page:
        error, _, syntax = page.run(EXTERNAL_API_JS.read_text())
        assert error is None and not syntax
        assert page.truthy("typeof window.JitsiMeetExternalAPI === 'function'")


# --------------------------------------------------------------------------------------- docker-jitsi-meet

DOCKER_CASES = {
    # env -> (verdicts for the config.js findings, with a token given to the check, without one)
    "defaults": ({}, {"prejoin": OK, "deep linking": WARN, "welcome page": WARN, "close page": OK, "p2p": OK,
                      "tokens": OK}),
    "welcome page and deep linking off": (
        {"ENABLE_WELCOME_PAGE": "0", "DISABLE_DEEP_LINKING": "1"},
        {"prejoin": OK, "deep linking": OK, "welcome page": OK, "close page": OK, "p2p": OK, "tokens": OK}),
    "jwt with guests": (
        {"ENABLE_AUTH": "1", "AUTH_TYPE": "jwt", "ENABLE_GUESTS": "1", "JWT_APP_ID": "palim",
         "JWT_APP_SECRET": "s" * 32},
        {"prejoin": OK, "deep linking": WARN, "welcome page": WARN, "close page": OK, "p2p": OK, "tokens": WARN}),
    "jwt without guests": (
        {"ENABLE_AUTH": "1", "AUTH_TYPE": "jwt", "JWT_APP_ID": "palim", "JWT_APP_SECRET": "s" * 32},
        {"prejoin": OK, "deep linking": WARN, "welcome page": WARN, "close page": OK, "p2p": OK, "tokens": FAIL}),
    "p2p, prejoin off and close page on": (
        {"ENABLE_P2P": "false", "ENABLE_PREJOIN_PAGE": "false", "ENABLE_CLOSE_PAGE": "true"},
        {"prejoin": OK, "deep linking": WARN, "welcome page": WARN, "close page": WARN, "p2p": WARN,
         "tokens": OK}),
}


@pytest.mark.parametrize("case", list(DOCKER_CASES))
def test_docker_jitsi_meets_config_js_for_its_environments(case):
    env, expected = DOCKER_CASES[case]
    with FilesServer(upstream_files(docker_config_js(env))) as server:
        report = check_server(server.url, (server.cert_sha256,), timeout=5.0)
    found = verdicts(report)
    assert {k: found[k] for k in expected} == expected
    assert "config.js" not in found  # docker's rendering runs to the end
    # interface_config.js is jitsi-meet's own: app promotion counts only while deep linking is on
    assert found["app promotion"] == (WARN if found["deep linking"] == WARN else OK)


def test_docker_with_guests_and_a_token_is_ready():
    env, _ = DOCKER_CASES["jwt with guests"]
    with FilesServer(upstream_files(docker_config_js(env))) as server:
        report = check_server(server.url, (server.cert_sha256,), token="a.b.c", timeout=5.0)
    (tokens,) = [f for f in report.findings if f.check == "tokens"]
    assert tokens.status == OK and "guest.meet.jitsi" in tokens.message


def test_dockers_rendering_writes_what_its_environment_says():
    on = docker_config_js({}).decode()
    off = docker_config_js({"ENABLE_WELCOME_PAGE": "0", "DISABLE_DEEP_LINKING": "1"}).decode()
    assert "disabled: false" in on and "config.disableDeepLinking = false;" in on
    assert "disabled: true" in off and "config.disableDeepLinking = true;" in off
    guests = docker_config_js(DOCKER_CASES["jwt with guests"][0]).decode()
    assert "config.hosts.anonymousdomain = 'guest.meet.jitsi';" in guests
    assert "anonymousdomain" not in docker_config_js(DOCKER_CASES["jwt without guests"][0]).decode()
    assert "{{" not in on and "}}" not in on


@pytest.mark.parametrize("template, env, expected", [
    ('{{ $A := .Env.A | default "true" | toBool -}}\nx={{ $A }};', {}, "x=true;"),
    ('{{ $A := .Env.A | default "true" | toBool -}}\nx={{ not $A }};', {"A": "0"}, "x=true;"),
    ("{{ if .Env.B -}}\nb\n{{ else if .Env.C -}}\nc\n{{ else -}}\nd\n{{ end -}}\n.", {"C": "1"}, "c\n."),
    ('{{ $M := (split "." "muc.meet.jitsi")._0 -}}\n{{ $M }}', {}, "muc"),
    ('{{ join "\',\'" (splitList "," .Env.L | compact) }}', {"L": "a,,b"}, "a','b"),
    ('{{ .Env.U | default "https://x/" | trimPrefix "https://" | trimSuffix "/" }}', {}, "x"),
])
def test_the_template_subset_renders_as_go_does(template, env, expected):
    assert render_tpl(template, env) == expected


def test_the_template_renderer_refuses_what_it_does_not_know():
    with pytest.raises((ValueError, KeyError)):
        render_tpl('{{ .Env.A | upper }}', {"A": "x"})
