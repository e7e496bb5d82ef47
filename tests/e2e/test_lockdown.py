"""Deny by default, seen through the real page: navigation, frames, popups, permissions, certificates."""

import logging

from PyQt6.QtCore import QUrl

from kiosk.screen import Screen
from kiosk.config import config_from_text
from kiosk.web.scheme import CALL_PAGE_URL
from tests.e2e.helpers import close_kiosk, config_text, make_kiosk, tap, wait_report


def run_js(qtbot, page, script: str, timeout=10000):
    """Run JavaScript in the call page and return its result."""
    result = []
    page.runJavaScript(script, 0, result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=timeout)
    return result[0]


def js_until(qtbot, page, script: str, timeout=10000):
    """Poll a JavaScript expression until it is not null."""
    value = []

    def check() -> bool:
        page.runJavaScript(script, 0, value.append)
        return bool(value) and value[-1] is not None

    qtbot.waitUntil(check, timeout=timeout)
    return value[-1]


def foreign(server) -> str:
    # localhost and 127.0.0.1 are different origins: a foreign site served by the same loopback server.
    return f"https://localhost:{server.port}"


def test_foreign_main_frame_navigation_is_blocked(qtbot, kiosk, server, caplog):
    page = kiosk.calls.view.page
    with caplog.at_level(logging.WARNING):
        run_js(qtbot, page, f"location.href = '{foreign(server)}/evil-main'; true")
        qtbot.wait(800)
    assert page.url().adjusted(QUrl.UrlFormattingOption.RemoveFragment) == CALL_PAGE_URL
    assert "/evil-main" not in server.requests
    assert any("navigation blocked (main frame)" in r.message for r in caplog.records)


def test_navigation_to_the_server_itself_is_blocked_in_the_main_frame(qtbot, kiosk, server):
    page = kiosk.calls.view.page
    run_js(qtbot, page, f"location.href = '{server.url}/some-room'; true")
    qtbot.wait(800)
    assert page.url().adjusted(QUrl.UrlFormattingOption.RemoveFragment) == CALL_PAGE_URL


def test_foreign_iframe_is_blocked(qtbot, kiosk, server, caplog):
    page = kiosk.calls.view.page
    with caplog.at_level(logging.WARNING):
        run_js(qtbot, page, "const f = document.createElement('iframe'); "
                            f"f.src = '{foreign(server)}/evil-frame'; document.body.appendChild(f); true")
        qtbot.wait(1000)
    assert "/evil-frame" not in server.requests
    assert any("evil-frame" in r.message for r in caplog.records)


def test_foreign_script_is_blocked(qtbot, kiosk, server):
    page = kiosk.calls.view.page
    run_js(qtbot, page, "window.loaded = null; const s = document.createElement('script'); "
                        f"s.src = '{foreign(server)}/external_api.js?evil'; s.onload = () => window.loaded = 'yes'; "
                        "s.onerror = () => window.loaded = 'no'; document.head.appendChild(s); true")
    assert js_until(qtbot, page, "window.loaded") == "no"


def test_popups_are_blocked(qtbot, kiosk, server):
    page = kiosk.calls.view.page
    assert run_js(qtbot, page, f"window.open('{server.url}/popup') === null") is True
    run_js(qtbot, page, f"const a = document.createElement('a'); a.href = '{server.url}/blank-target'; "
                        "a.target = '_blank'; document.body.appendChild(a); a.click(); true")
    qtbot.wait(800)
    assert "/popup" not in server.requests and "/blank-target" not in server.requests
    assert page.url().adjusted(QUrl.UrlFormattingOption.RemoveFragment) == CALL_PAGE_URL


def test_camera_request_from_another_origin_is_denied(qtbot, kiosk, caplog):
    page = kiosk.calls.view.page  # the local page itself is not the configured server
    with caplog.at_level(logging.WARNING):
        run_js(qtbot, page, "window.gum = null; navigator.mediaDevices.getUserMedia({video: true, audio: true})"
                            ".then(() => window.gum = 'granted', e => window.gum = 'denied: ' + e.name); true")
        outcome = js_until(qtbot, page, "window.gum", timeout=15000)
    assert outcome.startswith("denied")
    assert any("permission denied" in r.message and "not the configured server" in r.message
               for r in caplog.records)


def test_certificate_without_matching_pin_is_rejected(qtbot, server, tmp_path, caplog):
    server.clear()
    text = config_text(server, tmp_path).replace(server.cert_sha256, "0" * 64)
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    try:
        qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
        with caplog.at_level(logging.ERROR):
            tap(qtbot, window.window.home.call_button)
            qtbot.waitUntil(lambda: window.window.screen is Screen.WAITING, timeout=20000)
        assert "/external_api.js" not in server.requests
        assert any("certificate rejected for 127.0.0.1" in r.message for r in caplog.records)
        assert not any(r.get("type") == "media" for r in server.reports)
    finally:
        close_kiosk(window)


def test_the_right_pin_is_what_lets_the_call_through(qtbot, kiosk, server):
    # The counterpart of the test above: with the stand-in's own pin, the script and room load.
    tap(qtbot, kiosk.window.home.call_button)
    wait_report(qtbot, server, "joined")
    assert "/external_api.js" in server.requests
