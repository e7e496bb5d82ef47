"""Pins: the leaf's SHA-256 of a real certificate chain, whether it is pinned, and background requests."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QUrl
from PyQt6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest, QSslSocket

from kiosk.config import config_from_text
from kiosk.core.boundedhttp import FetchError
from kiosk.web.pins import accept_if_pinned, chain_pinned, fetch_json, leaf_sha256
from tests.unit.kiosk.helpers import standin_config_text as config_text


@pytest.fixture(scope="module")
def chain(server):
    """The stand-in's certificate chain as Qt sees it in a TLS handshake."""
    sock = QSslSocket()
    sock.sslErrors.connect(lambda errors: sock.ignoreSslErrors())
    sock.connectToHostEncrypted("127.0.0.1", server.port)
    assert sock.waitForEncrypted(10000), sock.errorString()
    chain = sock.peerCertificateChain()
    sock.close()
    return chain


def config(server, tmp_path, pin: str):
    return config_from_text(config_text(server, tmp_path).replace(server.cert_sha256, pin))


def test_the_leaf_sha256_is_the_stand_ins_fingerprint(server, chain):
    assert leaf_sha256(chain) == server.cert_sha256.lower()


def test_no_chain_has_no_leaf():
    assert leaf_sha256([]) == ""


def test_the_chain_is_pinned_for_the_configured_host_only(server, chain, tmp_path):
    right = config(server, tmp_path, server.cert_sha256)
    assert chain_pinned(chain, QUrl(server.url), right) == (True, server.cert_sha256.lower())
    assert chain_pinned(chain, QUrl(f"https://localhost:{server.port}"), right)[0] is False
    assert chain_pinned(chain, QUrl(server.url), config(server, tmp_path, "0" * 64))[0] is False
    assert chain_pinned([], QUrl(server.url), right) == (False, "")


@pytest.mark.parametrize("pinned", [True, False])
def test_a_reply_with_a_pinned_certificate_goes_through_and_an_unpinned_one_fails(qtbot, server, tmp_path, pinned):
    cfg = config(server, tmp_path, server.cert_sha256 if pinned else "0" * 64)
    manager = QNetworkAccessManager()
    reply = manager.get(QNetworkRequest(QUrl(f"{server.url}/external_api.js")))
    answers = []
    reply.sslErrors.connect(lambda errors: answers.append(accept_if_pinned(reply, cfg)))
    with qtbot.waitSignal(reply.finished, timeout=10000):
        pass
    assert answers == [pinned]
    assert (reply.error() == QNetworkReply.NetworkError.NoError) is pinned
    reply.deleteLater()


def test_fetch_json_with_the_pin_reads_the_answer(server):
    server.room_size["pinsroom"] = 4
    try:
        assert fetch_json(f"{server.url}/room-size?room=pinsroom&domain={server.xmpp_domain}", server.url,
                          (server.cert_sha256,)) == (200, {"participants": 4})
    finally:
        server.room_size.pop("pinsroom")


def test_fetch_json_gives_the_status_and_none_for_a_body_that_is_not_json(server):
    url = f"{server.url}/room-size?room=nobody&domain={server.xmpp_domain}"
    assert fetch_json(url, server.url, (server.cert_sha256,)) == (404, None)


def test_fetch_json_to_another_host_ignores_the_pins_and_the_ca_store_refuses(server):
    # The pins belong to the configured server: for localhost (another host) only the CA store counts.
    with pytest.raises(FetchError, match="no TLS connection"):
        fetch_json(f"https://localhost:{server.port}/room-size?room=x&domain=y", server.url, (server.cert_sha256,))
