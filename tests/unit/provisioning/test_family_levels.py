"""Family contacts and presence per home (as a default) and per device, carried into the kiosk config."""

from kiosk.config import config_from_text
from provisioning.bundle import render_bundle
from provisioning.devicelist import load_text

LIST = """\
version: 1
defaults:
  server: https://konferenz.example.org
homes:
  ebh:
    name: Erich-Burger-Heim
    family:
      smtp: {host: mail.example.org, sender: kiosk@example.org}
      contacts:
        - {name: Heimleitung, email: leitung@example.org}
    presence:
      url: https://konferenz.example.org/room-size?room={room}&domain=konferenz.example.org
      quiet_hours: ["20:00-08:00"]
devices:
  - id: ebh-01
    home: ebh
    resident: Erna Müller
    room: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y
    match: {mac: "3c:52:82:1a:2b:3c"}
    family:
      contacts:
        - {name: Anna, ntfy: {url: https://ntfy.example.org/palim-erna}}
    presence: {auto_answer: true}
  - id: ebh-02
    home: ebh
    resident: Karl Weber
    room: palim-4n8b2v6c1x9z3m7k5j0h2g4f8d
    match: {mac: "3c:52:82:1a:2b:3d"}
"""


def configs():
    return {t.device.id: t.config for t in load_text(LIST, "devices.yaml").targets}


def test_home_defaults_and_device_overrides():
    found = configs()
    erna, karl = found["ebh-01"], found["ebh-02"]
    assert [c.name for c in erna.family.contacts] == ["Anna"]  # her own people replace the home's list
    assert erna.family.smtp.host == "mail.example.org"  # the home's relay stays
    assert erna.presence.auto_answer and erna.presence.quiet_hours == ("20:00-08:00",)
    assert [c.name for c in karl.family.contacts] == ["Heimleitung"]
    assert not karl.presence.auto_answer and karl.presence.url.endswith("domain=konferenz.example.org")


def test_the_rendered_kiosk_config_carries_them():
    target = load_text(LIST, "devices.yaml").targets[0]
    text = {f.path: f for f in render_bundle(target, "x" * 12).files}["/etc/palim-kiosk/kiosk.yaml"].content.decode()
    assert config_from_text(text).family.contacts[0].ntfy.url == "https://ntfy.example.org/palim-erna"


def test_validate_warns_when_presence_names_the_muc_domain(tmp_path, capsys):
    """mod_muc_size puts the MUC prefix in front of domain= itself: conference.… (Debian) or muc.… (docker) there
    looks for conference.conference.… and never rings. One warning where the URL is written; the list stays valid."""
    from provisioning.cli import main

    path = tmp_path / "devices.yaml"
    path.write_text(LIST.replace("domain=konferenz.example.org", "domain=conference.konferenz.example.org"))
    assert main(["validate", str(path), "--skip-secrets"]) == 0
    out = capsys.readouterr()
    warnings = [line for line in out.err.splitlines() if ": warning: " in line and "staff PIN" not in line]
    assert warnings == [f"{path}:12:12: warning: homes.ebh.presence.url: domain=conference.konferenz.example.org "
                        "names the MUC domain; mod_muc_size puts 'conference.' in front of domain= itself and would "
                        "never find the room: write domain=konferenz.example.org (the XMPP domain, Prosody's "
                        "VirtualHost)"]
    assert "valid: 2 devices" in out.out
    path.write_text(LIST.replace("domain=konferenz.example.org", "domain=muc.meet.jitsi"))
    assert main(["validate", str(path), "--skip-secrets"]) == 0
    assert "write domain=meet.jitsi" in capsys.readouterr().err
    path.write_text(LIST)
    assert main(["validate", str(path), "--skip-secrets"]) == 0
    assert "MUC domain" not in capsys.readouterr().err
