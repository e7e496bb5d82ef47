"""LockedPage and build_profile beyond tests/e2e/test_lockdown.py: settings, windows, downloads, navigation."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent, QUrl
from PyQt6.QtWebEngineCore import QWebEngineDownloadRequest, QWebEnginePage, QWebEngineProfile

from kiosk.config import config_from_text
from kiosk.web.page import SETTINGS, LockedPage, build_profile
from kiosk.web.scheme import CALL_PAGE_URL
from tests.unit.kiosk.helpers import standin_config_text as config_text


@pytest.fixture
def locked(server, tmp_path):
    config = config_from_text(config_text(server, tmp_path))
    profile = build_profile(config)
    page = LockedPage(profile, config)
    yield profile, page
    page.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    profile.deleteLater()


def test_the_profile_is_off_the_record_with_every_setting_of_the_table(locked):
    profile, _ = locked
    assert profile.isOffTheRecord()
    assert profile.httpCacheType() is QWebEngineProfile.HttpCacheType.MemoryHttpCache
    settings = profile.settings()
    assert {attribute: settings.testAttribute(attribute) for attribute in SETTINGS} == SETTINGS


def test_no_new_window_is_ever_created(locked):
    _, page = locked
    for kind in QWebEnginePage.WebWindowType:
        assert page.createWindow(kind) is None


def test_main_frame_navigation_is_allowed_only_to_the_call_page(locked, server):
    _, page = locked
    kind = QWebEnginePage.NavigationType.NavigationTypeLinkClicked
    assert page.acceptNavigationRequest(CALL_PAGE_URL, kind, True)
    assert not page.acceptNavigationRequest(QUrl(f"https://localhost:{server.port}/"), kind, True)
    assert not page.acceptNavigationRequest(QUrl("https://example.org/"), kind, False)


def test_a_download_is_refused(qtbot, locked, server):
    profile, page = locked
    downloads = []
    profile.downloadRequested.connect(downloads.append)
    with qtbot.waitSignal(page.loadFinished, timeout=20000):
        page.load(CALL_PAGE_URL)
    page.download(QUrl("palim://kiosk/call.js"), "call.js")
    qtbot.waitUntil(lambda: bool(downloads), timeout=10000)
    assert downloads[0].state() is QWebEngineDownloadRequest.DownloadState.DownloadCancelled
