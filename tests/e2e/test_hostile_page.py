"""A hostile script in the call page (the server's external_api.js runs there) cannot crash the kiosk or open dialogs."""

from __future__ import annotations

import logging

from PyQt6.QtCore import QPoint, Qt

from kiosk.screen import Screen
from tests.e2e.helpers import tap, wait_report


def run_js(qtbot, kiosk, script: str, timeout: int = 10000):
    """Run a script in the call page's main world and wait for its result."""
    done: list = []
    kiosk.calls.view.page.runJavaScript(script, 0, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=timeout)
    return done[0]


def test_hostile_bridge_calls_are_dropped_and_a_call_still_works(qtbot, kiosk, server, caplog):
    caplog.set_level(logging.WARNING)
    run_js(qtbot, kiosk, """
        kiosk.event(1, "videoConferenceJoined", "[".repeat(200000) + "]".repeat(200000));
        kiosk.event(1, "videoConferenceJoined", JSON.stringify(JSON.parse('{"a":'.repeat(50) + '1' + '}'.repeat(50))));
        kiosk.event(1, "x".repeat(100000), "{}");
        kiosk.event(1, "errorOccurred", "{not json");
        kiosk.event(1, "errorOccurred", "x".repeat(5000000));
        true
    """)
    qtbot.waitUntil(lambda: sum("page event dropped" in r.message for r in caplog.records) >= 4, timeout=10000)
    assert kiosk.window.screen is Screen.HOME  # none of it counted as a join
    tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    wait_report(qtbot, server, "joined", room=kiosk.config.room)


def test_palim_urls_with_nul_or_traversal_are_refused_and_the_kiosk_stays_up(qtbot, kiosk, caplog):
    caplog.set_level(logging.WARNING)
    run_js(qtbot, kiosk, """
        window.fetched = null;
        const load = (path) => new Promise((resolve) => {
            const element = document.createElement("script");
            element.onload = () => resolve("200");
            element.onerror = () => resolve("refused");
            element.src = "palim://kiosk/" + path;
            document.head.appendChild(element);
        });
        (async () => {
            const out = [];
            for (const path of ["%00", "call.html%00.js", "..%2f..%2fetc%2fpasswd", "%2e%2e/x", "nope.js",
                                "qwebchannel.js"]) {
                out.push(await load(path));
            }
            window.fetched = out.join(",");
        })();
        true
    """)
    qtbot.waitUntil(lambda: run_js(qtbot, kiosk, "window.fetched") is not None, timeout=10000)
    results = run_js(qtbot, kiosk, "window.fetched").split(",")
    assert results[:-1] == ["refused"] * 5 and results[-1] == "200"
    assert kiosk.calls.view.is_ready


def test_alert_confirm_and_prompt_are_refused_at_once_and_logged(qtbot, kiosk, caplog):
    caplog.set_level(logging.WARNING)
    answers = run_js(qtbot, kiosk, """
        [String(alert("Ihr Gerät hat ein Virus")), String(confirm("Wirklich?")), String(prompt("PIN?", "1234"))].join("|")
    """)
    assert answers == "undefined|false|null"
    messages = [r.message for r in caplog.records]
    assert any(m.startswith("alert() refused from palim://kiosk") for m in messages)
    assert any(m.startswith("confirm() refused") for m in messages)
    assert any(m.startswith("prompt() refused") for m in messages)
    assert not any("Virus" in m or "PIN?" in m for m in messages)  # what a page says is never logged


def test_a_file_chooser_never_opens(qtbot, kiosk, caplog):
    caplog.set_level(logging.WARNING)
    kiosk.window.show_screen(Screen.IN_CALL)  # the call page on screen, so a real click can reach it
    run_js(qtbot, kiosk, """
        const input = document.createElement("input");
        input.type = "file";
        input.style = "position:fixed;left:0;top:0;width:300px;height:300px;z-index:99";
        document.body.appendChild(input);
        true
    """)
    view = kiosk.calls.view.view
    qtbot.waitUntil(lambda: view.focusProxy() is not None, timeout=5000)
    qtbot.waitExposed(view)
    qtbot.wait(300)  # the page is painted before a click can land on its input
    target = view.focusProxy()
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.waitUntil(lambda: any(r.message.startswith("file chooser refused") for r in caplog.records), timeout=10000)
    kiosk.window.show_screen(Screen.HOME)
