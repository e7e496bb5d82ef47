"""The rendered alertmanager.yml in Debian's real Alertmanager: alerts mailed through a loopback SMTP relay that
insists on STARTTLS (a certificate of a city CA, trusted through alerts.ca_file) and a login (the password from
alerts.password_file); IT gets every alert, a home's alert_email the staff's alerts of its own home; while a device
is unreachable, its other alerts wait."""

from __future__ import annotations

import logging
import ssl
import time
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from provisioning.devicelist import load_text
from provisioning.monitoring import alertmanager_config
from tests.realprometheus import start_alertmanager
from tests.unit.kiosk.core.test_https import make_city_ca_and_server_cert
from tests.unit.provisioning.helpers import VALID
from tests.vm.machine import free_port

PASSWORD = "relay password for the loopback test"  # noqa: S105 (a test secret)


class Relay:
    """aiosmtpd's handler and authenticator: keeps each accepted mail with its recipients and the login used."""

    def __init__(self):
        self.mails: list[tuple[set[str], object, bool]] = []
        self.logins: list[bytes] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):  # the authenticator
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"palim-hub" and \
            auth_data.password == PASSWORD.encode()
        self.logins.append(auth_data.login if isinstance(auth_data, LoginPassword) else b"?")
        return AuthResult(success=ok)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.mails.append((set(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default_policy),
                           session.ssl is not None))
        return "250 OK"

    def wait(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.mails) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(self.mails) >= count, [(rcpt, m["Subject"]) for rcpt, m, _ in self.mails]


@pytest.fixture
def relay(tmp_path):
    # aiosmtpd tells every connection at INFO; an earlier test's kiosk may have left the root logger at INFO with a
    # stream pytest has closed since. Its warnings (a refused login) still show.
    mail_log = logging.getLogger("mail.log")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    ca, leaf, key, _ = make_city_ca_and_server_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(leaf, key)
    box = Relay()
    # PLAIN only: aiosmtpd's LOGIN asks "User Name", where Postfix and Dovecot ask "Username:" as Alertmanager expects.
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True,
                            authenticator=box, auth_required=True, auth_exclude_mechanism=["LOGIN"])
    controller.start()
    box.port, box.ca = controller.port, ca
    yield box
    controller.stop()
    mail_log.setLevel(level)


def listing(relay, tmp_path) -> str:
    # Without a line break: Alertmanager 0.25 (Debian 12) takes the file's bytes as they are (docs/fleet.md says so).
    (tmp_path / "smtp-password").write_text(PASSWORD)
    alerts = (f"  alerts: {{it_email: it@stadt.example.org, smtp_host: 127.0.0.1, smtp_port: {relay.port}, "
              f"sender: palim-hub@stadt.example.org, user: palim-hub, password_file: {tmp_path / 'smtp-password'}, "
              f"ca_file: {relay.ca}}}\n")
    return VALID.replace("  server: https://konferenz.example.org\n",
                         "  server: https://konferenz.example.org\n" + alerts) \
        .replace("    name: EBH\n", "    name: EBH\n    alert_email: pflege@ebh.example.org\n") \
        .replace("devices:\n", "  sonnenhang:\n    name: Haus am Sonnenhang\ndevices:\n")


def alert(name: str, device: str, home: str, audience: str) -> dict:
    notes = {"summary": f"{name} on {device} ({home})"}
    if audience == "staff":
        notes["staff_summary"] = f"{name} an {device} ({home})"
    return {"labels": {"alertname": name, "device": device, "home": home, "audience": audience, "severity": "warning",
                       "job": "palim-devices"}, "annotations": notes}


def test_it_gets_every_alert_and_a_home_its_staffs_alerts(relay, tmp_path):
    config = alertmanager_config(load_text(listing(relay, tmp_path), "devices.yaml").model, group_wait_s=1,
                                 group_interval_s=1, repeat_interval_s=3600)
    with start_alertmanager(tmp_path / "am", config) as url:
        sent = [alert("PalimNoCallFor14Days", "ebh-01", "ebh", "staff"),  # the home and IT
                alert("PalimClockWrong", "ebh-02", "ebh", "it"),  # IT only
                alert("PalimBatteryLow", "sonnenhang-01", "sonnenhang", "staff"),  # no alert_email there: IT
                alert("PalimDeviceUnreachable", "ebh-03", "ebh", "staff"),
                alert("PalimDiskNearlyFull", "ebh-03", "ebh", "it")]  # held back while ebh-03 is unreachable
        assert requests.post(f"{url}/api/v2/alerts", json=sent, timeout=10).status_code == 200
        relay.wait(4)
        # The clock is right again: IT hears that too.
        resolved = dict(sent[1], endsAt=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        assert requests.post(f"{url}/api/v2/alerts", json=[resolved], timeout=10).status_code == 200
        relay.wait(5)
        time.sleep(3)  # time for the disk's mail, which must not come
    mails = {m["Subject"]: (rcpt, m, tls) for rcpt, m, tls in relay.mails}
    assert len(relay.mails) == 5, sorted(mails)
    assert mails.pop("[RESOLVED] PalimClockWrong on ebh-02 (ebh)")[0] == {"it@stadt.example.org"}
    by_alert = {next(name for name in ("PalimNoCallFor14Days", "PalimClockWrong", "PalimBatteryLow",
                                       "PalimDeviceUnreachable", "PalimDiskNearlyFull") if name in subject): value
                for subject, value in mails.items()}
    assert set(by_alert) == {"PalimNoCallFor14Days", "PalimClockWrong", "PalimBatteryLow", "PalimDeviceUnreachable"}
    assert by_alert["PalimNoCallFor14Days"][0] == {"pflege@ebh.example.org", "it@stadt.example.org"}
    assert by_alert["PalimDeviceUnreachable"][0] == {"pflege@ebh.example.org", "it@stadt.example.org"}
    assert by_alert["PalimClockWrong"][0] == {"it@stadt.example.org"}
    assert by_alert["PalimBatteryLow"][0] == {"it@stadt.example.org"}
    assert "[FIRING] PalimClockWrong on ebh-02 (ebh)" in mails  # the summary, not a list of labels
    assert "[Störung] PalimNoCallFor14Days an ebh-01 (ebh)" in mails  # a home's mail: in German
    assert "[FIRING] PalimBatteryLow on sonnenhang-01 (sonnenhang)" in mails  # no home address: IT's mail
    for rcpt, mail, tls in by_alert.values():
        assert tls, "sent without STARTTLS"
        assert mail["From"] == "palim-hub@stadt.example.org"
        body = mail.get_body(("html", "plain")).get_content()
        assert "device = " in body and "home = " in body  # Alertmanager's own mail lists the labels
    assert set(relay.logins) == {b"palim-hub"}
    assert "ebh-01" in by_alert["PalimNoCallFor14Days"][1].get_body(("html", "plain")).get_content()
