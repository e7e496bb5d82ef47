"""Soak: many call/hang-up cycles in one kiosk process; does the process tree's memory stay put?"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def tree_memory_mib() -> tuple[float, float]:
    """PSS and USS of this process and all its children (QtWebEngine's helpers), in MiB."""
    from bench.measure import memory

    pss, uss, _ = memory(os.getpid())
    return pss, uss


def memory_by_role() -> dict[str, tuple[float, float]]:
    """PSS and USS in MiB per process role (kiosk = Python + Qt + Chromium's browser side, then each helper)."""
    from bench.measure import roles

    return roles(os.getpid())


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
    from kiosk.core.style import Metrics
    from kiosk.controllers.kiosk import Kiosk
    from kiosk.screen import Screen
    from jitsi_standin import StandinServer

    app = QApplication([sys.argv[0]])

    def wait(condition, seconds: float = 30) -> None:
        end = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > end:
                raise SystemExit(f"soak: timed out (screen {kiosk.window.screen})")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            # processEvents() outside exec() leaves deleteLater() undone; the kiosk's event loop would do it.
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)

    with StandinServer() as server, tempfile.TemporaryDirectory() as tmp:
        config = config_from_text(f"server: {server.url}\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\n"
                                  f"resident: Erna Müller\ntls_pins: ['{server.cert_sha256}']\n"
                                  f"health: {{usage_log: '{tmp}/usage.jsonl'}}\n")
        kiosk = Kiosk(Metrics(1280, 800), config, Path(tmp) / "kiosk.yaml")
        kiosk.window.resize(1280, 800)
        kiosk.window.show()
        wait(lambda: kiosk.calls.view.is_ready)
        samples: dict[int, float] = {}  # PSS: the fair share, but it moves when other programs map the same libraries
        unique: dict[int, float] = {}  # USS: this tree's own pages only
        by_role: dict[int, dict[str, tuple[float, float]]] = {}  # where it goes, to find what grows
        started = time.monotonic()
        for cycle in range(1, args.cycles + 1):
            kiosk.calls.feed(CallTapped())
            wait(lambda: kiosk.window.screen is Screen.IN_CALL)
            kiosk.calls.feed(HangupTapped())
            wait(lambda: kiosk.window.screen is Screen.HOME)
            if cycle == 1 or cycle % args.baseline_after == 0:
                server.clear()  # the stand-in's own record of reports is not the kiosk's memory
                # Idle at home as between real calls, sampling: garbage collection and the allocators give memory
                # back in waves, so the floor of the samples is what a leak would raise.
                readings = []
                for _ in range(4):
                    settle_until = time.monotonic() + 0.5
                    wait(lambda: time.monotonic() > settle_until)
                    readings.append(tree_memory_mib())
                pss, uss = min(r[0] for r in readings), min(r[1] for r in readings)
                samples[cycle] = round(pss, 1)
                by_role[cycle] = memory_by_role()
                unique[cycle] = round(uss, 1)
        elapsed = time.monotonic() - started
        calls = kiosk.health.figures.calls_total
        kiosk.shutdown()
        kiosk.window.close()
        kiosk.window.deleteLater()
        kiosk.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    # One sample swings by tens of MiB as V8 and PartitionAlloc give memory back in waves; a leak raises the level
    # itself. So compare the median of the first three samples from cycle `baseline_after` on with the last three.
    def level(series: dict[int, float], first: bool) -> float:
        cycles = sorted(c for c in series if c >= args.baseline_after)
        picked = cycles[:3] if first else cycles[-3:]
        return statistics.median(series[c] for c in picked)

    result = {"cycles": args.cycles, "calls_recorded": calls, "seconds": round(elapsed, 1),
              "pss_mib": samples, "uss_mib": unique, "by_role": by_role,
              "growth": round(level(samples, False) / level(samples, True) - 1, 4),
              "uss_growth": round(level(unique, False) / level(unique, True) - 1, 4)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.cycles} call/hang-up cycles in {elapsed:.0f} s; tree PSS MiB by cycle: {samples}; "
              f"USS: {unique}; growth (median of the last three samples against the first three from cycle "
              f"{args.baseline_after}): PSS {result['growth']:+.1%}, "
              f"USS {result['uss_growth']:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
