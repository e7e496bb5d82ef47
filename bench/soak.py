"""Soak: many call/hang-up cycles in one kiosk process; does the process tree's memory stay put?"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def tree_pss_mib() -> float:
    """PSS of this process and all its children (QtWebEngine's helpers), in MiB."""
    import psutil

    total = 0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            total += process.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--baseline-after", type=int, default=10, help="take the baseline after this many cycles")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    if os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--use-fake-device-for-media-stream" not in flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --use-fake-device-for-media-stream").strip()
    from kiosk.chromium import add_chromium_switches
    from kiosk.web import scheme

    add_chromium_switches(os.environ)  # the switches the real kiosk runs with
    scheme.register()
    from PyQt6.QtCore import QCoreApplication, QEvent, QEventLoop
    from PyQt6.QtWidgets import QApplication

    from kiosk.callflow import CallTapped, HangupTapped
    from kiosk.config import config_from_text
    from kiosk.ui.style import Metrics
    from kiosk.ui.window import KioskWindow
    from tests.jitsi_standin.server import StandinServer

    app = QApplication([sys.argv[0]])

    def wait(condition, seconds: float = 30) -> None:
        end = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > end:
                raise SystemExit(f"soak: timed out (screen {window.screen_name})")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

    with StandinServer() as server, tempfile.TemporaryDirectory() as tmp:
        config = config_from_text(f"server: {server.url}\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\n"
                                  f"resident: Erna Müller\ntls_pins: ['{server.cert_sha256}']\n"
                                  f"health: {{usage_log: '{tmp}/usage.jsonl'}}\n")
        window = KioskWindow(Metrics(1280, 800), config, Path(tmp) / "kiosk.yaml")
        window.resize(1280, 800)
        window.show()
        wait(lambda: window.call_view.is_ready)
        samples = {}
        started = time.monotonic()
        for cycle in range(1, args.cycles + 1):
            window.feed(CallTapped())
            wait(lambda: window.screen_name == "in_call")
            window.feed(HangupTapped())
            wait(lambda: window.screen_name == "home")
            if cycle in (1, args.baseline_after, args.cycles) or cycle % 50 == 0:
                server.clear()  # the stand-in's own record of reports is not the kiosk's memory
                samples[cycle] = round(tree_pss_mib(), 1)
        elapsed = time.monotonic() - started
        calls = window.health.calls_total
        window.shutdown()
        window.close()
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    baseline, final = samples[args.baseline_after], samples[args.cycles]
    result = {"cycles": args.cycles, "calls_recorded": calls, "seconds": round(elapsed, 1),
              "pss_mib": samples, "growth": round(final / baseline - 1, 4)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.cycles} call/hang-up cycles in {elapsed:.0f} s; tree PSS MiB by cycle: {samples}; "
              f"growth after cycle {args.baseline_after}: {result['growth']:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
