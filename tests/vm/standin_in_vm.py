"""Run inside the test VM (test-only): the Jitsi stand-in on the VM's own 127.0.0.1:8443, reporting every join.

Its lines reach the VM's serial console through the journal (a test-only journald drop-in), where the test reads
them. The certificate is the one the test made on the host, so the device list's tls_pins fit.
"""

import signal
import sys
import time

from jitsi_standin.server import StandinServer

server = StandinServer(port=8443, cert_dir=sys.argv[1])
server.start()
print(f"palim-vm-standin: listening on {server.url} pin {server.cert_sha256}", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
seen = 0
while True:
    joins = server.join_attempts
    for room, refusal in joins[seen:]:
        print(f"palim-vm-standin: join of {room} {'refused' if refusal else 'let in'}", flush=True)
    seen = len(joins)
    time.sleep(1)
