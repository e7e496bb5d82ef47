"""Token login as a client sees it: server-check's anonymous BOSH login against real Prosody with Jitsi's plugins
(tests/realjitsi.py), configured as Debian's jitsi-meet-tokens does, with config.js left as the package wrote it."""

from __future__ import annotations

from kiosk.core.servercheck import FAIL, OK, WARN, check_server
from kiosk.core.xmpplogin import anonymous_login
from tests.jitsifiles import FilesServer, debian_config_js, upstream_files
from tests.realjitsi import real_jitsi, real_jitsi_open, token_for  # noqa: F401 (the fixtures)


def tokens_finding(jitsi, config_js: bytes, token: str | None = None):
    with FilesServer(upstream_files(config_js), bosh_upstream=jitsi.bosh_url) as server:
        report = check_server(server.url, (server.cert_sha256,), token=token, timeout=5.0)
    (finding,) = [f for f in report.findings if f.check == "tokens"]
    return finding


def test_prosody_with_token_login_refuses_an_anonymous_login_and_lets_guests_in(real_jitsi):
    refused = anonymous_login(real_jitsi.bosh_url, real_jitsi.domain, None, 5.0)
    assert refused.answered and refused.accepted is False, refused
    guest = anonymous_login(real_jitsi.bosh_url, real_jitsi.guest_domain, None, 5.0)
    assert guest.answered and guest.accepted is True, guest


def test_a_domain_prosody_does_not_serve_is_no_verdict(real_jitsi):
    login = anonymous_login(real_jitsi.bosh_url, "not-served.example.org", None, 5.0)
    assert login.answered and login.accepted is None and "not-served.example.org" in login.detail, login


def test_debians_jitsi_meet_tokens_leaves_config_js_untouched_and_the_check_still_sees_token_login(real_jitsi):
    # config.js as the package wrote it: no token setting, no guest domain. Prosody refuses a client without a
    # token, so the family could not join: fail (before, config.js alone said "no token needed").
    finding = tokens_finding(real_jitsi, debian_config_js(real_jitsi.domain))
    assert finding.status == FAIL and "Prosody refuses a login without a token" in finding.message, finding
    assert "hosts.anonymousdomain" in finding.fix and "-config.js" in finding.fix


def test_with_the_guest_domain_in_config_js_the_kiosk_needs_its_token(real_jitsi):
    config = debian_config_js(real_jitsi.domain) + \
        f"\nconfig.hosts.anonymousdomain = '{real_jitsi.guest_domain}';\n".encode()
    assert tokens_finding(real_jitsi, config).status == WARN
    assert tokens_finding(real_jitsi, config, token="a.b.c").status == OK



def test_an_open_prosody_accepts_an_anonymous_login(real_jitsi_open):
    login = anonymous_login(real_jitsi_open.bosh_url, real_jitsi_open.domain, None, 5.0)
    assert login.answered and login.accepted is True, login


def test_an_open_server_needs_no_token(real_jitsi_open):
    finding = tokens_finding(real_jitsi_open, debian_config_js(real_jitsi_open.domain))
    assert finding.status == OK and "Prosody accepts an anonymous login" in finding.message, finding


def token_findings(jitsi, token: str) -> dict:
    """server-check with the kiosk's token against real Prosody, presence through Prosody's own mod_muc_size."""
    config = debian_config_js(jitsi.domain) + f"\nconfig.hosts.anonymousdomain = '{jitsi.guest_domain}';\n".encode()
    with FilesServer(upstream_files(config), bosh_upstream=jitsi.bosh_url) as server:
        report = check_server(server.url, (server.cert_sha256,), token=token, timeout=5.0,
                              presence_url=jitsi.presence_url("room-size"))
    return {f.check: f for f in report.findings}


def test_the_kiosks_token_logs_in_and_its_empty_room_is_no_refusal(real_jitsi):
    found = token_findings(real_jitsi, token_for(real_jitsi, "palim-leerer-raum"))
    assert found["token login"].status == OK, found["token login"]
    # token verification: mod_muc_size answers 403 for the token's room while nobody is in it
    assert found["presence"].status == OK and "403 for the token's room" in found["presence"].message


def test_a_token_signed_with_another_secret_is_refused_at_login(real_jitsi):
    token = token_for(real_jitsi, "palim-leerer-raum", secret="another-secret-of-at-least-32-bytes!")
    found = token_findings(real_jitsi, token)
    assert found["token login"].status == FAIL and "refuses the kiosk's token" in found["token login"].message
    # presence alone cannot tell it: the same bare 403 as the empty room (the docs say so)
    assert found["presence"].status == OK


def test_an_expired_token_is_refused_at_login_and_by_presence(real_jitsi):
    from datetime import datetime, timedelta, timezone

    token = token_for(real_jitsi, "palim-leerer-raum", now=datetime.now(timezone.utc) - timedelta(days=400),
                      valid_days=30)
    found = token_findings(real_jitsi, token)
    assert found["token login"].status == FAIL
    assert found["presence"].status == FAIL and "expired" in found["presence"].message
