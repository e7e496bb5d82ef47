"""Render every kiosk screen to PNG at the sizes of real donated devices (run under Xvfb)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZES = ((1280, 800), (1024, 600))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args()
    if os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
                                                + " --use-fake-device-for-media-stream").strip()
    from kiosk.web import scheme

    scheme.register()
    from PyQt6.QtCore import QCoreApplication, QEvent, QEventLoop
    from PyQt6.QtWidgets import QApplication

    from kiosk.callflow import CallTapped, HangupTapped, Screen, Trouble
    from kiosk.config import config_from_text
    from kiosk.staff import hash_pin
    from kiosk.ui.style import Metrics
    from kiosk.ui.window import KioskWindow
    from tests.jitsi_standin.server import StandinServer

    app = QApplication([sys.argv[0]])
    args.out.mkdir(parents=True, exist_ok=True)

    def settle(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.02)

    def wait(condition, seconds: float = 20) -> None:
        end = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > end:
                raise SystemExit("screenshots: timed out waiting for the kiosk")
            settle(0.05)

    def save(window: KioskWindow, name: str, size: tuple[int, int]) -> None:
        settle(0.3)
        path = args.out / f"{name}-{size[0]}x{size[1]}.png"
        window.grab().save(str(path))
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)

    with StandinServer() as server, tempfile.TemporaryDirectory() as tmp:
        text = (f"server: {server.url}\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\nresident: Erna Müller\n"
                f"tls_pins: ['{server.cert_sha256}']\nadmin_pin_hash: '{hash_pin('2468')}'\n"
                "support_contact: 'Stadtverwaltung Bühl IT, 07223 935-000'\n"
                f"health: {{usage_log: '{tmp}/usage.jsonl'}}\n")
        config = config_from_text(text)
        for size in SIZES:
            window = KioskWindow(Metrics(*size), config, Path("/etc/palim-kiosk/kiosk.yaml"))
            window.resize(*size)
            window.show()
            wait(lambda: window.call_view.is_ready)
            save(window, "home", size)
            window.show_screen(Screen.CONNECTING)
            save(window, "connecting", size)
            window.feed(CallTapped())
            wait(lambda: window.screen_name == "in_call")
            settle(2.5)  # let the fake camera's picture arrive
            save(window, "in-call", size)
            window.feed(HangupTapped())
            wait(lambda: window.screen_name == "home")
            window.show_screen(Screen.ENDING)
            save(window, "ending", size)
            window.show_screen(Screen.TROUBLE, Trouble.CONNECT_FAILED)
            save(window, "error", size)
            window.show_screen(Screen.HOME)
            window._open_pin_pad()
            save(window, "pin", size)
            window._open_service()
            wait(lambda: "prüft" not in window.service.values["Server erreichbar"].text())
            save(window, "service", size)
            window.shutdown()
            window.close()
            window.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            setup = KioskWindow(Metrics(*size), None, Path(tmp) / "kiosk.yaml", "Stadtverwaltung Bühl IT, 07223 935-000")
            setup.resize(*size)
            setup.show()
            save(setup, "setup-needed", size)
            setup.shutdown()
            setup.close()
            setup.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
