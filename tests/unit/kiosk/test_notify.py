"""Sending the notice to loopback receivers: retries, secrets read from files and never logged, channels independent."""

import json
import logging
import socket
from datetime import datetime

import pytest

from kiosk.config import Contact, SmtpOptions, config_from_text
from kiosk.family import notice
from kiosk.notify import Delivery, SendError, channels, deliver, send_email, send_webhook
from tests.receivers import Receiver

CONFIG = config_from_text("server: https://konferenz.example.org\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\n"
                          "resident: Erna Müller\n")
ITEM = notice(CONFIG, datetime(2026, 11, 27, 15, 5))
TOKEN = "s3cret-token-4711"


@pytest.fixture
def receivers():
    started = []

    def start(*statuses: int) -> Receiver:
        started.append(Receiver(*statuses))
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sleeps(list):
    """Records the waits between tries instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_a_failing_receiver_is_tried_again_until_it_takes_the_notice(receivers):
    receiver = receivers(500, 503, 200)
    anna = Contact(name="Anna", ntfy={"url": receiver.url("/palim-erna")})
    sleeps = Sleeps()
    assert deliver((anna,), None, ITEM, delays=(0.0, 5.0, 30.0), sleep=sleeps) == [
        Delivery("Anna", "ntfy", True, "attempt 3")]
    assert sleeps == [0.0, 5.0, 30.0] and len(receiver.received) == 3
    assert all(r["body"] == ITEM.text.encode() for r in receiver.received)  # the same notice each time


def test_after_the_last_try_the_failure_is_reported_with_its_reason(receivers, caplog):
    receiver = receivers(500)
    anna = Contact(name="Anna", webhook={"url": receiver.url("/hook")})
    sleeps = Sleeps()
    with caplog.at_level(logging.WARNING, logger="kiosk.notify"):
        assert deliver((anna,), None, ITEM, delays=(0.0, 1.0), sleep=sleeps) == [
            Delivery("Anna", "webhook", False, "attempt 2: HTTP 500")]
    assert len(receiver.received) == 2 and sleeps == [0.0, 1.0]
    assert [r.getMessage() for r in caplog.records] == [
        "notice to Anna by webhook failed (attempt 1: HTTP 500)", "notice to Anna by webhook failed (attempt 2: HTTP 500)"]


def test_the_token_is_read_from_its_file_at_send_time_and_never_logged(receivers, tmp_path, caplog):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    good, bad = receivers(200), receivers(401)
    anna = Contact(name="Anna", ntfy={"url": good.url("/t"), "token_file": str(token_file)},
                   webhook={"url": bad.url("/hook"), "token_file": str(token_file)})
    with caplog.at_level(logging.DEBUG):
        results = deliver((anna,), None, ITEM, delays=(0.0, 0.0), sleep=Sleeps())
    assert [(r.channel, r.ok) for r in results] == [("ntfy", True), ("webhook", False)]
    assert good.received[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert bad.received[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in caplog.text and all(TOKEN not in r.detail for r in results)
    # A new token in the file is used by the next notice, without a restart.
    token_file.write_text("rotated\n")
    good.statuses = [200]
    deliver((anna,), None, ITEM, delays=(0.0,), sleep=Sleeps())
    assert good.received[-1]["headers"]["Authorization"] == "Bearer rotated"


def test_an_empty_token_file_sends_no_authorization(receivers, tmp_path):
    (tmp_path / "token").write_text("\n")
    receiver = receivers(200)
    send_webhook(Contact(name="Bernd", webhook={"url": receiver.url("/hook"), "token_file": str(tmp_path / "token")}),
                 ITEM)
    assert "Authorization" not in receiver.received[0]["headers"]
    assert json.loads(receiver.received[0]["body"])["link"] == ITEM.link


def test_an_unreadable_token_file_fails_that_channel_by_name_without_sending(receivers, tmp_path):
    receiver = receivers(200)
    anna = Contact(name="Anna", ntfy={"url": receiver.url("/t"), "token_file": str(tmp_path / "missing")})
    (result,) = deliver((anna,), None, ITEM, delays=(0.0,), sleep=Sleeps())
    assert not result.ok and result.detail == (f"attempt 1: cannot read the secret file {tmp_path / 'missing'}: "
                                               "No such file or directory")
    assert receiver.received == []


def test_one_failing_channel_does_not_stop_the_others(receivers, closed_port, tmp_path, caplog):
    receiver = receivers(200)
    contacts = (
        Contact(name="Anna", ntfy={"url": f"http://127.0.0.1:{closed_port}/t"}, webhook={"url": receiver.url("/a")}),
        Contact(name="Bernd", email="bernd@example.org"),  # no relay configured
        Contact(name="Clara", webhook={"url": receiver.url("/c")}),
    )
    with caplog.at_level(logging.INFO, logger="kiosk.notify"):
        results = deliver(contacts, None, ITEM, delays=(0.0, 0.0), sleep=Sleeps())
    assert results == [Delivery("Anna", "ntfy", False, "attempt 2: no connection (Connection refused)"),
                       Delivery("Anna", "webhook", True, "attempt 1"),
                       Delivery("Bernd", "email", False, "attempt 2: no smtp relay configured"),
                       Delivery("Clara", "webhook", True, "attempt 1")]
    assert [r["path"] for r in receiver.received] == ["/a", "/c"]
    assert "notice to Clara by webhook delivered (attempt 1)" in caplog.text


def test_a_contact_is_reached_on_every_channel_it_has_in_a_fixed_order():
    smtp = SmtpOptions(host="127.0.0.1", sender="kiosk@example.org")
    everything = Contact(name="Anna", email="anna@example.org", webhook={"url": "https://h.example.org/x"},
                         ntfy={"url": "https://ntfy.example.org/t"})
    assert [name for name, _ in channels(everything, smtp)] == ["ntfy", "webhook", "email"]
    assert [name for name, _ in channels(Contact(name="Bernd", email="b@example.org"), None)] == ["email"]


def test_mail_to_a_relay_that_is_not_there_is_a_send_error_naming_the_cause(closed_port):
    smtp = SmtpOptions(host="127.0.0.1", port=closed_port, sender="kiosk@example.org")
    with pytest.raises(SendError, match=r"^ConnectionRefusedError: "):
        send_email(Contact(name="Anna", email="anna@example.org"), ITEM, smtp)
    with pytest.raises(SendError, match="no smtp relay configured"):
        send_email(Contact(name="Anna", email="anna@example.org"), ITEM, None)


def test_each_contact_reads_the_notice_in_its_own_language_or_the_kiosks(receivers):
    from email.header import decode_header, make_header

    receiver = receivers(200)
    contacts = (Contact(name="Anna", ntfy={"url": receiver.url("/anna")}, language="tr"),
                Contact(name="Bernd", webhook={"url": receiver.url("/bernd")}, language="ru"),
                Contact(name="Clara", webhook={"url": receiver.url("/clara")}))  # no language: the kiosk's
    results = deliver(contacts, None, ITEM, delays=(0.0,), sleep=Sleeps())
    assert all(r.ok for r in results)
    got = {r["path"]: r for r in receiver.received}
    title = str(make_header(decode_header(got["/anna"]["headers"]["Title"])))
    assert title == "Erna Müller sizinle görüntülü konuşmak istiyor"
    assert got["/anna"]["body"].decode().startswith("Erna Müller az önce aradı")
    assert got["/anna"]["headers"]["Click"] == ITEM.link and ITEM.link.endswith("#config.deeplinking.disabled=true")
    bernd = json.loads(got["/bernd"]["body"])
    assert (bernd["language"], bernd["title"]) == ("ru", "Erna Müller хочет поговорить с вами по видеосвязи")
    assert bernd["text"].endswith(ITEM.link) and bernd["link"] == ITEM.link
    clara = json.loads(got["/clara"]["body"])
    assert (clara["language"], clara["title"]) == ("de", ITEM.title)


def test_a_relay_that_drips_is_cut_off_at_the_e_mails_deadline(monkeypatch):
    import socket
    import threading
    import time

    import kiosk.notify

    monkeypatch.setattr(kiosk.notify, "EMAIL_DEADLINE_S", 2)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip():  # a greeting that never ends: one byte every half second, far within smtplib's per-read timeout
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"220-")
            while not stop.wait(0.5):
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    smtp = SmtpOptions(host="127.0.0.1", port=listener.getsockname()[1], sender="kiosk@example.org")
    start = time.monotonic()
    try:
        with pytest.raises(SendError, match="the relay did not finish within 2 s"):
            send_email(Contact(name="Anna", email="anna@example.org"), ITEM, smtp)
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - start < kiosk.notify.TIMEOUT_S  # by structure: one per-read timeout was never reached
