"""The family side on loopback: notices by push, webhook and e-mail; ringing from presence; the practice page."""

from __future__ import annotations

import json
import socket
import ssl
from datetime import datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from kiosk import texts
from kiosk.screen import Screen
from kiosk.config import config_from_text
from tests.e2e.helpers import close_kiosk, config_text, make_kiosk, tap, wait_report
from tests.receivers import Receiver


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy),
                              session.ssl is not None))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def mailbox(server):
    """A real SMTP server on loopback that insists on STARTTLS, with the stand-in's certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server.cert_path, server.key_path)
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True)
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def family_config(server, tmp_path, receiver, mailbox=None, **presence) -> str:
    text = config_text(server, tmp_path)
    text += ("family:\n  contacts:\n"
             f"    - {{name: Anna, ntfy: {{url: '{receiver.url('/palim-erna')}', token_file: '{tmp_path}/token'}}}}\n"
             f"    - {{name: Bernd, webhook: {{url: '{receiver.url('/hook')}'}}, language: en}}\n")
    if mailbox is not None:
        text += (f"    - {{name: Clara, email: clara@example.org, language: ru}}\n"
                 f"  smtp: {{host: 127.0.0.1, port: {mailbox.port}, sender: kiosk@example.org, "
                 f"ca_file: '{server.cert_path}'}}\n")
    if presence:
        text += "presence: " + json.dumps(presence) + "\n"
    (tmp_path / "token").write_text("s3cret-token\n")
    return text


def test_tapping_tells_the_family_by_push_webhook_and_mail(qtbot, server, tmp_path, receiver, mailbox, caplog):
    config = config_from_text(family_config(server, tmp_path, receiver, mailbox))
    window = make_kiosk(qtbot, config, tmp_path / "kiosk.yaml")
    try:
        qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
        tap(qtbot, window.window.home.call_button)
        qtbot.waitUntil(lambda: len(receiver.received) == 2 and len(mailbox.messages) == 1, timeout=20000)
        # Every channel carries the link that opens the room in a phone's browser, each in its contact's language.
        link = f"{server.url}/{config.room}#config.deeplinking.disabled=true"
        push = next(r for r in receiver.received if r["path"] == "/palim-erna")
        assert push["headers"]["Click"] == link and push["headers"]["Priority"] == "high"
        assert push["headers"]["Authorization"] == "Bearer s3cret-token"
        # RFC 2047 encoded, as ntfy reads it; Anna has no language of her own: the kiosk's (German)
        assert str(make_header(decode_header(push["headers"]["Title"]))) == "Erna Müller möchte Sie per Video sprechen"
        assert push["body"].decode() == ("Erna Müller hat gerade angerufen und wartet im Videoraum. "
                                         f"Zum Mitmachen öffnen Sie bitte: {link}")
        hook = json.loads(next(r for r in receiver.received if r["path"] == "/hook")["body"])
        assert hook["link"] == link and hook["resident"] == "Erna Müller" and hook["device"] == "ebh-01"
        assert (hook["language"], hook["title"]) == ("en", "Erna Müller would like to talk to you on video")
        assert hook["text"].endswith(f"To join, please open: {link}")
        recipients, mail, encrypted = mailbox.messages[0]
        assert recipients == ["clara@example.org"] and encrypted
        assert mail["Subject"] == "Erna Müller хочет поговорить с вами по видеосвязи"
        assert mail["Content-Language"] == "ru"
        body = mail.get_content()
        assert body.startswith("Здравствуйте!") and body.count(link) == 1 and "«Разрешить»" in body
        qtbot.waitUntil(lambda: window.window.screen is Screen.IN_CALL, timeout=20000)
        # Hang up and tap again at once: the family was told a moment ago; nothing new is sent. (No wait for the
        # tremor debounce: the robot-taps fixture in tests/conftest.py counts every robot tap.)
        tap(qtbot, window.window.call.hangup_button)
        qtbot.waitUntil(lambda: window.window.screen is Screen.HOME, timeout=10000)
        tap(qtbot, window.window.home.call_button)
        qtbot.waitUntil(lambda: window.window.screen is Screen.IN_CALL, timeout=20000)
        qtbot.wait(500)
        assert len(receiver.received) == 2 and len(mailbox.messages) == 1
        assert "s3cret-token" not in caplog.text
    finally:
        close_kiosk(window)


def test_a_failing_receiver_never_touches_the_call(qtbot, server, tmp_path, receiver):
    receiver.statuses = [500]
    window = make_kiosk(qtbot, config_from_text(family_config(server, tmp_path, receiver)), tmp_path / "kiosk.yaml")
    import kiosk.notify

    kiosk.notify.RETRY_DELAYS_S = (0.0, 0.1, 0.1)
    try:
        qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
        tap(qtbot, window.window.home.call_button)
        qtbot.waitUntil(lambda: window.window.screen is Screen.IN_CALL, timeout=20000)
        qtbot.waitUntil(lambda: sum(i.kind == "notify_failed" for i in window.health.figures.incidents) == 2, timeout=20000)
        assert len(receiver.received) == 6  # three tries for each of the two
        assert window.window.screen is Screen.IN_CALL
    finally:
        kiosk.notify.RETRY_DELAYS_S = (0.0, 5.0, 30.0)
        close_kiosk(window)


@pytest.fixture
def presence_kiosk(qtbot, server, tmp_path, receiver):
    """A kiosk that asks the stand-in's /room-size every second."""

    def make(**presence):
        options = {"url": f"{server.url}/room-size?room={{room}}&domain={server.xmpp_domain}", "interval_s": 3, **presence}
        window = make_kiosk(qtbot, config_from_text(family_config(server, tmp_path, receiver, **options)),
                             tmp_path / "kiosk.yaml")
        window.family.presence._interval = 1
        made.append(window)
        qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
        return window

    made = []
    yield make
    for window in made:
        close_kiosk(window)
    server.room_size.clear()
    server.room_size_status = 200


def test_the_family_in_the_room_rings_until_they_leave(qtbot, server, presence_kiosk):
    window = presence_kiosk()
    room = window.config.room
    server.room_size[room] = 1
    with qtbot.waitSignal(window.sound_ahead, timeout=10000):  # the volume floor is checked before the ring
        qtbot.waitUntil(lambda: window.window.screen is Screen.RINGING, timeout=10000)
    assert window.family.ringing_sound_on and window.window.ringing.headline.text() == "Ihre Familie ist da"
    assert not window.window.ringing.countdown.isVisible()
    server.room_size[room] = 0
    qtbot.waitUntil(lambda: window.window.screen is Screen.HOME, timeout=10000)
    assert not window.family.ringing_sound_on


def test_answering_joins_the_room(qtbot, server, presence_kiosk, receiver):
    window = presence_kiosk()
    server.room_size[window.config.room] = 2
    qtbot.waitUntil(lambda: window.window.screen is Screen.RINGING, timeout=10000)
    tap(qtbot, window.window.ringing.answer_button)
    qtbot.waitUntil(lambda: window.window.screen is Screen.IN_CALL, timeout=20000)
    wait_report(qtbot, server, "joined", room=window.config.room)
    assert receiver.received == []  # answering the family does not notify the family
    qtbot.wait(2500)
    assert window.window.screen is Screen.IN_CALL  # no presence polling, no ringing in a call


def test_auto_answer_after_a_visible_countdown(qtbot, server, presence_kiosk):
    window = presence_kiosk(auto_answer=True)
    window.calls.flow.timing = type(window.calls.flow.timing)(auto_answer=3.0)
    server.room_size[window.config.room] = 1
    qtbot.waitUntil(lambda: window.window.screen is Screen.RINGING, timeout=10000)
    assert window.window.ringing.countdown.text() == texts.AUTO_ANSWER.format(seconds=3)  # "Verbinde in 3 Sekunden …"
    qtbot.waitUntil(lambda: window.window.screen is Screen.IN_CALL, timeout=20000)


def test_not_now_cancels_the_auto_answer_and_the_ringing(qtbot, server, presence_kiosk):
    window = presence_kiosk(auto_answer=True)
    window.calls.flow.timing = type(window.calls.flow.timing)(auto_answer=3.0)
    server.room_size[window.config.room] = 1
    qtbot.waitUntil(lambda: window.window.screen is Screen.RINGING, timeout=10000)
    tap(qtbot, window.window.ringing.not_now_button)
    assert window.window.screen is Screen.HOME and not window.family.ringing_sound_on
    qtbot.wait(4500)
    assert window.window.screen is Screen.HOME


def test_quiet_hours_suppress_ringing(qtbot, server, presence_kiosk):
    now = datetime.now()
    window = presence_kiosk(auto_answer=True, quiet_hours=[
        f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=1):%H:%M}"])
    server.room_size[window.config.room] = 1
    qtbot.wait(3500)
    assert window.window.screen is Screen.HOME and not window.family.ringing_sound_on


@pytest.mark.parametrize("status", [404, 500])
def test_an_empty_room_or_a_broken_endpoint_never_rings(qtbot, server, presence_kiosk, status):
    window = presence_kiosk()
    if status == 500:
        server.room_size[window.config.room] = 1
        server.room_size_status = 500
    qtbot.wait(3500)
    assert "/room-size" in server.requests
    assert window.window.screen is Screen.HOME and not window.family.ringing_sound_on


def test_practice_page_shows_the_camera_without_any_server(qtbot, tmp_path):
    text = ("server: https://127.0.0.1:9\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\nresident: Erna Müller\n"
            f"health: {{usage_log: '{tmp_path}/usage.jsonl'}}\n")
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    try:
        window.staff.open_practice()
        assert window.window.screen is Screen.PRACTICE
        page = window.window.practice.view.page
        state = {}

        def ready() -> bool:
            page.runJavaScript("JSON.stringify(window.practice || null)", 0,
                               lambda value: state.update(json.loads(value or "null") or {}))
            return bool(state.get("video")) and bool(state.get("audio"))

        qtbot.waitUntil(ready, timeout=20000)
        qtbot.wait(1500)  # frames arrive
        image = window.window.grab().toImage()
        view = window.window.practice.view
        origin = view.mapTo(window.window, view.rect().topLeft())
        colours = {image.pixelColor(origin.x() + x, origin.y() + y).name()
                   for x in range(20, view.width() // 2, 37) for y in range(20, view.height() - 20, 29)}
        assert len(colours) > 5, colours  # a live picture, not a blank area
        window.staff.leave()
        assert window.window.practice is None and window.window.screen is Screen.HOME
    finally:
        close_kiosk(window)


@pytest.mark.parametrize("order", ["new pin first", "old pin first"])
def test_the_presence_check_accepts_any_configured_pin(server, order):
    """During a certificate change the config lists the old and the new pin; either one must do."""
    from kiosk.web.pins import fetch_json

    server.room_size["pinroom"] = 2
    try:
        stale = "ab" * 32
        pins = (server.cert_sha256, stale) if order == "new pin first" else (stale, server.cert_sha256)
        status, body = fetch_json(f"{server.url}/room-size?room=pinroom&domain={server.xmpp_domain}", server.url, pins)
        assert status == 200 and body == {"participants": 2}
    finally:
        server.room_size.clear()


def test_the_presence_check_refuses_a_server_without_a_configured_pin(server):
    from kiosk.core.boundedhttp import FetchError
    from kiosk.web.pins import fetch_json

    with pytest.raises(FetchError, match="matches none of the configured pins"):
        fetch_json(f"{server.url}/room-size?room=pinroom&domain={server.xmpp_domain}", server.url, ("ab" * 32, "cd" * 32))
    # And no pins at all means the system's CAs decide: the stand-in's self-signed certificate is refused too.
    with pytest.raises(FetchError, match="no TLS connection"):
        fetch_json(f"{server.url}/room-size?room=pinroom&domain={server.xmpp_domain}", server.url, ())
