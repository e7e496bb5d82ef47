"""systemd's notify protocol: one datagram per message, no dependency needed."""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(message: str) -> bool:
    """Send READY=1, WATCHDOG=1, STATUS=… to $NOTIFY_SOCKET; False when not under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("could not notify systemd: %s", exc)
        return False
    return True


def watchdog_interval_ms() -> int:
    """Half the watchdog timeout systemd set for us, in ms; 0 when there is none."""
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", "0"))
        pid = int(os.environ.get("WATCHDOG_PID", str(os.getpid())))
    except ValueError:
        return 0
    # Under cage systemd's main process (WATCHDOG_PID) is cage, the kiosk's parent; the pings are still meant for us.
    if usec <= 0 or pid not in (os.getpid(), os.getppid()):
        return 0
    return max(100, usec // 2000)


def start_watchdog():
    """Ping systemd's watchdog from the GUI thread at half its interval; None when systemd set none."""
    interval = watchdog_interval_ms()
    if not interval:
        return None
    from PyQt6.QtCore import QTimer

    # On purpose in the GUI thread: a frozen event loop stops the pings and systemd restarts the kiosk.
    timer = QTimer(interval=interval)
    timer.timeout.connect(lambda: notify("WATCHDOG=1"))
    timer.start()
    return timer
