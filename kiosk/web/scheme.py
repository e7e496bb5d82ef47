"""The kiosk's own palim: URL scheme, which serves the local call page."""

from __future__ import annotations

import logging
from importlib import resources

from PyQt6.QtCore import QBuffer, QByteArray, QFile, QIODevice, QUrl
from PyQt6.QtWebEngineCore import QWebEngineUrlRequestJob, QWebEngineUrlScheme, QWebEngineUrlSchemeHandler

log = logging.getLogger(__name__)

SCHEME = b"palim"
HOST = "kiosk"
CALL_PAGE_URL = QUrl(f"{SCHEME.decode()}://{HOST}/call.html")
PRACTICE_PAGE_URL = QUrl(f"{SCHEME.decode()}://{HOST}/practice.html")
_TYPES = {".html": b"text/html", ".js": b"text/javascript", ".css": b"text/css", ".svg": b"image/svg+xml"}
# Qt ships qwebchannel.js as a resource; serving it from our own origin keeps the page same-origin only.
_QWEBCHANNEL_RESOURCE = ":/qtwebchannel/qwebchannel.js"


def register() -> None:
    """Register palim: as a secure scheme; must run before the QApplication exists."""
    if QWebEngineUrlScheme.schemeByName(SCHEME).name():
        return
    scheme = QWebEngineUrlScheme(SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    # Secure: the page must be a secure context, or the Jitsi iframe may not use camera and microphone.
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme | QWebEngineUrlScheme.Flag.ContentSecurityPolicyIgnored)
    QWebEngineUrlScheme.registerScheme(scheme)


def _static(name: str) -> bytes | None:
    if name == "qwebchannel.js":
        file = QFile(_QWEBCHANNEL_RESOURCE)
        if not file.open(QIODevice.OpenModeFlag.ReadOnly):
            return None
        return bytes(file.readAll())
    if "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        return None
    try:
        return resources.files("kiosk.web").joinpath("static", name).read_bytes()
    except (OSError, ValueError):  # ValueError: a name the file system cannot hold
        return None


class PalimSchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves the few static files of the call page; everything else is 404."""

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802 (Qt override)
        # A page can ask for any palim: URL; nothing it asks for may raise out of this Qt override.
        try:
            self._serve(job)
        except Exception:  # noqa: BLE001
            log.exception("palim: request failed")
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)

    def _serve(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        name = url.path().lstrip("/")
        body = _static(name) if url.host() == HOST and "\0" not in name else None
        if body is None:
            log.warning("palim: no such page: %s", url.toString())
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        buffer = QBuffer(job)
        buffer.setData(QByteArray(body))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        suffix = name[name.rfind("."):]
        job.reply(_TYPES.get(suffix, b"application/octet-stream"), buffer)
