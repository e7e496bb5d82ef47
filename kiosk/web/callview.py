"""The web view that holds the call: builds the page ahead of time, rests it at home and rebuilds it after a crash."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from PyQt6.QtCore import QEvent, QObject, Qt, QUrl, pyqtSignal
from PyQt6.QtWebChannel import QWebChannel
from PyQt6.QtWebEngineCore import QWebEnginePage
from PyQt6.QtWebEngineWidgets import QWebEngineView
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from kiosk.config import KioskConfig
from kiosk.jitsi import join_options, with_jwt
from kiosk.servertoken import read_token
from kiosk.web.bridge import CallBridge
from kiosk.web.page import LockedPage, build_profile
from kiosk.web.scheme import CALL_PAGE_URL

log = logging.getLogger(__name__)


class _InputGuard(QObject):
    """Eats the keys and wheel gestures that would reload, navigate, zoom or open tools."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride):
            return True  # the resident has no keyboard business inside Jitsi; Jitsi's shortcuts are off too
        if kind == QEvent.Type.Wheel and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return True
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease) and event.button() in (
                Qt.MouseButton.BackButton, Qt.MouseButton.ForwardButton):
            return True
        if kind == QEvent.Type.ContextMenu:
            return True
        return False


class CallView(QWidget):
    """Shows the call page; turns flow effects into page commands and page events into signals."""

    page_event = pyqtSignal(int, str, dict)
    ready = pyqtSignal()
    crashed = pyqtSignal(str, int)

    def __init__(self, config: KioskConfig, parent=None):
        super().__init__(parent)
        self._config = config
        self._options = join_options(config)
        self._options["scriptUrl"] = f"{config.server}/external_api.js"
        # The page's address names the IFrame API script, so the page loads it while its bridge still connects.
        self._page_url = QUrl(CALL_PAGE_URL)
        self._page_url.setFragment(urlencode({"api": self._options["scriptUrl"]}))
        self._profile = build_profile(config, self)
        self._guard = _InputGuard(self)
        self._view: QWebEngineView | None = None
        self._bridge: CallBridge | None = None
        self._page_ready = False
        self._resting = False
        self._queued: list[tuple[str, int]] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.rebuild()

    @property
    def page(self) -> QWebEnginePage | None:
        """The current page (a new one after every rebuild)."""
        return self._view.page() if self._view else None

    @property
    def view(self) -> QWebEngineView | None:
        """The current web view."""
        return self._view

    @property
    def is_ready(self) -> bool:
        """True once the call page can take commands."""
        return self._page_ready

    @property
    def is_resting(self) -> bool:
        """True while the call page is discarded and its renderer freed."""
        return self._resting

    def rebuild(self) -> None:
        """Replace view, page and bridge with fresh ones and load the call page."""
        self._teardown()
        view = QWebEngineView(self)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        view.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        page = LockedPage(self._profile, self._config, view)
        bridge = CallBridge(page)
        channel = QWebChannel(page)
        channel.registerObject("kiosk", bridge)
        page.setWebChannel(channel)
        bridge.page_event.connect(self.page_event)
        bridge.page_ready.connect(self._on_page_ready)
        page.renderProcessTerminated.connect(self._on_render_process_terminated)
        page.loadFinished.connect(self._on_load_finished)
        view.setPage(page)
        view.installEventFilter(self._guard)
        self._view, self._bridge = view, bridge
        self._layout.addWidget(view)
        view.setUrl(self._page_url)
        # Chromium's input widget appears once the page renders; guard it too.
        view.loadStarted.connect(lambda: view.focusProxy() and view.focusProxy().installEventFilter(self._guard))

    def join(self, call_id: int) -> None:
        """Join the configured room; waits for the page if it is still loading."""
        self._command("join", call_id)

    def hangup(self, call_id: int) -> None:
        """Ask Jitsi to hang up (it answers with readyToClose)."""
        self._command("hangup", call_id)

    def dispose(self, call_id: int) -> None:
        """Remove the Jitsi iframe (camera and microphone go off) and load a fresh call page for the next call."""
        self._queued = [(op, cid) for op, cid in self._queued if cid != call_id]
        if self._page_ready and self._bridge and self._view:
            self._bridge.send("dispose", call_id)
            # Qt workaround (no bug filed; Qt 6.11.2, its Chromium 140, found by bench/soak.py): Chromium sometimes
            # keeps a removed iframe's whole window alive in the call page (about 0.5 MiB a call,
            # in about half of all runs of bench/soak.py: +30 % PSS over 200 calls), and garbage collection cannot
            # free it. A new document per call drops everything the last call left; a join that comes meanwhile
            # waits in the queue until the page says it is ready again (a local page: well under a second).
            self._page_ready = False
            self._view.triggerPageAction(QWebEnginePage.WebAction.Reload)

    def rest(self) -> bool:
        """Free the hidden call page's renderer (its memory) until the next join or wake(); False if it cannot now."""
        page = self.page
        if page is None or self._resting or not self._page_ready or self._queued or page.isVisible():
            return False
        # Chromium discards the document and ends its renderer process; Active loads it again from palim://.
        self._page_ready = False
        self._resting = True
        page.setLifecycleState(QWebEnginePage.LifecycleState.Discarded)
        log.info("call page resting: its renderer is freed until the next call")
        return True

    def wake(self) -> None:
        """Load the resting call page again, ahead of a join (it reports ready when it can take one)."""
        if self._resting and self.page is not None:
            self._resting = False
            self.page.setLifecycleState(QWebEnginePage.LifecycleState.Active)
            log.info("call page waking")

    def renderer_pid(self) -> int:
        """The pid of the page's renderer process (0 when none)."""
        return self.page.renderProcessPid() if self.page else 0

    def shutdown(self) -> None:
        """Delete pages before the profile, as QtWebEngine requires."""
        self._teardown()

    # ------------------------------------------------------------------ internals

    def _command(self, op: str, call_id: int) -> None:
        if not (self._page_ready and self._bridge):
            self._queued.append((op, call_id))
            self.wake()
            return
        if op == "join":
            # The login token is read at each join (a renewed file counts at once) and never logged.
            self._bridge.send("join", call_id, options=with_jwt(self._options, read_token(self._config.jwt_file)))
        else:
            self._bridge.send(op, call_id)

    def _on_page_ready(self) -> None:
        self._page_ready = True
        log.info("call page ready (renderer pid %d)", self.renderer_pid())
        queued, self._queued = self._queued, []
        for op, call_id in queued:
            self._command(op, call_id)
        self.ready.emit()

    def _on_load_finished(self, ok: bool) -> None:
        if not ok:
            log.error("the call page did not load")

    def _on_render_process_terminated(self, status, exit_code: int) -> None:
        if self._resting:
            log.debug("the resting call page's renderer ended (%s)", status.name)
            return
        self._page_ready = False
        self._queued.clear()  # a join queued before the crash must not start a call nobody waits for
        log.error("renderer process ended: %s (exit code %d)", status.name, exit_code)
        self.crashed.emit(status.name, exit_code)

    def _teardown(self) -> None:
        self._page_ready = False
        self._resting = False
        if self._view is None:
            return
        view, self._view, self._bridge = self._view, None, None
        page = view.page()
        self._layout.removeWidget(view)
        view.hide()
        try:
            page.renderProcessTerminated.disconnect(self._on_render_process_terminated)
        except TypeError:
            pass
        page.deleteLater()
        view.deleteLater()
