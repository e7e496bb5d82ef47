"""pytest fixtures and Qt helpers for tests that drive QtWebEngine against the Jitsi stand-in."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PyQt6.QtCore import QCoreApplication, QCryptographicHash, QEvent, QUrl
from PyQt6.QtWebEngineCore import (
    QWebEngineCertificateError,
    QWebEnginePage,
    QWebEnginePermission,
    QWebEngineProfile,
)
from PyQt6.QtWebEngineWidgets import QWebEngineView

from jitsi_standin.server import StandinServer

_MEDIA_TYPES = {
    QWebEnginePermission.PermissionType.MediaAudioCapture,
    QWebEnginePermission.PermissionType.MediaVideoCapture,
    QWebEnginePermission.PermissionType.MediaAudioVideoCapture,
}


@dataclass
class PermissionSeen:
    """One permission request as QtWebEngine reported it."""

    origin: str
    type: str
    granted: bool


@dataclass
class StandinPage:
    """A shown QWebEngineView whose page trusts only the stand-in's certificate and grants media to it only."""

    standin: StandinServer
    profile: QWebEngineProfile
    page: QWebEnginePage
    view: QWebEngineView
    permissions: list[PermissionSeen] = field(default_factory=list)
    grant_media: bool = True  # set False to make every media request fail, as a refusing kiosk would
    certificate_hosts: list[tuple[str, bool]] = field(default_factory=list)


def _same_origin(a: QUrl, b: QUrl) -> bool:
    """Compare scheme, host and port (QtWebEngine's origins end with a slash, so strings differ)."""
    return (a.scheme(), a.host(), a.port(443)) == (b.scheme(), b.host(), b.port(443))


def make_standin_page(standin: StandinServer, size: tuple[int, int] = (800, 600)) -> StandinPage:
    """Build the profile, page and view; the caller must call delete_standin_page()."""
    profile = QWebEngineProfile()  # no storage name: off the record, nothing leaks between tests
    # Otherwise an answer is remembered and the handler below would not see later requests.
    profile.setPersistentPermissionsPolicy(QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime)
    page = QWebEnginePage(profile)
    view = QWebEngineView()
    view.setPage(page)
    view.resize(*size)
    result = StandinPage(standin, profile, page, view)
    server_origin = QUrl(standin.url)

    def on_certificate_error(error: QWebEngineCertificateError) -> None:
        chain = error.certificateChain()
        leaf = bytes(chain[0].digest(QCryptographicHash.Algorithm.Sha256).toHex()).decode() if chain else ""
        accepted = leaf == standin.cert_sha256
        result.certificate_hosts.append((error.url().host(), accepted))
        if accepted:
            error.acceptCertificate()
        else:
            error.rejectCertificate()

    def on_permission(permission: QWebEnginePermission) -> None:
        granted = (
            result.grant_media
            and permission.permissionType() in _MEDIA_TYPES
            and _same_origin(permission.origin(), server_origin)
        )
        result.permissions.append(
            PermissionSeen(permission.origin().toString(), permission.permissionType().name, granted)
        )
        if granted:
            permission.grant()
        else:
            permission.deny()

    page.certificateError.connect(on_certificate_error)
    page.permissionRequested.connect(on_permission)
    view.show()
    return result


def delete_standin_page(sp: StandinPage) -> None:
    """Delete page and view before the profile, as QtWebEngine requires."""
    sp.view.hide()
    sp.page.deleteLater()
    sp.view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    sp.profile.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def run_js(qtbot: Any, page: QWebEnginePage, script: str, timeout_ms: int = 5000) -> Any:
    """Evaluate one JavaScript expression in the main frame and return it via JSON (Qt events keep running)."""
    box: list[Any] = []
    # Wrapping in JSON keeps PyQt's conversion of nested objects out of the picture.
    page.runJavaScript(f"JSON.stringify(({script}))", lambda value: box.append(value))
    qtbot.waitUntil(lambda: bool(box), timeout=timeout_ms)
    return None if box[0] in (None, "undefined") else json.loads(box[0])


def wait_js(qtbot: Any, page: QWebEnginePage, script: str, timeout_ms: int = 10000) -> Any:
    """Poll script until it yields a truthy value and return that value."""
    found: list[Any] = []

    def check() -> bool:
        value = run_js(qtbot, page, script)
        if value:
            found.append(value)
        return bool(value)

    qtbot.waitUntil(check, timeout=timeout_ms)
    return found[0]


def wait_report(
    qtbot: Any,
    standin: StandinServer,
    type: str,  # noqa: A002 (mirrors StandinServer.wait_for_report)
    predicate: Callable[[dict[str, Any]], bool] | None = None,
    timeout_ms: int = 10000,
) -> dict[str, Any]:
    """Like StandinServer.wait_for_report, but keeps the Qt event loop running (permission handlers need it)."""

    def seen() -> bool:
        return any(r.get("type") == type and (predicate is None or predicate(r)) for r in standin.reports)

    try:
        qtbot.waitUntil(seen, timeout=timeout_ms)
    except AssertionError:
        pass  # wait_for_report below raises TimeoutError with the reports seen so far
    return standin.wait_for_report(type, timeout=0, predicate=predicate)


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    """A running stand-in server, stopped after the test."""
    with StandinServer() as server:
        yield server


@pytest.fixture
def standin_page(qtbot: Any, standin: StandinServer) -> Iterator[StandinPage]:
    """A shown QtWebEngine view wired to trust and grant only the stand-in."""
    sp = make_standin_page(standin)
    yield sp
    delete_standin_page(sp)
