"""One tap from home into the room and back, through real QtWebEngine and the stand-in."""

from PyQt6.QtCore import QPoint

from kiosk.jitsi import join_options
from kiosk.screen import Screen
from tests.e2e.helpers import tap, wait_report


def test_tap_joins_the_room_with_media_and_hangup_returns_home(qtbot, kiosk, server):
    assert kiosk.window.screen is Screen.HOME
    with qtbot.waitSignal(kiosk.sound_ahead, timeout=1000):  # the volume floor is checked as the call starts
        tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)

    room = kiosk.config.room
    loaded = wait_report(qtbot, server, "loaded", room=room)
    assert loaded["room"] == kiosk.config.room
    assert loaded["userInfo"]["displayName"] == "Erna Müller"
    assert loaded["config"]["prejoinConfig"] == {"enabled": False}
    assert loaded["config"]["toolbarButtons"] == []
    assert loaded["lang"] == "de"
    # The stand-in applies only what a real Jitsi applies: everything the kiosk sent arrived, nothing was dropped.
    sent = join_options(kiosk.config)
    assert loaded["dropped"] == []
    assert (loaded["config"], loaded["interfaceConfig"]) == (sent["configOverwrite"], sent["interfaceConfigOverwrite"])
    media = wait_report(qtbot, server, "media", room=room)
    kinds = {t["kind"]: t for t in media["tracks"]}
    assert set(kinds) == {"audio", "video"}
    assert all(t["readyState"] == "live" and t["enabled"] for t in kinds.values())

    w, h = kiosk.window.width(), kiosk.window.height()
    button = kiosk.window.call.hangup_button
    assert button.isVisible()
    assert button.geometry().translated(button.parentWidget().mapTo(kiosk.window, QPoint(0, 0))).contains(
        QPoint(w // 2, h - 1))

    tap(qtbot, button)
    wait_report(qtbot, server, "command", lambda r: r["name"] == "hangup" and r["args"] == [False], room=room)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.HOME, timeout=10000)


def test_family_ending_the_call_returns_home(qtbot, kiosk, server):
    tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    server.send(kiosk.config.room, "family-hangup")
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.HOME, timeout=10000)


def test_support_screenshot_blanks_the_video_during_a_call(qtbot, kiosk, server):
    tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    wait_report(qtbot, server, "media", room=kiosk.config.room)
    qtbot.wait(1000)
    live = kiosk.window.grab().toImage()
    shot = kiosk.window.support_screenshot().toImage()
    assert live.pixelColor(640, 300).name() != "#1d2a38"  # the fake camera's picture is there
    assert shot.pixelColor(640, 300).name() == "#1d2a38"  # and blanked in the support screenshot
    assert shot.pixelColor(640, 790).name() == "#a4161a"  # the Auflegen button stays visible


def test_the_call_button_covers_the_centre_and_a_third_of_the_screen(kiosk):
    button = kiosk.window.home.call_button
    area = button.geometry().translated(button.parentWidget().mapTo(kiosk.window, QPoint(0, 0)))
    assert area.contains(QPoint(kiosk.window.width() // 2, kiosk.window.height() // 2))
    share = area.width() * area.height() / (kiosk.window.width() * kiosk.window.height())
    print(f"call button: {share:.0%} of the screen")
    assert share >= 1 / 3


def _page_value(qtbot, page, script: str):
    box: list = []
    page.runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=5000)
    return box[0]


def test_each_call_gets_a_fresh_call_page_and_a_quick_second_tap_still_joins(qtbot, kiosk, server):
    room = kiosk.config.room
    tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    # Stands for what Chromium may keep of a call in the page (a removed iframe's window): it must not outlive it.
    assert _page_value(qtbot, kiosk.calls.view.page, "window.leftByTheCall = 'x'; typeof window.leftByTheCall") \
        == "string"
    tap(qtbot, kiosk.window.call.hangup_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.HOME, timeout=10000)

    # Tapped again at once, while the fresh page may still be loading: the join waits for it, nothing is lost.
    tap(qtbot, kiosk.window.home.call_button)
    qtbot.waitUntil(lambda: kiosk.window.screen is Screen.IN_CALL, timeout=20000)
    assert _page_value(qtbot, kiosk.calls.view.page, "typeof window.leftByTheCall") == "undefined"
    qtbot.waitUntil(lambda: len([r for r in server.reports if r["type"] == "joined" and r.get("room") == room]) == 2,
                    timeout=10000)
