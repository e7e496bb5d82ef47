"""Navigation, sub-resources, permissions and certificate pins: deny unless listed."""

import pytest

from kiosk.web.policy import (
    PERMISSIONS, Decision, certificate_pinned, navigation_allowed, permission_decision, request_allowed,
)

SERVER = "https://konferenz.example.org"
LOOP = "https://127.0.0.1:8443"


@pytest.mark.parametrize("url, main, server, allowed", [
    ("palim://kiosk/call.html", True, SERVER, True),
    ("https://konferenz.example.org/palim-x", True, SERVER, False),  # the main frame is only ever the call page
    ("https://konferenz.example.org/palim-x?lang=de#config.a=1", False, SERVER, True),
    ("https://konferenz.example.org:443/palim-x", False, SERVER, True),
    ("https://konferenz.example.org:8443/palim-x", False, SERVER, False),
    ("http://konferenz.example.org/palim-x", False, SERVER, False),
    ("https://evil.example/", False, SERVER, False),
    ("https://konferenz.example.org.evil.example/", False, SERVER, False),
    ("https://127.0.0.1:8443/room", False, LOOP, True),
    ("https://127.0.0.1:9443/room", False, LOOP, False),
    ("about:blank", False, SERVER, True),
    ("about:blank", True, SERVER, False),
    ("palim://other/call.html", True, SERVER, False),
    ("file:///etc/passwd", True, SERVER, False),
    ("javascript:alert(1)", False, SERVER, False),
])
def test_navigation(url, main, server, allowed):
    assert navigation_allowed(url, main, server) is allowed


@pytest.mark.parametrize("url, allowed", [
    ("https://konferenz.example.org/external_api.js", True),
    ("wss://konferenz.example.org/xmpp-websocket?room=x", True),
    ("wss://konferenz.example.org:443/colibri-ws/x", True),
    ("ws://konferenz.example.org/xmpp-websocket", False),
    ("https://www.gravatar.com/avatar/x", False),
    ("https://cdn.example/lib.js", False),
    ("data:image/png;base64,AAAA", True),
    ("blob:https://konferenz.example.org/1234", True),
    ("palim://kiosk/qwebchannel.js", True),
])
def test_sub_resources(url, allowed):
    assert request_allowed(url, SERVER) is allowed


@pytest.mark.parametrize("feature", ["MediaAudioCapture", "MediaVideoCapture", "MediaAudioVideoCapture"])
def test_camera_and_microphone_only_for_the_server(feature):
    assert permission_decision(feature, "https://konferenz.example.org/", SERVER)[0] is Decision.GRANT
    assert permission_decision(feature, "https://evil.example/", SERVER)[0] is Decision.DENY
    assert permission_decision(feature, "https://konferenz.example.org:444/", SERVER)[0] is Decision.DENY
    assert permission_decision(feature, "palim://kiosk/", SERVER)[0] is Decision.DENY


@pytest.mark.parametrize("feature", sorted(set(PERMISSIONS) - {"MediaAudioCapture", "MediaVideoCapture",
                                                               "MediaAudioVideoCapture"}) + ["SomethingNew"])
def test_everything_else_is_denied_with_a_reason(feature):
    decision, reason = permission_decision(feature, "https://konferenz.example.org/", SERVER)
    assert decision is Decision.DENY and feature in reason


def test_unknown_permissions_say_so():
    assert "unknown" in permission_decision("Telepathy", SERVER, SERVER)[1]


def test_certificate_pins():
    pin = "ab" * 32
    assert certificate_pinned("127.0.0.1", 8443, pin, LOOP, (pin,))
    assert certificate_pinned("127.0.0.1", 8443, pin.upper(), LOOP, ("00" * 32, pin))
    assert not certificate_pinned("127.0.0.1", 8443, "cd" * 32, LOOP, (pin,))
    assert not certificate_pinned("127.0.0.2", 8443, pin, LOOP, (pin,))  # right pin, wrong host
    assert not certificate_pinned("127.0.0.1", 8443, pin, LOOP, ())
