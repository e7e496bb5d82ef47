"""Background HTTPS (kiosk.core.boundedhttp over kiosk.core.https) trusts the device's CA store (a city CA installed
there works), or exactly the pinned leaves."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import json
import ssl
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.core.boundedhttp import FetchError, fetch


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_city_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path, str]:
    """A throwaway city CA and a leaf for 127.0.0.1 it signed: (ca.pem, leaf.pem, leaf.key, leaf sha256)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Stadt Test-CA")).issuer_name(_name("Stadt Test-CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress
    leaf = (x509.CertificateBuilder().subject_name(_name("konferenz.test")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return *paths, hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"participants": 2}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def city_server(tmp_path):
    """A real HTTPS server on 127.0.0.1 whose certificate a throwaway city CA signed."""
    ca, leaf, key, sha = make_city_ca_and_server_cert(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/room-size", ca, sha
    server.shutdown()
    server.server_close()


def run_in_child(code: str, trust_store: Path | None) -> subprocess.CompletedProcess:
    """Run code in a child whose OpenSSL trust store is only the given file (never the machine's)."""
    env = {"PATH": "/usr/bin:/bin", "SSL_CERT_DIR": "/nonexistent"}
    env["SSL_CERT_FILE"] = str(trust_store) if trust_store else "/nonexistent"
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[4])


FETCH = """
    import sys
    from kiosk.core.boundedhttp import fetch
    try:
        answer = fetch(sys.argv[1] if len(sys.argv) > 1 else {url!r})
        print(answer.status, answer.body.decode())
    except Exception as exc:
        print("refused:", exc)
"""


def test_a_city_ca_in_the_devices_trust_store_is_trusted(city_server, tmp_path):
    url, ca, _ = city_server
    store = tmp_path / "store.pem"
    store.write_bytes(ca.read_bytes())
    result = run_in_child(FETCH.format(url=url), store)
    assert result.stdout.strip() == '200 {"participants": 2}', result.stderr


def test_without_the_city_ca_the_server_is_refused(city_server, tmp_path):
    url, _, _ = city_server
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    assert run_in_child(FETCH.format(url=url), empty).stdout.startswith("refused: no TLS connection (CERTIFICATE_VERIFY")


def test_certifi_alone_would_have_refused_the_city_ca(city_server):
    url, _, _ = city_server
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=5)  # requests' own CA list: what the kiosk used before


def test_a_pinned_request_accepts_exactly_its_leaves(city_server):
    url, _, sha = city_server
    assert fetch(url, pins=(sha,)).body == b'{"participants": 2}'
    assert fetch(url, pins=("ab" * 32, sha.upper())).status == 200  # a certificate change: either pin does
    with pytest.raises(FetchError, match="matches none of the configured pins"):
        fetch(url, pins=("ab" * 32,))


def test_a_ca_bundle_or_proxy_from_the_environment_decides_nothing(city_server, monkeypatch):
    url, ca, _ = city_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))  # not the device's store: must not decide
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there: a proxy used would fail
    with pytest.raises(FetchError, match="no TLS connection"):
        fetch(url)  # this machine's store has no city CA: refused, whatever the environment names
