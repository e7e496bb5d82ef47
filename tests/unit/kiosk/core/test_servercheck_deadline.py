"""server-check against a server that drips: it ends by its stated deadline, with a finding for each request cut off.

The stated deadline: REQUESTS_PER_CHECK request timeouts of network time for the whole check (boundedhttp's job
deadline), START_ALLOWANCE_S on top for the child process. Asserted by structure (the child's own wall clock would
kill it after exactly that; it must come back by itself, with findings), never as a tight timing.
"""

from __future__ import annotations

import ssl
import time

import pytest

from kiosk.core.servercheck import FAIL, REQUESTS_PER_CHECK
from kiosk.core.servercheck_child import START_ALLOWANCE_S, check_server_in_child
from tests.hostile import HostileServer
from tests.unit.kiosk.core.test_https import make_city_ca_and_server_cert

TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def dripping(tmp_path_factory):
    _, leaf, key, sha = make_city_ca_and_server_cert(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf, key)
    with HostileServer("drip_body", tls=context) as server:
        yield server, sha


@pytest.mark.parametrize("kind", ["drip_body", "drip_headers", "silent"])
def test_a_dripping_server_gets_a_report_by_the_stated_deadline(dripping, kind):
    server, pin = dripping
    server.plan = [kind]
    start = time.monotonic()
    report = check_server_in_child(server.url(""), (pin,), timeout=TIMEOUT_S)
    took = time.monotonic() - start
    print(f"\nserver-check against {kind} (request timeout {TIMEOUT_S:g} s): {took:.1f} s")
    lines = [f.line() for f in report.findings]
    # The child came back by itself (the wall-clock kill would give only "the check itself did not finish") ...
    assert not any("the check itself did not finish" in line for line in lines), lines
    # ... with each script cut off at its own deadline, not waited for.
    assert any(f.status == FAIL and f.check == "config.js" and "no complete answer within 1 s" in f.message
               for f in report.findings), lines
    assert took < START_ALLOWANCE_S + REQUESTS_PER_CHECK * TIMEOUT_S
