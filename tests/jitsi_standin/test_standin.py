"""Tests of the Jitsi stand-in: its HTTPS endpoints, and the IFrame API contract driven in real QtWebEngine."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from cryptography import x509
from PyQt6.QtCore import QUrl

from jitsi_standin import StandinServer
from jitsi_standin.fixtures import StandinPage, run_js, wait_js, wait_report

REPO = Path(__file__).resolve().parents[2]


def _get(standin: StandinServer, path: str, **kwargs) -> requests.Response:
    """GET over HTTPS, trusting only the stand-in's own certificate."""
    return requests.get(standin.url + path, verify=str(standin.cert_path), timeout=5, **kwargs)


def _post(standin: StandinServer, path: str, **kwargs) -> requests.Response:
    """POST over HTTPS, trusting only the stand-in's own certificate."""
    return requests.post(standin.url + path, verify=str(standin.cert_path), timeout=5, **kwargs)


def _encode(value: object) -> str:
    """Encode a hash value as encodeURIComponent(JSON.stringify(value)) does."""
    return quote(json.dumps(value, separators=(",", ":"), ensure_ascii=False), safe="!~*'()")


# -- HTTPS endpoints --------------------------------------------------------------------------------------------


def test_external_api_is_served_without_caching(standin: StandinServer) -> None:
    """external_api.js comes over verified TLS, as JavaScript, marked no-store."""
    response = _get(standin, "/external_api.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["Cache-Control"] == "no-store"
    assert "JitsiMeetExternalAPI" in response.text
    assert standin.requests == ["/external_api.js"]


def test_external_api_failure_and_delay_injection(standin: StandinServer) -> None:
    """Fault tests can make external_api.js fail or arrive late."""
    standin.external_api_status = 503
    assert _get(standin, "/external_api.js").status_code == 503
    standin.external_api_status = 404
    assert _get(standin, "/external_api.js").status_code == 404
    standin.external_api_status = 200
    standin.delay_external_api = 0.3
    started = time.monotonic()
    assert _get(standin, "/external_api.js").status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("path", ["/", "/favicon.ico", "/a/b", "/_standin/nothing", "/_private"])
def test_unknown_paths_are_404(standin: StandinServer, path: str) -> None:
    """Only the documented endpoints exist."""
    response = _get(standin, path)
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_room_page_accepts_jwt_and_lang(standin: StandinServer) -> None:
    """Any one-segment room name gets the room page, query allowed."""
    response = _get(standin, "/someRoom_42?jwt=abc.def.ghi&lang=de")
    assert response.status_code == 200
    assert "Stand-in Jitsi room" in response.text
    assert standin.requests == ["/someRoom_42"]


def test_report_round_trip(standin: StandinServer) -> None:
    """Posted reports are recorded in order and found by wait_for_report."""
    assert _post(standin, "/_standin/report", json={"type": "loaded", "room": "r1"}).status_code == 200
    assert _post(standin, "/_standin/report", json={"type": "media", "room": "r1", "tracks": []}).json() == {
        "ok": True
    }
    assert [r["type"] for r in standin.reports] == ["loaded", "media"]
    assert standin.wait_for_report("media", timeout=1)["tracks"] == []
    assert standin.wait_for_report("loaded", timeout=1, predicate=lambda r: r["room"] == "r1")["room"] == "r1"
    assert _post(standin, "/_standin/report", data=b"not json").status_code == 400
    assert _post(standin, "/_standin/nowhere", json={}).status_code == 404
    standin.clear()
    assert standin.reports == [] and standin.requests == []


def test_wait_for_report_waits_and_times_out(standin: StandinServer) -> None:
    """wait_for_report wakes on a late report and names what it saw when it gives up."""
    timer = threading.Timer(0.2, lambda: _post(standin, "/_standin/report", json={"type": "joined"}))
    timer.start()
    try:
        assert standin.wait_for_report("joined", timeout=5)["type"] == "joined"
    finally:
        timer.join()
    with pytest.raises(TimeoutError, match='"joined"'):
        standin.wait_for_report("left", timeout=0.2)


def test_poll_delivers_sent_events(standin: StandinServer) -> None:
    """send() queues per room; a long poll returns them, nesting errorOccurred like API.js."""
    standin.send("r1", "participantJoined", {"id": "fam", "displayName": "Family"})
    standin.send("r1", "errorOccurred", {"name": "conference.connectionError", "isFatal": True})
    standin.send("r1", "errorOccurred", {"name": "flat", "isFatal": False}, raw=True)
    standin.send("r2", "family-hangup")
    events = _get(standin, "/_standin/poll?room=r1").json()["events"]
    assert events == [
        {"name": "participantJoined", "data": {"id": "fam", "displayName": "Family"}},
        {"name": "errorOccurred", "data": {"error": {"name": "conference.connectionError", "isFatal": True}}},
        {"name": "errorOccurred", "data": {"name": "flat", "isFatal": False}},
    ]
    assert _get(standin, "/_standin/poll?room=r1").json() == {"events": []}
    assert _get(standin, "/_standin/poll?room=r2").json()["events"] == [{"name": "family-hangup", "data": None}]
    assert "/_standin/poll" not in standin.requests  # polls are too frequent to be worth recording


def test_long_poll_wakes_on_send(standin: StandinServer) -> None:
    """A waiting poll returns as soon as an event is sent, not at its deadline."""
    timer = threading.Timer(0.2, standin.send, args=("r1", "suspendDetected"))
    timer.start()
    started = time.monotonic()
    try:
        events = _get(standin, "/_standin/poll?room=r1&wait=5000").json()["events"]
    finally:
        timer.join()
    assert events == [{"name": "suspendDetected", "data": None}]
    # Before its deadline (5 s, the longest the stand-in waits), with no tighter bound: a loaded machine may take a
    # while to run the timer and the request, and this test is about waking, not speed.
    assert time.monotonic() - started < 5.0


def test_certificate_pin_and_names(standin: StandinServer) -> None:
    """cert_sha256 is the SHA-256 of the served leaf's DER; the cert names 127.0.0.1 and localhost."""
    served = ssl.get_server_certificate(("127.0.0.1", standin.port))
    assert hashlib.sha256(ssl.PEM_cert_to_DER_cert(served)).hexdigest() == standin.cert_sha256
    assert standin.cert_sha256 == standin.cert_sha256.lower() and len(standin.cert_sha256) == 64
    cert = x509.load_pem_x509_certificate(standin.cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert _get(standin, "/external_api.js").status_code == 200  # requests verified the chain and the IP name


def test_cert_dir_keeps_the_pin(tmp_path: Path) -> None:
    """With cert_dir the certificate survives restarts, so a demo's tls_pins stays valid."""
    with StandinServer(cert_dir=tmp_path) as first:
        pin = first.cert_sha256
    with StandinServer(cert_dir=tmp_path) as second:
        assert second.cert_sha256 == pin
        assert second.cert_path.parent == tmp_path


def test_temporary_cert_is_removed_and_stop_is_idempotent() -> None:
    """Without cert_dir the certificate lives only as long as the server."""
    server = StandinServer().start()
    cert_path = server.cert_path
    assert cert_path.is_file()
    server.stop()
    server.stop()
    assert not cert_path.exists()


def test_refuses_non_loopback_host() -> None:
    """The stand-in has no authentication, so it must never listen beyond loopback."""
    with pytest.raises(ValueError):
        StandinServer(host="0.0.0.0")


def test_main_prints_url_and_pin_and_stops_cleanly(tmp_path: Path) -> None:
    """python -m jitsi_standin announces itself and exits 0 without a traceback on Ctrl-C."""
    process = subprocess.Popen(
        [sys.executable, "-m", "jitsi_standin", "--port", "0", "--cert-dir", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert lines[0].startswith("Jitsi stand-in listening on https://127.0.0.1:")
    assert lines[1].startswith("tls_pins: [\"") and len(json.loads(lines[1].split(":", 1)[1])[0]) == 64
    assert "NOT a real Jitsi server" in lines[2]
    assert process.returncode == 0
    assert "Traceback" not in err and "stand-in stopped" in out


# -- IFrame API in QtWebEngine -----------------------------------------------------------------------------------


def _open_room(qtbot, sp: StandinPage, room: str, **params: str) -> None:
    """Load the cross-origin test host page and wait until the room has joined."""
    with qtbot.waitSignal(sp.page.loadFinished, timeout=10000) as blocker:
        sp.page.load(QUrl(sp.standin.host_page_url(room, **params)))
    assert blocker.args == [True]
    wait_report(qtbot, sp.standin, "joined", predicate=lambda r: r["room"] == room)


def _event_names(qtbot, sp: StandinPage) -> list[str]:
    """Names of the IFrame API events the host page received so far."""
    return [e["name"] for e in run_js(qtbot, sp.page, "window.events")]


def test_room_joins_with_options_and_live_media(qtbot, standin: StandinServer, standin_page: StandinPage) -> None:
    """The iframe URL, options, media and join event follow the contract."""
    sp = standin_page
    room = "a1b2c3d4e5f6a7b8c9d0"
    _open_room(qtbot, sp, room, lang="de", jwt="h.p.s", displayName="Erika Müller")

    config = {
        "prejoinConfig": {"enabled": False},
        "startWithAudioMuted": False,
        "startWithVideoMuted": False,
        "toolbarButtons": [],
        "disableShortcuts": True,
    }
    expected_hash = "&".join(
        [f"config.{k}={_encode(v)}" for k, v in config.items()]
        + [f"interfaceConfig.SHOW_POWERED_BY={_encode(False)}", f"userInfo.displayName={_encode('Erika Müller')}"]
    )
    frame = run_js(
        qtbot,
        sp.page,
        "(f => ({src: f.src, allow: f.getAttribute('allow'), fullscreen: f.allowFullscreen,"
        " border: getComputedStyle(f).borderTopWidth, width: f.style.width, inBody: document.contains(f)}))"
        "(api.getIFrame())",
    )
    assert frame == {
        "src": f"https://{standin.domain}/{room}?jwt=h.p.s&lang=de#{expected_hash}",
        "allow": "camera; microphone; display-capture; autoplay; clipboard-write",
        "fullscreen": True,
        "border": "0px",
        "width": "100%",
        "inBody": True,
    }

    loaded = standin.wait_for_report("loaded", timeout=0)
    assert loaded["config"] == config
    assert loaded["userInfo"] == {"displayName": "Erika Müller"}
    assert (loaded["lang"], loaded["jwt"], loaded["room"]) == ("de", "h.p.s", room)
    assert loaded["parent_origin"] == f"https://localhost:{standin.port}"  # cross-origin, like palim://kiosk

    tracks = {t["kind"]: t for t in standin.wait_for_report("media", timeout=0)["tracks"]}
    assert set(tracks) == {"audio", "video"}
    assert all(t["readyState"] == "live" and t["enabled"] for t in tracks.values())
    assert tracks["video"]["width"] > 0 and tracks["video"]["height"] > 0

    joined = wait_js(qtbot, sp.page, "window.events.find(e => e.name === 'videoConferenceJoined')")["data"]
    assert joined["roomName"] == room and joined["displayName"] == "Erika Müller"
    assert (joined["avatarURL"], joined["breakoutRoom"], joined["visitor"]) == ("", False, False)
    assert _event_names(qtbot, sp)[:2] == ["browserSupport", "videoConferenceJoined"]

    # Observed in Qt 6.11: the request carries the iframe's (server's) origin, not the embedding page's.
    assert [(p.origin, p.granted) for p in sp.permissions] == [(f"{standin.url}/", True)]
    assert {host for host, accepted in sp.certificate_hosts if accepted} == {"localhost", "127.0.0.1"}


def test_hangup_command_leaves_then_ready_to_close(
    qtbot, standin: StandinServer, standin_page: StandinPage
) -> None:
    """executeCommand('hangup', false) is reported, then videoConferenceLeft and readyToClose arrive."""
    sp = standin_page
    room = "hangupRoom"
    _open_room(qtbot, sp, room)
    run_js(qtbot, sp.page, "api.executeCommand('hangup', false)")
    assert wait_report(qtbot, standin, "command")["name"] == "hangup"
    assert standin.wait_for_report("command", timeout=0)["args"] == [False]
    wait_js(qtbot, sp.page, "window.events.some(e => e.name === 'readyToClose')", timeout_ms=3000)
    names = _event_names(qtbot, sp)
    assert names[-2:] == ["videoConferenceLeft", "readyToClose"]
    left = run_js(qtbot, sp.page, "window.events.find(e => e.name === 'videoConferenceLeft').data")
    assert left == {"roomName": room}
    assert wait_report(qtbot, standin, "left")["reason"] == "hangup"


def test_family_hangup_ends_the_call(qtbot, standin: StandinServer, standin_page: StandinPage) -> None:
    """send(room, 'family-hangup') makes the room leave and say readyToClose."""
    sp = standin_page
    room = "familyRoom"
    _open_room(qtbot, sp, room)
    standin.send(room, "family-hangup")
    wait_js(qtbot, sp.page, "window.events.some(e => e.name === 'readyToClose')", timeout_ms=5000)
    assert _event_names(qtbot, sp)[-2:] == ["videoConferenceLeft", "readyToClose"]
    assert wait_report(qtbot, standin, "left")["reason"] == "family-hangup"


def test_remote_events_commands_and_functions(qtbot, standin: StandinServer, standin_page: StandinPage) -> None:
    """Sent events reach listeners; functions answer through Promises; unknown commands are only reported."""
    sp = standin_page
    room = "eventsRoom"
    _open_room(qtbot, sp, room)
    standin.send(room, "participantJoined", {"id": "fam1", "displayName": "Family"})
    standin.send(room, "errorOccurred", {"name": "conference.connectionError", "type": "CONNECTION", "isFatal": True})
    error = wait_js(qtbot, sp.page, "window.events.find(e => e.name === 'errorOccurred')", timeout_ms=5000)
    assert error["data"] == {"error": {"name": "conference.connectionError", "type": "CONNECTION", "isFatal": True}}
    assert "participantJoined" in _event_names(qtbot, sp)

    run_js(
        qtbot,
        sp.page,
        "Promise.all([api.getNumberOfParticipants(), api.isAudioMuted(), api.isVideoMuted()])"
        ".then(r => { window.answers = r; })",
    )
    assert wait_js(qtbot, sp.page, "window.answers", timeout_ms=3000) == [2, False, False]

    run_js(qtbot, sp.page, "api.executeCommand('noSuchCommand', 1, 'x'), api.executeCommand('toggleAudio')")
    assert wait_report(qtbot, standin, "command", predicate=lambda r: r["name"] == "noSuchCommand")["args"] == [1, "x"]
    muted = wait_js(qtbot, sp.page, "window.events.find(e => e.name === 'audioMuteStatusChanged')", timeout_ms=3000)
    assert muted["data"] == {"muted": True}
    run_js(qtbot, sp.page, "api.isAudioMuted().then(m => { window.mutedNow = {m: m}; })")
    assert wait_js(qtbot, sp.page, "window.mutedNow", timeout_ms=3000) == {"m": True}


def test_denied_media_reports_error_and_still_joins(
    qtbot, standin: StandinServer, standin_page: StandinPage
) -> None:
    """A refused camera and microphone give media-error, cameraError and micError, then the join anyway."""
    sp = standin_page
    sp.grant_media = False
    room = "deniedRoom"
    _open_room(qtbot, sp, room)
    failure = standin.wait_for_report("media-error", timeout=0)
    assert failure["name"]  # QtWebEngine says AbortError for a denied request (see the facts doc)
    names = _event_names(qtbot, sp)
    assert {"cameraError", "micError", "videoConferenceJoined"} <= set(names)
    camera = run_js(qtbot, sp.page, "window.events.find(e => e.name === 'cameraError').data")
    assert camera["type"].startswith("gum.") and camera["message"]


def test_dispose_removes_the_iframe_and_stops_listening(
    qtbot, standin: StandinServer, standin_page: StandinPage
) -> None:
    """After dispose() the iframe is gone and later events reach no listener."""
    sp = standin_page
    room = "disposeRoom"
    _open_room(qtbot, sp, room)
    before = len(run_js(qtbot, sp.page, "window.events"))
    run_js(qtbot, sp.page, "api.dispose()")
    assert run_js(qtbot, sp.page, "document.querySelectorAll('iframe').length") == 0
    assert run_js(qtbot, sp.page, "api.getIFrame()") is None
    standin.send(room, "participantJoined", {"id": "late"})
    qtbot.wait(600)  # the room is gone, so nothing may arrive; a bounded pause proves the negative
    assert len(run_js(qtbot, sp.page, "window.events")) == before


# -- only the overrides a real Jitsi applies ---------------------------------------------------------------------


def test_the_whitelists_are_served_to_the_room_page(standin: StandinServer) -> None:
    response = _get(standin, "/_standin/whitelist.js")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/javascript")
    lists = json.loads(response.text.removeprefix("window.PALIM_STANDIN_WHITELISTS = ").rstrip().rstrip(";"))
    assert "deeplinking.disabled" in lists["embedded"]["config"] and "liveStreaming" in lists["embedded"]["config"]
    assert "liveStreaming" not in lists["top"]["config"]  # only an embedded Jitsi takes the whole object
    assert "SHOW_JITSI_WATERMARK" not in lists["embedded"]["interfaceConfig"]


def test_overrides_off_the_whitelist_are_dropped_and_named(
    qtbot, standin: StandinServer, standin_page: StandinPage
) -> None:
    """As Jitsi does: a key off the whitelist has no effect; the stand-in names it in the report and on the server."""
    sp = standin_page
    room = "whitelistRoom"
    with qtbot.waitSignal(sp.page.loadFinished, timeout=10000):
        sp.page.load(QUrl(standin.host_page_url(room, autostart="0")))
    run_js(qtbot, sp.page, "startCall({configOverwrite: {prejoinConfig: {enabled: false, preCallTestEnabled: true},"
                           " enableWelcomePage: false, startWithVideoMuted: true, constraints: {video: {height: 360}}},"
                           " interfaceConfigOverwrite: {SHOW_JITSI_WATERMARK: false, SHOW_POWERED_BY: false}})")
    loaded = wait_report(qtbot, standin, "loaded", predicate=lambda r: r["room"] == room)
    assert loaded["config"] == {"prejoinConfig": {"enabled": False}, "startWithVideoMuted": True,
                                "constraints": {"video": {"height": 360}}}
    assert loaded["interfaceConfig"] == {"SHOW_POWERED_BY": False}
    dropped = ["config.prejoinConfig.preCallTestEnabled", "config.enableWelcomePage",
               "interfaceConfig.SHOW_JITSI_WATERMARK"]
    assert loaded["dropped"] == dropped
    assert standin.dropped_overrides == [f"{room}: {key}" for key in dropped]
    assert standin.take_dropped_overrides() == [f"{room}: {key}" for key in dropped]
    assert standin.dropped_overrides == []
    # What was applied takes effect: the whitelisted startWithVideoMuted asks for no camera.
    assert wait_report(qtbot, standin, "media-requested")["constraints"] == {"audio": True, "video": False}


@pytest.mark.parametrize("overwrite, shown", [("{}", True), ("{disableSelfView: true}", False)])
def test_disable_self_view_shows_the_own_camera_nowhere(
    qtbot, standin: StandinServer, standin_page: StandinPage, overwrite: str, shown: bool
) -> None:
    """As Jitsi does: with disableSelfView the camera is still sent, but the own tile is not shown."""
    sp = standin_page
    room = f"selfView{int(shown)}"
    with qtbot.waitSignal(sp.page.loadFinished, timeout=10000):
        sp.page.load(QUrl(standin.host_page_url(room, autostart="0")))
    run_js(qtbot, sp.page, f"startCall({{configOverwrite: {overwrite}}})")
    media = wait_report(qtbot, standin, "media", predicate=lambda r: r["room"] == room)
    assert media["selfView"] is shown
    assert "video" in {t["kind"] for t in media["tracks"]}


def test_a_page_opened_directly_gets_the_whitelist_of_a_top_level_jitsi(
    qtbot, standin: StandinServer, standin_page: StandinPage
) -> None:
    """The family's link: dotted hash keys apply like nested ones; embedded-only keys are dropped at top level."""
    sp = standin_page
    room = "phoneRoom"
    with qtbot.waitSignal(sp.page.loadFinished, timeout=10000):
        sp.page.load(QUrl(f"{standin.url}/{room}#config.deeplinking.disabled=true&config.defaultLogoUrl=%22x%22"))
    loaded = wait_report(qtbot, standin, "loaded", predicate=lambda r: r["room"] == room)
    assert loaded["embedded"] is False
    assert loaded["config"] == {"deeplinking": {"disabled": True}}
    assert loaded["dropped"] == ["config.defaultLogoUrl"]


@pytest.mark.parametrize("p2p", [True, False])
def test_the_room_says_which_peer_connection_failed(
    qtbot, standin: StandinServer, standin_page: StandinPage, p2p: bool
) -> None:
    sp = standin_page
    room = f"peerRoom{int(p2p)}"
    _open_room(qtbot, sp, room)
    standin.fail_peer_connection(room, p2p=p2p)
    failure = wait_js(qtbot, sp.page, "window.events.find(e => e.name === 'peerConnectionFailure')", timeout_ms=5000)
    assert failure["data"] == {"isP2P": p2p}


def test_room_lists_occupants_with_display_names(standin: StandinServer) -> None:
    """/room answers as Prosody's mod_muc_size: [{jid, email, display_name}] without the focus ("" for a name
    nobody typed); 404 for no room, and for a domain that is not the XMPP domain (the plugin looks the room up as
    <room>@conference.<domain>, so the MUC domain itself finds nothing); room names as sent (no lower-casing)."""
    standin.room_occupants["familyroom"] = ["Anna", None]
    domain = standin.xmpp_domain
    response = _get(standin, "/room", params={"room": "familyroom", "domain": domain})
    assert response.status_code == 200
    occupants = response.json()
    assert [o["display_name"] for o in occupants] == ["Anna", ""]
    assert all(set(o) == {"jid", "email", "display_name"} for o in occupants)
    assert all(o["jid"].startswith(f"familyroom@conference.{domain}/") for o in occupants)
    assert not any("focus" in o["jid"] for o in occupants)
    assert _get(standin, "/room", params={"room": "empty", "domain": domain}).status_code == 404
    assert _get(standin, "/room", params={"room": "familyroom", "domain": f"conference.{domain}"}).status_code == 404
    assert _get(standin, "/room", params={"room": "FamilyRoom", "domain": domain}).status_code == 404
    assert _get(standin, "/room", params={"room": "familyroom"}).status_code == 400
    standin.room_size_status = 503
    assert _get(standin, "/room", params={"room": "familyroom", "domain": domain}).status_code == 503


def test_the_family_tile_shows_only_while_someone_is_in_the_room(
    qtbot, standin: StandinServer, standin_page: StandinPage
) -> None:
    """An empty room shows the resident alone (the demo's "nobody there yet"); the family's tile comes with the first
    participantJoined and goes with the last participantLeft."""
    sp = standin_page
    room = "aloneRoom"
    _open_room(qtbot, sp, room)
    assert wait_report(qtbot, standin, "joined", predicate=lambda r: r["room"] == room)["familyTile"] is False
    standin.send(room, "participantJoined", {"id": "anna", "displayName": "Anna"})
    assert wait_report(qtbot, standin, "family-tile", predicate=lambda r: r["room"] == room)["shown"] is True
    standin.send(room, "participantLeft", {"id": "anna"})
    assert wait_report(qtbot, standin, "family-tile",
                       predicate=lambda r: r["room"] == room and r["shown"] is False)["shown"] is False
