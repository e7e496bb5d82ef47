"""The locked-down profile and page: deny by default, log every refusal."""

from __future__ import annotations

import logging

from PyQt6 import sip
from PyQt6.QtCore import QUrl
from PyQt6.QtNetwork import QAuthenticator
from PyQt6.QtWebEngineCore import (
    QWebEngineCertificateError, QWebEngineDownloadRequest, QWebEnginePage, QWebEnginePermission, QWebEngineProfile,
    QWebEngineSettings, QWebEngineUrlRequestInfo, QWebEngineUrlRequestInterceptor,
)

from kiosk.config import KioskConfig
from kiosk.web import policy
from kiosk.web.pins import chain_pinned
from kiosk.web.scheme import SCHEME, PalimSchemeHandler

log = logging.getLogger(__name__)

_Attr = QWebEngineSettings.WebAttribute
# Settings of the kiosk's page: what a resident cannot reach by accident, and media that plays without a gesture
# (the tap happens on a native button, never inside the page).
SETTINGS = {
    _Attr.JavascriptCanOpenWindows: False,
    _Attr.JavascriptCanAccessClipboard: False,
    _Attr.JavascriptCanPaste: False,
    _Attr.PlaybackRequiresUserGesture: False,
    _Attr.ErrorPageEnabled: False,  # never show Chromium's error pages; the kiosk shows its own screens
    _Attr.FullScreenSupportEnabled: False,
    _Attr.ScreenCaptureEnabled: False,
    _Attr.PluginsEnabled: False,
    _Attr.PdfViewerEnabled: False,
    _Attr.LocalContentCanAccessRemoteUrls: False,
    _Attr.LocalContentCanAccessFileUrls: False,
    _Attr.AllowRunningInsecureContent: False,
    _Attr.AllowGeolocationOnInsecureOrigins: False,
    _Attr.AllowWindowActivationFromJavaScript: False,
    _Attr.HyperlinkAuditingEnabled: False,
    _Attr.DnsPrefetchEnabled: False,
    _Attr.NavigateOnDropEnabled: False,
    _Attr.ShowScrollBars: False,
    _Attr.SpatialNavigationEnabled: False,
    _Attr.FocusOnNavigationEnabled: False,
    _Attr.WebRTCPublicInterfacesOnly: False,  # Jitsi on a city LAN needs local ICE candidates
}


class RequestFilter(QWebEngineUrlRequestInterceptor):
    """Blocks every sub-resource that is not the call page's, the server's, data: or blob:."""

    def __init__(self, server: str, parent=None):
        super().__init__(parent)
        self._server = server

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:  # noqa: N802 (Qt override; IO thread)
        url = info.requestUrl().toString()
        if not policy.request_allowed(url, self._server):
            log.warning("blocked request to %s", info.requestUrl().toDisplayString(QUrl.UrlFormattingOption.RemoveQuery))
            info.block(True)


def build_profile(config: KioskConfig, parent=None) -> QWebEngineProfile:
    """An off-the-record profile: nothing of a call is written to the device's disk."""
    profile = QWebEngineProfile(parent)
    profile.setPersistentPermissionsPolicy(QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime)
    profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
    settings = profile.settings()
    for attribute, value in SETTINGS.items():
        settings.setAttribute(attribute, value)
    handler = PalimSchemeHandler(profile)
    profile.installUrlSchemeHandler(SCHEME, handler)
    interceptor = RequestFilter(config.server, profile)
    profile.setUrlRequestInterceptor(interceptor)
    profile.downloadRequested.connect(_refuse_download)
    # Qt workaround (no bug filed; documented: the profile does not take ownership of either; seen on Qt 6.8 to
    # 6.11): without a Python reference the handler or interceptor can be collected while the profile still calls it.
    profile._palim_keep = (handler, interceptor)  # type: ignore[attr-defined]
    return profile


def _origin(url: QUrl) -> str:
    """scheme://host:port of a URL, for the log (never its path or query: a room name may be in them)."""
    return url.adjusted(QUrl.UrlFormattingOption.RemovePath | QUrl.UrlFormattingOption.RemoveQuery
                        | QUrl.UrlFormattingOption.RemoveFragment | QUrl.UrlFormattingOption.RemoveUserInfo).toString()


def _refuse_download(download: QWebEngineDownloadRequest) -> None:
    log.warning("download refused: %s", download.url().toDisplayString(QUrl.UrlFormattingOption.RemoveQuery))
    download.cancel()


class LockedPage(QWebEnginePage):
    """The call page: only the local page and the configured server, nothing else."""

    def __init__(self, profile: QWebEngineProfile, config: KioskConfig, parent=None, local_media: bool = False):
        super().__init__(profile, parent)
        self._config = config
        self._local_media = local_media
        self.permissionRequested.connect(self._on_permission)
        self.certificateError.connect(self._on_certificate_error)
        self.authenticationRequired.connect(self._refuse_authentication)
        self.proxyAuthenticationRequired.connect(lambda url, authenticator, host: self._refuse_authentication(
            url, authenticator))
        self.newWindowRequested.connect(lambda request: log.warning(
            "new window refused: %s", request.requestedUrl().toDisplayString(QUrl.UrlFormattingOption.RemoveQuery)))

    def acceptNavigationRequest(self, url: QUrl, kind, is_main_frame: bool) -> bool:  # noqa: N802 (Qt override)
        allowed = policy.navigation_allowed(url.toString(), is_main_frame, self._config.server)
        if not allowed:
            log.warning("navigation blocked (%s frame): %s", "main" if is_main_frame else "sub",
                        url.toDisplayString(QUrl.UrlFormattingOption.RemoveQuery))
        return allowed

    def createWindow(self, kind):  # noqa: N802 (Qt override)
        log.warning("window.open / target=_blank refused")
        return None

    # Dialogs a page can open: none may appear over the kiosk (a resident cannot answer them; a server could fake
    # one), and no file chooser may open as the kiosk user. Each is refused at once and logged.

    def chooseFiles(self, mode, old_files, mime_types) -> list[str]:  # noqa: N802 (Qt override)
        log.warning("file chooser refused (%s)", _origin(self.url()))
        return []

    def javaScriptAlert(self, origin: QUrl, message: str) -> None:  # noqa: N802 (Qt override)
        log.warning("alert() refused from %s", _origin(origin))

    def javaScriptConfirm(self, origin: QUrl, message: str) -> bool:  # noqa: N802 (Qt override)
        log.warning("confirm() refused from %s", _origin(origin))
        return False

    def javaScriptPrompt(self, origin: QUrl, message: str, default: str):  # noqa: N802 (Qt override)
        log.warning("prompt() refused from %s", _origin(origin))
        return False, ""

    def _refuse_authentication(self, url: QUrl, authenticator) -> None:
        log.warning("login dialog refused for %s", _origin(url))
        # A null authenticator cancels the request (as qutebrowser answers "no login"): no dialog, no retry.
        sip.assign(authenticator, QAuthenticator())

    def javaScriptConsoleMessage(self, level, message: str, line: int, source: str) -> None:  # noqa: N802
        # Jitsi is chatty; only the call page's own messages are worth the journal.
        if source.startswith(f"{SCHEME.decode()}:"):
            log.info("call page: %s (%s:%d)", message, source, line)

    def _on_permission(self, permission: QWebEnginePermission) -> None:
        feature = permission.permissionType().name
        origin = permission.origin().toString()
        decision, reason = policy.permission_decision(feature, origin, self._config.server, self._local_media)
        if decision is policy.Decision.GRANT:
            log.info("permission granted: %s", reason)
            permission.grant()
        else:
            log.warning("permission denied: %s", reason)
            permission.deny()

    def _on_certificate_error(self, error: QWebEngineCertificateError) -> None:
        url = error.url()
        pinned, leaf = chain_pinned(error.certificateChain(), url, self._config)
        if pinned:
            log.info("certificate of %s accepted by its pin", url.host())
            error.acceptCertificate()
            return
        log.error("certificate rejected for %s: %s (leaf sha256 %s)", url.host(), error.description(),
                  leaf or "unknown")
        error.rejectCertificate()
