"""Demo: the kiosk in a window, talking to a loopback stand-in for the city's Jitsi server."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jitsi_standin import StandinServer  # noqa: E402

DEMO_ROOM = "palim-7q2m4k9x3c8v5b1n6z0r4t7w2y"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=ROOT / "demo-run", help="where the demo keeps its config and cert")
    parser.add_argument("--size", default="1280x800", help="window size (default 1280x800)")
    parser.add_argument("--pin", default="2468", help="staff PIN of the demo (five taps top-left)")
    parser.add_argument("--family-after", type=float, default=20.0, metavar="S",
                        help="seconds after each join before the stand-in's family Anna arrives (default 20; 0: "
                             "never, the kiosk waits alone and goes home after family.wait_minutes)")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        print("demo: no screen found (DISPLAY / WAYLAND_DISPLAY): run it on a desktop, or under xvfb-run",
              file=sys.stderr)
        return 2

    from kiosk.staff import hash_pin

    env = dict(os.environ)
    flags = env.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    for flag in ("--use-fake-device-for-media-stream", "--log-level=3"):
        if flag not in flags:
            flags.append(flag)  # a fake camera picture, so the demo works on any machine
    env["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(flags)
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"  # Chromium cannot sandbox itself as root; devices run as 'kiosk'

    with StandinServer(cert_dir=args.dir) as server:
        config = args.dir / "kiosk.yaml"
        config.write_text(
            "# Written by scripts/demo: the kiosk against the loopback stand-in (not a real Jitsi server).\n"
            f"server: {server.url}\n"
            f"room: {DEMO_ROOM}\n"
            "resident: Erna Müller\n"
            "language: de\n"
            "support_contact: 'Stadtverwaltung Bühl IT, 07223 935-000'\n"
            f"tls_pins: ['{server.cert_sha256}']\n"
            f"admin_pin_hash: '{hash_pin(args.pin, force=True)}'\n"
            f"health: {{usage_log: '{args.dir / 'usage.jsonl'}'}}\n"
            # A contact, so the waiting panel says whom it told; the notice goes nowhere (a webhook on the stand-in,
            # which has no such path: the kiosk logs that it could not be delivered).
            f"family: {{contacts: [{{name: Anna, relation: Tochter, webhook: {{url: '{server.url}/_demo/notice'}}}}]}}\n",
            encoding="utf-8")
        print(f"demo: Jitsi STAND-IN (a test fake, not a real Jitsi server) on {server.url}")
        print(f"demo: kiosk config {config}")
        print(f"demo: tap 'Familie anrufen'; staff exit: five taps in the top-left corner, PIN {args.pin}")
        kiosk = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(config), "--windowed",
                                  "--size", args.size], cwd=ROOT, env=env)
        if args.family_after > 0:
            print(f"demo: after each join the room is empty for {args.family_after:g} s (the kiosk says whom it told),"
                  " then Anna arrives")
            threading.Thread(target=family_arrives, args=(server, args.family_after, kiosk), daemon=True).start()
        # Ctrl-C or SIGTERM ends the kiosk cleanly first, then the stand-in.
        signal.signal(signal.SIGTERM, lambda *_: kiosk.terminate())
        try:
            code = kiosk.wait()
        except KeyboardInterrupt:
            kiosk.terminate()
            code = kiosk.wait()
        print(f"demo: kiosk ended ({code}); stand-in stopped")
        return code


def family_arrives(server: StandinServer, after: float, kiosk: subprocess.Popen) -> None:
    """The stand-in's family: after each join of the kiosk, the room stays empty a while, then Anna comes in."""
    seen = 0
    while kiosk.poll() is None:
        joins = [r for r in server.reports if r.get("type") == "joined"]
        if len(joins) > seen:
            seen = len(joins)
            threading.Event().wait(after)
            server.send(DEMO_ROOM, "participantJoined", {"id": f"anna{seen}", "displayName": "Anna"})
        threading.Event().wait(0.5)


if __name__ == "__main__":
    sys.exit(main())
