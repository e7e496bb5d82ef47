"""The real kiosk against hostile presence and webhook servers on loopback: no memory climb, no frozen screen, and
the next good answer still rings.

Each case prints its figures (peak RSS over the kiosk's before, the GUI thread's longest stall): `-s` shows them.
The assertions are bounds no busy machine can break (an unpacked bomb would take 768 MiB), never timings.
"""

from __future__ import annotations

import threading
import time

import psutil
import pytest
from PyQt6.QtCore import QTimer

from kiosk.config import config_from_text
from kiosk.screen import Screen
from tests.e2e.helpers import close_kiosk, config_text, make_kiosk, tap
from tests.hostile import HostileServer, bomb

MEMORY_BOUND = 200 << 20


class Meter:
    """The process's peak RSS (a thread samples every 5 ms) and the GUI thread's longest stall (a 10 ms timer)."""

    def __init__(self):
        self.process = psutil.Process()
        self.before = self.process.memory_info().rss
        self.peak = self.before
        self.stall_s = 0.0
        self._last = time.monotonic()
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self._tick = QTimer(interval=10)
        self._tick.timeout.connect(self._ticked)
        self._tick.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def _ticked(self) -> None:
        now = time.monotonic()
        self.stall_s = max(self.stall_s, now - self._last - 0.010)
        self._last = now

    def stop(self, name: str) -> tuple[float, float]:
        self._done.set()
        self._sampler.join()
        self._tick.stop()
        grown = (self.peak - self.before) / (1 << 20)
        print(f"\n{name}: peak RSS +{grown:.1f} MiB, longest GUI stall {self.stall_s * 1000:.0f} ms")
        return grown, self.stall_s


# presence's answer -> what the kiosk shows until a good answer comes (it always rings then)
PRESENCE = ["gzip_bomb", "deflate_bomb", "big_plain", "big_chunked", "drip_body", "drip_headers", "endless_header",
            "html", "redirect_http", "garbage", "deep_json", "bad_gzip"]


@pytest.fixture(scope="module")
def hostile():
    bomb("gzip"), bomb("deflate")
    with HostileServer() as server:
        yield server


@pytest.mark.parametrize("kind", PRESENCE)
def test_a_hostile_presence_answer_costs_nothing_and_the_next_good_one_rings(qtbot, server, tmp_path, hostile, kind):
    hostile.plan = ["empty"]
    text = config_text(server, tmp_path) + f"presence: {{url: '{hostile.url()}?room={{room}}', interval_s: 3}}\n"
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    try:
        window.family.presence._interval = 1
        qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)  # the figures without the page's load
        answers = []
        window.family.presence.changed.connect(answers.append)
        hostile.plan, hostile.hits, hostile.redirect_hits = [kind, kind, "ok"], 0, 0
        meter = Meter()  # over the two hostile answers only: the ringing screen after them has its own cost
        qtbot.waitUntil(lambda: hostile.hits >= 2 and len(answers) >= 2, timeout=40000)
        grown, _ = meter.stop(f"presence {kind}")
        assert answers == [None, None] and window.window.screen is Screen.HOME  # nobody is known to wait
        assert grown * (1 << 20) < MEMORY_BOUND
        # ... and the good answer after them rings (backoff after two failures: 4 s)
        qtbot.waitUntil(lambda: window.window.screen is Screen.RINGING, timeout=40000)
        assert hostile.redirect_hits == 0  # a redirect is never followed
    finally:
        close_kiosk(window)


@pytest.mark.parametrize("kind", ["gzip_bomb", "big_chunked", "drip_headers"])
def test_a_hostile_webhook_answer_costs_nothing(qtbot, server, tmp_path, hostile, kind, monkeypatch):
    import kiosk.notify

    monkeypatch.setattr(kiosk.notify, "RETRY_DELAYS_S", (0.0,))
    hostile.plan, hostile.hits = [kind], 0
    text = config_text(server, tmp_path) + ("family:\n  contacts:\n"
                                            f"    - {{name: Bernd, webhook: {{url: '{hostile.url('/hook')}'}}}}\n")
    window = make_kiosk(qtbot, config_from_text(text), tmp_path / "kiosk.yaml")
    try:
        qtbot.waitUntil(lambda: window.calls.view.is_ready, timeout=20000)
        meter = Meter()
        incidents = []
        window.family.incident.connect(lambda kind_, detail: incidents.append(detail))
        delivered = []
        window.family.notifier.delivered.connect(delivered.append)
        tap(qtbot, window.window.home.call_button)
        qtbot.waitUntil(lambda: bool(delivered), timeout=30000)
        grown, _ = meter.stop(f"webhook {kind}")
        assert grown * (1 << 20) < MEMORY_BOUND
        # The body of an answer is never read: a 200 is a delivery, whatever follows it; a dripping header is not.
        assert [d.ok for d in delivered[0]] == [kind != "drip_headers"]
        if kind == "drip_headers":
            assert incidents == ["Bernd by webhook: attempt 1: no complete answer within 10 s"]
    finally:
        close_kiosk(window)
