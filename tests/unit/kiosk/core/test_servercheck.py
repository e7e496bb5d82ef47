"""kiosk.core.servercheck's reading of config.js, interface_config.js and external_api.js: run in V8 as a browser
runs them, judged by jitsi-meet's current rules. Hand-written configs in the forms admins write; jitsi-meet's and
docker's own files are in test_servercheck_upstream.py."""

from __future__ import annotations

import pytest

from jitsi_standin.server import static_file
from kiosk.core.jsconfig import Page, external_api_outcome
from kiosk.core.servercheck import FAIL, OK, WARN, config_findings, interface_findings
from kiosk.core.xmpplogin import Login

HOST = "meet.example.org"


def statuses(findings) -> dict[str, str]:
    return {f.check: f.status for f in findings}


def effective(source: str, name: str = "config", host: str = HOST):
    with Page(host) as page:
        return page.settings(source, name)


def judged(source: str, **kwargs) -> dict[str, str]:
    return statuses(config_findings(effective(source).value, has_token=False, host=HOST, **kwargs))


def test_an_object_with_later_assignments_comments_and_minified_values():
    source = """
        // var config = { enableWelcomePage: true };   (a comment: never run)
        var config = {
            hosts: { domain: 'meet.example.org', 'anonymousdomain': "guest.meet.example.org" },
            p2p: { enabled: !1, stunServers: [{ urls: 'stun:x:443' }] },
            resolution: -360, name: `plain`, nothing: undefined, welcomePage: { disabled: !0 }
        };
        config.deeplinking = { disabled: true };
        config['hosts'].muc = 'conference.meet.example.org';
        var other = {}; other.enableWelcomePage = true;
    """
    config = effective(source).value
    assert config["hosts"] == {"domain": "meet.example.org", "anonymousdomain": "guest.meet.example.org",
                               "muc": "conference.meet.example.org"}
    assert config["p2p"]["enabled"] is False and config["resolution"] == -360 and config["name"] == "plain"
    assert "nothing" not in config and config["welcomePage"] == {"disabled": True}
    assert judged(source)["welcome page"] == OK and judged(source)["p2p"] == WARN


def test_spread_object_assign_and_nullish_coalescing_are_applied():
    source = """
        var subdomain = '';
        var base = { enableClosePage: true };
        var config = { ...base, hosts: { domain: 'meet.example.org', muc: 'conference.' + (subdomain ?? '') + 'x' } };
        Object.assign(config, { deeplinking: { disabled: true }, welcomePage: { disabled: true } });
        config.p2p = { ...config.p2p, enabled: true };
    """
    config = effective(source).value
    assert config["hosts"]["muc"] == "conference.x" and config["enableClosePage"] is True
    assert judged(source) == {"prejoin": OK, "deep linking": OK, "welcome page": OK, "close page": WARN, "p2p": OK,
                              "tokens": OK}


@pytest.mark.parametrize("host, applied", [(HOST, True), ("other.example.org", False)])
def test_settings_inside_an_if_on_the_servers_host_apply_as_in_the_browser(host, applied):
    source = """
        var config = { hosts: { domain: 'meet.example.org' } };
        if (location.hostname === 'meet.example.org' && window.location.protocol === 'https:') {
            config.welcomePage = { disabled: true };
        }
        if (document.location.host.indexOf('meet.') === 0) { config.enableClosePage = false; }
    """
    config = effective(source, host=host).value
    assert ("welcomePage" in config) is applied and ("enableClosePage" in config) is applied
    assert judged_config(config)["welcome page"] == (OK if applied else WARN)


def test_a_line_that_throws_stops_the_script_there_as_in_the_browser():
    # The stock config.js has no deeplinking object: this line throws a TypeError in the browser, and the welcome
    # page line after it never runs.
    source = ("var config = { hosts: { domain: 'meet.example.org' } };\n"
              "config.p2p = { enabled: true };\n"
              "config.deeplinking.disabled = true;\n"
              "config.welcomePage = { disabled: true };\n")
    outcome = effective(source)
    assert outcome.line == 3 and outcome.error.startswith("TypeError") and outcome.lines_lost == 2
    assert outcome.value["p2p"] == {"enabled": True} and "welcomePage" not in outcome.value
    assert judged(source)["welcome page"] == WARN and judged(source)["deep linking"] == WARN


def test_a_script_that_does_not_compile_runs_not_at_all():
    outcome = effective("var config = {\n  a: 1,\n  b: = 2 };\n")
    assert outcome.syntax and outcome.line == 3 and outcome.value is None


def test_a_script_is_stopped_at_the_time_limit_and_the_heap_limit():
    endless = effective("var config = { a: 1 };\nwhile (true) {}\n")
    assert "timeout" in endless.error and endless.value == {"a": 1}
    greedy = effective("var config = { a: 2 };\nvar k = []; while (true) k.push(new Array(1e6).fill(1.5));\n")
    assert "memory" in greedy.error and greedy.value == {"a": 2}


@pytest.mark.parametrize("config, on", [
    ({}, True),                                                        # jitsi-meet's default: on
    ({"welcomePage": {"disabled": True}}, False),                      # what stock config.js recommends, and docker
    ({"enableWelcomePage": False}, False),                             # the old key, read when welcomePage is absent
    ({"welcomePage": {"disabled": False}, "enableWelcomePage": False}, True),  # docker's default plus old advice
    ({"welcomePage": {}, "enableWelcomePage": False}, False),
])
def test_the_welcome_page_follows_jitsi_meets_rule(config, on):
    assert judged_config(config)["welcome page"] == (WARN if on else OK)


@pytest.mark.parametrize("config, on", [
    ({}, True), ({"deeplinking": {"disabled": True}}, False), ({"disableDeepLinking": True}, False),
    ({"deeplinking": {"disabled": False}, "disableDeepLinking": True}, True),
    ({"deeplinking": {"desktop": {}}, "disableDeepLinking": True}, False),
])
def test_deep_linking_follows_jitsi_meets_rule(config, on):
    assert judged_config(config)["deep linking"] == (WARN if on else OK)


@pytest.mark.parametrize("config, on", [
    ({}, True), ({"p2p": {"enabled": True}}, True), ({"p2p": {"stunServers": [{"urls": "stun:x"}]}}, False),
    ({"p2p": {"enabled": False}}, False),
])
def test_p2p_is_on_only_when_enabled_or_absent(config, on):
    assert judged_config(config)["p2p"] == (OK if on else WARN)


def test_prejoin_page_enabled_alone_is_read_nowhere():
    finding = only(config_findings({"prejoinPageEnabled": False}, False, HOST), "prejoin")
    assert finding.status == WARN and "page is on" in finding.message
    assert only(config_findings({"prejoinConfig": {"enabled": False}}, False, HOST), "prejoin").status == OK


def judged_config(config: dict) -> dict[str, str]:
    return statuses(config_findings(config, has_token=False, host=HOST))


def only(findings, check):
    (finding,) = [f for f in findings if f.check == check]
    return finding


def test_app_promotion_matters_only_while_deep_linking_is_on():
    promo = {"MOBILE_APP_PROMO": True, "SHOW_JITSI_WATERMARK": False}
    assert statuses(interface_findings(promo, deep_linking=True))["app promotion"] == WARN
    assert statuses(interface_findings(promo, deep_linking=False))["app promotion"] == OK


def test_watermarks_are_the_keys_jitsi_meet_still_reads():
    # SHOW_WATERMARK_FOR_GUESTS is read nowhere any more: it alone is no watermark.
    assert statuses(interface_findings({"SHOW_WATERMARK_FOR_GUESTS": True}))["watermarks"] == OK
    finding = only(interface_findings({"SHOW_JITSI_WATERMARK": True, "SHOW_BRAND_WATERMARK": True}), "watermarks")
    assert finding.status == WARN and "SHOW_JITSI_WATERMARK, SHOW_BRAND_WATERMARK" in finding.message


def test_a_string_that_only_looks_like_a_setting_is_not_one():
    source = "var interfaceConfig = { APP_NAME: 'MOBILE_APP_PROMO: false, SHOW_JITSI_WATERMARK: false', " \
             "SHOW_JITSI_WATERMARK: true, MOBILE_APP_PROMO: true };"
    found = statuses(interface_findings(effective(source, "interfaceConfig").value))
    assert found == {"watermarks": WARN, "app promotion": WARN}


@pytest.mark.parametrize("source, expected", [
    ("function JitsiMeetExternalAPI(domain, options) {}", True),
    ("var JitsiMeetExternalAPI = function () {};", True),
    ("!function (e, t) { e.JitsiMeetExternalAPI = t(); }(self, function () { return function () {}; });", True),
    # ES2022 class fields, private fields and static blocks, as current bundles have them
    ("class A { _s = {}; #p = 1; static { this.v = 2; } get p() { return this.#p; } }\n"
     "window.JitsiMeetExternalAPI = class extends A { x = this._s ?? null; };", True),
    ("console.log('JitsiMeetExternalAPI'); // JitsiMeetExternalAPI", False),
    ("<!doctype html><title>404</title>", False),  # a web server's error page
    ("var s = 'never closed", False),
    ("var o = {...a}; var s = 'JitsiMeetExternalAPI = 1';", False),  # a is undefined: it throws, defines nothing
])
def test_defining_the_iframe_api_is_what_running_it_leaves(source, expected):
    assert external_api_outcome(source, HOST)[0] is expected


def test_the_stand_ins_external_api_is_the_iframe_api():
    assert external_api_outcome(static_file("external_api.js").decode(), "127.0.0.1", 8443)[0] is True


def test_the_good_and_bad_stand_in_configurations():
    good = effective(static_file("config.js").decode()).value
    bad = effective(static_file("config-bad.js").decode()).value
    assert set(statuses(config_findings(good, has_token=False)).values()) == {OK}
    found = statuses(config_findings(bad, has_token=False))
    assert found == {"prejoin": WARN, "deep linking": WARN, "welcome page": WARN, "close page": WARN, "p2p": WARN,
                     "tokens": FAIL}
    interface = effective(static_file("interface_config.js").decode(), "interfaceConfig").value
    assert statuses(interface_findings(interface)) == {"watermarks": OK, "app promotion": OK}


@pytest.mark.parametrize("has_token, status", [(True, OK), (False, WARN)])
def test_a_guest_domain_means_tokens_for_the_kiosk_and_none_for_the_family(has_token, status):
    config = {"hosts": {"domain": "meet.example.org", "anonymousdomain": "guest.meet.example.org"}}
    tokens = only(config_findings(config, has_token), "tokens")
    assert tokens.status == status and "guest.meet.example.org" in tokens.message


@pytest.mark.parametrize("config, login, status", [
    # Debian's jitsi-meet-tokens: config.js untouched, Prosody refuses the anonymous login
    ({"hosts": {"domain": HOST}}, Login(True, False, "anonymous login refused (not-allowed)"), FAIL),
    ({"hosts": {"domain": HOST, "anonymousdomain": "guest." + HOST}}, Login(True, False, "refused"), WARN),
    # what Prosody says wins over config.js's hints
    ({"hosts": {"domain": HOST, "authdomain": HOST}}, Login(True, True, "accepted"), OK),
    ({"hosts": {"domain": HOST}}, Login(False, None, "HTTP 404"), OK),
    ({"hosts": {"domain": HOST, "authdomain": HOST}}, Login(True, None, "Prosody ended the session: host-unknown"),
     FAIL),
])
def test_what_prosody_answers_to_an_anonymous_login_decides(config, login, status):
    tokens = only(config_findings(config, False, HOST, login), "tokens")
    assert tokens.status == status, tokens
    assert ("Prosody was not asked" in tokens.message) == (not login.answered)
    assert ("judged from config.js" in tokens.message) == (login.accepted is None)


def test_every_fix_names_the_key_and_the_file_an_admin_edits():
    bad = effective(static_file("config-bad.js").decode()).value
    interface = effective(static_file("interface_config-bad.js").decode(), "interfaceConfig").value
    for finding in config_findings(bad, False, HOST) + interface_findings(interface):
        assert (finding.status == OK) == (finding.fix == ""), finding
        assert "\n" not in finding.line() and finding.fix.count(". ") == 0, finding
        if finding.check == "tokens":
            assert "hosts.anonymousdomain" in finding.fix and "ENABLE_GUESTS" in finding.fix
        elif finding.fix:
            assert ("/etc/jitsi/meet/meet.example.org-config.js" in finding.fix) != \
                ("/usr/share/jitsi-meet/interface_config.js" in finding.fix), finding
    docker = {"welcome page": "ENABLE_WELCOME_PAGE=0", "deep linking": "DISABLE_DEEP_LINKING=1",
              "p2p": "ENABLE_P2P=1", "close page": "ENABLE_CLOSE_PAGE=0", "prejoin": "ENABLE_PREJOIN_PAGE"}
    for finding in config_findings(bad, False, HOST):
        if finding.check in docker:
            assert docker[finding.check] in finding.fix, finding


def test_presence_with_a_token_asks_for_the_tokens_own_room():
    import jwt

    from kiosk.core.servercheck import token_room

    def token(**claims):
        return jwt.encode({"iss": "palim", "aud": "palim", **claims}, "secret-of-32-bytes-for-hs256-ok!", "HS256")

    assert token_room(token(room="palim-l2hdeebeoie5kzya3mw4pgrmnb")) == "palim-l2hdeebeoie5kzya3mw4pgrmnb"
    assert token_room(token(room="*")) is None
    assert token_room(token()) is None
    assert token_room("not a token") is None and token_room(None) is None
