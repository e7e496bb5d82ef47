"""The palim: scheme handler: the call page's static files, nothing else."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent, QUrl
from PyQt6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile

from kiosk.web.scheme import CALL_PAGE_URL, PRACTICE_PAGE_URL, SCHEME, PalimSchemeHandler


@pytest.fixture
def page():
    profile = QWebEngineProfile()
    handler = PalimSchemeHandler(profile)
    profile.installUrlSchemeHandler(SCHEME, handler)
    page = QWebEnginePage(profile)
    yield page
    page.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    profile.deleteLater()


def load(qtbot, page, url: QUrl) -> bool:
    with qtbot.waitSignal(page.loadFinished, timeout=15000) as signal:
        page.load(url)
    return signal.args[0]


def text_of(qtbot, page) -> str:
    result = []
    page.toPlainText(result.append)
    qtbot.waitUntil(lambda: bool(result))
    return result[0]


@pytest.mark.parametrize("url", [CALL_PAGE_URL, PRACTICE_PAGE_URL, QUrl("palim://kiosk/call.js"),
                                 QUrl("palim://kiosk/qwebchannel.js")], ids=lambda u: u.path())
def test_the_static_files_are_served(qtbot, page, url):
    assert load(qtbot, page, url)


def test_a_script_is_served_as_itself(qtbot, page):
    assert load(qtbot, page, QUrl("palim://kiosk/call.js"))
    assert "new QWebChannel" in text_of(qtbot, page)


@pytest.mark.parametrize("url", ["palim://kiosk/nothing.html", "palim://kiosk/static/call.html",
                                 "palim://kiosk/.hidden", "palim://other/call.html", "palim://kiosk/"])
def test_unknown_paths_and_other_hosts_are_refused(qtbot, page, url):
    assert not load(qtbot, page, QUrl(url))
