"""Run the Jitsi stand-in in the foreground: python -m jitsi_standin [--port 8443] [--cert-dir DIR]."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from jitsi_standin.server import StandinServer

SECRET_ENV = "JITSI_STANDIN_APP_SECRET"


def main(argv: list[str] | None = None) -> int:
    """Start the stand-in, print how to point a kiosk at it, and serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m jitsi_standin",
        description="Loopback HTTPS stand-in for a Jitsi server (tests and demos only; binds 127.0.0.1).",
    )
    parser.add_argument("--port", type=int, default=8443, help="TCP port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument(
        "--cert-dir", help="keep the self-signed certificate here, so the pin stays the same across runs"
    )
    parser.add_argument("--server-config", choices=("good", "bad"), default="good",
                        help="the config.js and interface_config.js it serves: set up as docs/jitsi-server.md says "
                             "(good) or an old stock setup locked with tokens and no guests (bad)")
    parser.add_argument("--cert-days", type=int, default=90, metavar="N",
                        help="a certificate it makes is valid for N days (below 21: server-check warns)")
    parser.add_argument("--app-id", metavar="ID",
                        help=f"token mode: joins and presence need a token for this app id (iss/aud), signed with "
                             f"the secret in the environment variable {SECRET_ENV}, sub 127.0.0.1 (palim-provision "
                             "tokens makes them)")
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_ENV) if args.app_id else None
    if args.app_id and not secret:
        print(f"--app-id needs the app secret in the environment variable {SECRET_ENV}", file=sys.stderr)
        return 2

    stop = threading.Event()
    # Handlers instead of catching KeyboardInterrupt: a signal can then never land inside the server's code.
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    server = StandinServer(port=args.port, cert_dir=args.cert_dir, server_config=args.server_config,
                           cert_days=args.cert_days, app_id=args.app_id, app_secret=secret)
    try:
        server.start()
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"Jitsi stand-in listening on {server.url}  (IFrame API domain: {server.domain})")
        print(f"tls_pins: {json.dumps([server.cert_sha256])}")
        print(
            "NOTE: this is a loopback stand-in for tests and demos, NOT a real Jitsi server: "
            "nobody else can join; the 'family' tile (your own camera, mirrored) shows while a participant is in the room. Ctrl-C stops it.",
            flush=True,
        )
        if args.app_id:
            print(f"token mode: app id {args.app_id}, sub {server.host}; a join or presence request without a "
                  "valid token for its room is refused", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print("stand-in stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
