"""kiosk/core/jsconfig.py: a Jitsi server's config.js and interface_config.js run in real V8 on a minimal page for
the server's host, read back as the browser would have them; limits keep a hostile script from hanging the check."""

from __future__ import annotations

from kiosk.core.jsconfig import Outcome, Page, external_api_outcome, get, truthy

HOST = "konferenz.example.org"


def test_the_effective_config_is_what_the_script_leaves_after_every_later_line():
    source = ("var config = {hosts: {domain: 'konferenz.example.org'}, p2p: {enabled: true}};\n"
              "config.p2p.enabled = !1;\n"
              "Object.assign(config, {prejoinConfig: {enabled: false}});\n"
              "config = {...config, disableDeepLinking: !0};\n")
    with Page(HOST) as page:
        outcome = page.settings(source, "config")
    assert outcome == Outcome({"hosts": {"domain": HOST}, "p2p": {"enabled": False},
                               "prejoinConfig": {"enabled": False}, "disableDeepLinking": True})


def test_the_page_is_the_servers_own_host_and_port():
    source = ("var config = {};\n"
              "if (location.hostname === 'konferenz.example.org') { config.mine = location.host; }\n"
              "config.origin = window.location.origin;\n")
    with Page(HOST, 8443) as page:
        assert page.settings(source, "config").value == {"mine": f"{HOST}:8443", "origin": f"https://{HOST}:8443"}
    with Page("other.example.org") as page:
        assert page.settings(source, "config").value == {"origin": "https://other.example.org"}


def test_a_script_that_throws_keeps_what_it_set_before_and_says_where_it_stopped():
    source = "var config = {a: 1};\nconfig.b.c = 2;\nconfig.d = 3;\nconfig.e = 4;\n"
    with Page(HOST) as page:
        outcome = page.settings(source, "config")
    assert outcome.value == {"a": 1} and outcome.line == 2 and not outcome.syntax
    assert outcome.error.startswith("TypeError: Cannot set properties of undefined")
    assert outcome.lines_lost == 3  # lines 3, 4 and the empty last one never ran


def test_a_script_that_does_not_compile_runs_not_at_all():
    with Page(HOST) as page:
        outcome = page.settings("var config = {a: 1};\nconfig.b = {;\n", "config")
    assert outcome.syntax and outcome.value is None and outcome.lines_lost == 0
    assert outcome.error.startswith("SyntaxError")


def test_an_endless_loop_is_cut_by_the_time_limit():
    with Page(HOST) as page:
        outcome = page.settings("var config = {a: 1};\nwhile (true) {}\n", "config")
        assert outcome.value == {"a": 1} and outcome.error is not None and not outcome.syntax
        assert page.settings("var interfaceConfig = {b: 2};\n", "interfaceConfig").value == {"b": 2}  # page lives on


def test_a_name_that_is_no_object_reads_as_none():
    with Page(HOST) as page:
        page.run("var config = 5; var broken = {get x() { throw new Error('no'); }};")
        assert page.global_object("config") is None
        assert page.global_object("missing") is None
        assert page.global_object("broken") is None


def test_the_iframe_api_must_define_its_constructor():
    defined, outcome = external_api_outcome("function JitsiMeetExternalAPI(domain, options) {}", HOST)
    assert defined and outcome.error is None
    defined, _ = external_api_outcome("window.JitsiMeetExternalAPI = function () {};", HOST)
    assert defined
    defined, outcome = external_api_outcome("var somethingElse = 1;", HOST)
    assert not defined and outcome.error is None
    defined, outcome = external_api_outcome("function (", HOST)
    assert not defined and outcome.syntax


def test_reading_dotted_keys_and_javascript_truthiness():
    config = {"p2p": {"enabled": False}, "toolbarButtons": []}
    assert get(config, "p2p.enabled") is False and get(config, "p2p.missing", "x") == "x"
    assert get(config, "toolbarButtons.0") is None
    assert [truthy(v) for v in ("", 0, None, False, {}, [], "0", 1)] == [False, False, False, False, True, True,
                                                                         True, True]
