"""kiosk.core.servercheck's reading of config.js, interface_config.js and external_api.js: a syntax tree, no regexes."""

from __future__ import annotations

import pytest

from jitsi_standin.server import static_file
from kiosk.core.jsconfig import UNKNOWN, defines_external_api, read_object
from kiosk.core.servercheck import FAIL, OK, WARN, config_findings, interface_findings


def statuses(findings) -> dict[str, str]:
    return {f.check: f.status for f in findings}


def test_an_object_literal_is_read_with_nesting_comments_and_later_assignments():
    source = """
        // var config = { enableWelcomePage: true };   (a comment: never read)
        var config = {
            hosts: { domain: 'meet.example.org', 'anonymousdomain': "guest.meet.example.org" },
            p2p: { enabled: !1, stunServers: [{ urls: 'stun:x:443' }] },
            resolution: -360, name: `plain`, computed: window.foo(), nothing: undefined,
        };
        config.deeplinking = { disabled: true };
        config['hosts'].muc = 'conference.meet.example.org';
        other.enableWelcomePage = true;
    """
    config = read_object(source, "config")
    assert config["hosts"] == {"domain": "meet.example.org", "anonymousdomain": "guest.meet.example.org",
                               "muc": "conference.meet.example.org"}
    assert config["p2p"]["enabled"] is False and config["resolution"] == -360 and config["name"] == "plain"
    assert config["computed"] is UNKNOWN and config["nothing"] is None
    assert config["deeplinking"] == {"disabled": True}
    assert "enableWelcomePage" not in config


def test_a_string_that_only_looks_like_a_setting_is_not_one():
    source = "var interfaceConfig = { APP_NAME: 'MOBILE_APP_PROMO: false, SHOW_JITSI_WATERMARK: false' };"
    found = statuses(interface_findings(read_object(source, "interfaceConfig")))
    assert found == {"watermarks": WARN, "app promotion": WARN}


@pytest.mark.parametrize("source, message", [
    ("var config = {", "no JavaScript"),
    ("var settings = {a: 1};", "declares no 'var config"),
    ("<html><body>login</body></html>", "no JavaScript"),
])
def test_what_is_no_config_js_says_so(source, message):
    with pytest.raises(ValueError, match=message):
        read_object(source, "config")


def test_the_stand_ins_external_api_is_the_iframe_api():
    assert defines_external_api(static_file("external_api.js").decode()) is True


@pytest.mark.parametrize("source, expected", [
    ("function JitsiMeetExternalAPI(domain, options) {}", True),
    ("var JitsiMeetExternalAPI = function () {};", True),
    ("!function (e, t) { e.JitsiMeetExternalAPI = t(); }(self, function () { return 1; });", True),
    ("exports['JitsiMeetExternalAPI'] = 1;", True),
    ("console.log('JitsiMeetExternalAPI'); // JitsiMeetExternalAPI", False),
    ("<!doctype html><title>404</title>", False),  # a web server's error page
    ("var s = 'never closed", None),
    # Object spread is newer than the parser's ES2017: the lexer's tokens decide, strings still never count.
    ("var o = {...a}; window.JitsiMeetExternalAPI = function () {};", True),
    ("var o = {...a}; var s = 'JitsiMeetExternalAPI = 1';", False),
])
def test_defining_the_iframe_api_is_read_from_the_tree(source, expected):
    assert defines_external_api(source) is expected


def test_the_good_and_bad_stand_in_configurations():
    good = read_object(static_file("config.js").decode(), "config")
    bad = read_object(static_file("config-bad.js").decode(), "config")
    assert set(statuses(config_findings(good, has_token=False)).values()) == {OK}
    found = statuses(config_findings(bad, has_token=False))
    assert found == {"prejoin": WARN, "deep linking": WARN, "welcome page": WARN, "close page": WARN, "p2p": WARN,
                     "tokens": FAIL}
    assert statuses(interface_findings(read_object(static_file("interface_config.js").decode(),
                                                   "interfaceConfig"))) == {"watermarks": OK, "app promotion": OK}


@pytest.mark.parametrize("has_token, status", [(True, OK), (False, WARN)])
def test_a_guest_domain_means_tokens_for_the_kiosk_and_none_for_the_family(has_token, status):
    config = {"hosts": {"domain": "meet.example.org", "anonymousdomain": "guest.meet.example.org"}}
    (tokens,) = [f for f in config_findings(config, has_token) if f.check == "tokens"]
    assert tokens.status == status and "guest.meet.example.org" in tokens.message


def test_every_warning_and_failure_names_its_fix_in_one_sentence():
    bad = read_object(static_file("config-bad.js").decode(), "config")
    interface = read_object(static_file("interface_config-bad.js").decode(), "interfaceConfig")
    for finding in config_findings(bad, False) + interface_findings(interface):
        assert (finding.status == OK) == (finding.fix == ""), finding
        assert "\n" not in finding.line() and finding.fix.count(". ") == 0, finding


def test_presence_with_a_token_asks_for_the_tokens_own_room():
    import jwt

    from kiosk.core.servercheck import token_room

    def token(**claims):
        return jwt.encode({"iss": "palim", "aud": "palim", **claims}, "secret-of-32-bytes-for-hs256-ok!", "HS256")

    assert token_room(token(room="palim-l2hdeebeoie5kzya3mw4pgrmnb")) == "palim-l2hdeebeoie5kzya3mw4pgrmnb"
    assert token_room(token(room="*")) is None
    assert token_room(token()) is None
    assert token_room("not a token") is None and token_room(None) is None
