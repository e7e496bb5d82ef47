"""The one bounded way to ask a server, against a hostile loopback server: each hostile answer with its exact outcome."""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from kiosk.core.boundedhttp import FetchError, fetch, job_deadline
from tests.hostile import HostileServer, bomb

DEADLINE_S = 2.0
JSON = ("application/json",)

# answer -> the FetchError's message, or None when the answer comes through
HOSTILE = [
    ("ok", None),
    ("gzip_bomb", "an answer larger than 1 MiB"),
    ("deflate_bomb", "an answer larger than 1 MiB"),
    ("big_plain", "an answer larger than 1 MiB (Content-Length 52428800)"),
    ("big_chunked", "an answer larger than 1 MiB"),
    ("drip_body", "no complete answer within 2 s"),
    ("drip_headers", "no complete answer within 2 s"),
    ("silent", "no complete answer within 2 s"),
    ("endless_header", "headers larger than 16 KiB"),
    ("many_headers", "no usable HTTP answer (got more than 100 headers)"),
    ("html", "an answer of type text/html, not application/json"),
    ("brotli", "an answer in an encoding this device does not read (br)"),
    ("bad_gzip", "an answer that does not unpack"),
    ("garbage", "no usable HTTP answer (BadStatusLine)"),
]


@pytest.fixture(scope="module")
def hostile():
    bomb("gzip"), bomb("deflate")  # made before: making them must not count against a request's deadline
    with HostileServer() as server:
        yield server


@pytest.mark.parametrize(("kind", "expected"), HOSTILE, ids=[kind for kind, _ in HOSTILE])
def test_each_hostile_answer_has_its_outcome(hostile, kind, expected):
    hostile.plan = [kind]
    if expected is None:
        assert fetch(hostile.url(), deadline_s=DEADLINE_S, accept=JSON).body == b'{"participants": 1}'
        return
    with pytest.raises(FetchError) as caught:
        fetch(hostile.url(), deadline_s=DEADLINE_S, accept=JSON)
    assert str(caught.value) == expected


def test_a_redirect_is_returned_never_followed(hostile):
    hostile.plan, hostile.redirect_hits = ["redirect_http"], 0
    answer = fetch(hostile.url(), deadline_s=DEADLINE_S, accept=JSON)
    assert answer.status == 302 and answer.body == b"" and hostile.redirect_hits == 0


def test_a_pinned_address_is_asked_over_https_only(hostile):
    with pytest.raises(FetchError, match="over https only"):
        fetch(hostile.url(), pins=("ab" * 32,))


def test_a_gzip_bomb_of_768_mib_costs_next_to_no_memory(hostile):
    hostile.plan = ["gzip_bomb"]
    process = psutil.Process()
    before = process.memory_info().rss
    peak = [before]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(3):
            with pytest.raises(FetchError, match="larger than 1 MiB"):
                fetch(hostile.url(), accept=JSON)
    finally:
        done.set()
        watcher.join()
    # A bound no busy machine can break: unpacking it would take 768 MiB.
    assert peak[0] - before < 200 << 20


def test_the_whole_job_ends_by_its_deadline_whatever_each_request_may_take(hostile):
    hostile.plan = ["drip_body"]
    start = time.monotonic()
    with job_deadline(1.0):
        with pytest.raises(FetchError, match="within 1 s"):
            fetch(hostile.url(), deadline_s=30)
        with pytest.raises(FetchError, match="the time for the whole check is used up"):
            fetch(hostile.url(), deadline_s=30)
    assert time.monotonic() - start < 25  # structure, not timing: far below one request's own 30 s
