"""Start-up: arguments, the environment Chromium needs, and wiring the window together."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from kiosk import __version__
from kiosk.chromium import add_chromium_switches
from kiosk.config import (
    DEFAULT_CONFIG_PATH, ConfigError, KioskConfig, config_file_bytes, load_config, peek_language,
    peek_support_contact,
)

log = logging.getLogger("kiosk")

EPILOG = """\
examples:
  palim-kiosk                                  start fullscreen with /etc/palim-kiosk/kiosk.yaml
  palim-kiosk --config examples/kiosk-real-server.yaml --windowed
  palim-kiosk --hash-pin                       make an admin_pin_hash for the staff exit (6 to 12 digits)
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="palim-kiosk", description="The Palim care-home video call kiosk.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH,
                        help=f"the device's config file (default: {DEFAULT_CONFIG_PATH})")
    parser.add_argument("--windowed", action="store_true", help="a normal window instead of fullscreen (demos)")
    parser.add_argument("--size", default="1280x800", metavar="WxH",
                        help="window size with --windowed (default: 1280x800)")
    parser.add_argument("--hash-pin", action="store_true", help="ask for a staff PIN and print its hash, then exit")
    parser.add_argument("--weak-pin-ok", action="store_true",
                        help="with --hash-pin: accept a short or obvious PIN (demos only; one PIN opens every device)")
    parser.add_argument("--version", action="version", version=f"palim-kiosk {__version__}")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        if not (320 <= width <= 7680 and 240 <= height <= 4320):
            raise ValueError
    except ValueError:
        parser.error(f"--size must look like 1280x800, not {args.size!r}")
    args.width, args.height = width, height
    return args


def hash_pin_interactively(weak_ok: bool = False) -> int:
    """Ask twice for a PIN without echo and print the hash for the config."""
    from kiosk.staff import GOOD_PIN_LENGTH, MAX_PIN_LENGTH, hash_pin, pin_weakness

    try:
        first = getpass.getpass(f"Staff PIN ({GOOD_PIN_LENGTH}-{MAX_PIN_LENGTH} digits, not obvious): ")
        second = getpass.getpass("Same PIN again: ")
    except (EOFError, KeyboardInterrupt):
        print("\nno PIN given", file=sys.stderr)
        return 2
    if first != second:
        print("the two PINs differ; nothing printed", file=sys.stderr)
        return 2
    try:
        line = f"admin_pin_hash: '{hash_pin(first, force=weak_ok)}'"
    except ValueError as exc:
        print(f"{exc}; nothing printed", file=sys.stderr)
        return 2
    if weak_ok and pin_weakness(first):
        print(f"warning: {pin_weakness(first)} (accepted because of --weak-pin-ok)", file=sys.stderr)
    print(line)
    return 0


class JournalFormatter(logging.Formatter):
    """Plain lines with a level; under systemd a <N> syslog prefix, so journald keeps the priority."""

    PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

    def __init__(self, journal: bool):
        super().__init__("%(name)s: %(levelname)s: %(message)s")
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:  # noqa: A003 (logging's name)
        text = super().format(record).replace("\n", " | ")  # one record, one journal line
        return f"<{self.PRIORITIES.get(record.levelno, 6)}>{text}" if self.journal else text


def setup_logging() -> None:
    """Log to stderr: the journal under systemd; never colours, never a file that could fill the disk."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JournalFormatter(journal=bool(os.environ.get("JOURNAL_STREAM"))))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def read_config(path: Path) -> tuple[KioskConfig | None, str | None]:
    """The config, or None and the support contact to show; every problem is logged with its line."""
    try:
        return load_config(path), None
    except ConfigError as exc:
        log.error("the device is not set up: %d problem(s) in %s", len(exc.problems), path)
        for problem in exc.problems:
            log.error("%s", problem)
    except Exception as exc:  # noqa: BLE001 (whatever a file does to the loader, the resident sees "not set up")
        log.error("the device is not set up: %s cannot be read (%s: %s)", path, type(exc).__name__, exc)
    try:
        return None, peek_support_contact(path)
    except Exception:  # noqa: BLE001 (the contact is a nicety; the setup screen shows without it)
        return None, None


def main(argv: list[str] | None = None) -> int:
    """Run the kiosk until staff end it."""
    # Until the window exists a SIGUSR1 (support screenshot) must not kill the kiosk, as its default would.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if args.weak_pin_ok and not args.hash_pin:
        print("palim-kiosk: --weak-pin-ok goes with --hash-pin", file=sys.stderr)
        return 2
    if args.hash_pin:
        return hash_pin_interactively(args.weak_pin_ok)
    if os.geteuid() == 0 and not os.environ.get("QTWEBENGINE_DISABLE_SANDBOX"):
        print("palim-kiosk: refusing to run as root: Chromium's sandbox needs an unprivileged user "
              "(the device runs it as 'kiosk'; tests may set QTWEBENGINE_DISABLE_SANDBOX=1)", file=sys.stderr)
        return 2
    add_chromium_switches(os.environ)

    from kiosk.web import scheme  # Qt is imported only from here on

    scheme.register()
    from PyQt6.QtCore import QCoreApplication, QEvent, QTimer
    from PyQt6.QtWidgets import QApplication

    from kiosk import sdnotify
    from kiosk.controllers.kiosk import Kiosk
    from kiosk.core.files import state_dir
    from kiosk.core.style import Metrics
    from kiosk.volume import VolumeFloor

    app = QApplication([sys.argv[0] or "palim-kiosk"])
    app.setApplicationName("palim-kiosk")
    app.setQuitOnLastWindowClosed(False)
    # SIGTERM from systemd: leave the call cleanly instead of dying mid-call. Queued, not called: app.exit() before
    # app.exec() has begun is lost (a stop while the window opens left the kiosk running until systemd's SIGKILL).
    signal.signal(signal.SIGTERM, lambda *_: QTimer.singleShot(0, lambda: app.exit(0)))
    signal.signal(signal.SIGINT, lambda *_: QTimer.singleShot(0, lambda: app.exit(0)))
    # SIGUSR1: staff (or a test) asks for a picture of what the resident sees, saved in the state directory.
    signal.signal(signal.SIGUSR1, lambda *_: QTimer.singleShot(0, lambda: state["kiosk"].window.save_support_screenshot(
        state_dir())))
    # Qt workaround (no Qt bug, seen on every Qt 6): CPython runs signal handlers only between its own bytecodes, and
    # Qt's C++ event loop runs none; a timer hands control back to Python twice a second (idle cost negligible).
    wake = QTimer(interval=500)
    wake.timeout.connect(lambda: None)
    wake.start()

    state = {"kiosk": None, "volume": None}

    def volume_floor() -> None:
        # Knocked volume keys must not leave the kiosk silent: at start, every minute and right before a ring or a
        # call is heard (a thread: the tools may hang).
        floor = state["volume"]
        if floor is not None:
            threading.Thread(target=floor.enforce, name="volume-floor", daemon=True).start()

    volume_timer = QTimer(interval=60_000)
    volume_timer.timeout.connect(volume_floor)
    volume_timer.start()

    def open_window() -> None:
        loaded = config_file_bytes(args.config)  # before reading: a change while the kiosk starts counts as one
        config, contact = read_config(args.config)
        screen = app.primaryScreen().geometry()
        width, height = (args.width, args.height) if args.windowed else (screen.width(), screen.height())
        dpi = app.primaryScreen().physicalDotsPerInch()  # Metrics falls back to a safe size when it is nonsense
        log.info("screen %dx%d at %.0f dpi (physical, as the screen reports it)", width, height, dpi)
        kiosk = Kiosk(Metrics(width, height, dpi=dpi), config, args.config, contact,
                      language=peek_language(args.config) if config is None else None, loaded=loaded)
        kiosk.home_shown.connect(lambda: sdnotify.notify("READY=1\nSTATUS=home screen shown"))
        kiosk.sound_ahead.connect(volume_floor)
        kiosk.quit_requested.connect(app.exit)
        kiosk.reload_requested.connect(reload)
        window = kiosk.window
        if args.windowed:
            window.resize(width, height)
            window.show()
        else:
            # Qt workaround (no bug filed; seen on Qt 6.8 to 6.11 under cage and bare Xvfb): without a window manager
            # showFullScreen() keeps the window's old size, so set the screen's geometry first.
            window.setGeometry(screen)
            window.showFullScreen()
        if config is None:
            sdnotify.notify("READY=1\nSTATUS=not set up: see the journal")
        state["kiosk"] = kiosk
        state["volume"] = VolumeFloor(config.audio.min_volume) if config is not None else None
        volume_floor()

    def dispose_window() -> None:
        kiosk = state["kiosk"]
        kiosk.shutdown()
        kiosk.window.close()
        kiosk.window.deleteLater()
        kiosk.deleteLater()
        # Qt workaround (no bug filed, seen on Qt 6.8 to 6.11): QtWebEngine warns "Release of profile requested but
        # WebEnginePage still not deleted" and may crash at exit; delete the pages now, before their profile.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)

    def reload() -> None:
        log.info("reloading the config")
        QTimer.singleShot(0, lambda: (dispose_window(), open_window()))  # not from inside the button's own handler

    open_window()
    watchdog = sdnotify.start_watchdog()  # noqa: F841 (kept alive until exit)
    code = app.exec()
    dispose_window()
    log.info("kiosk stopped (exit code %d)", code)
    return code


if __name__ == "__main__":
    sys.exit(main())
