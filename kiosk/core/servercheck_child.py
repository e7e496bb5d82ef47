"""The server check in a child process: the JavaScript engine runs the server's scripts there, never in the kiosk.

The check runs a city's config.js, interface_config.js and external_api.js in V8 (kiosk.core.jsconfig); V8 and what the
scripts allocate go when the child ends, and a script or an engine that goes wrong ends the child, not the kiosk or
palim-provision. Limits: every script has SCRIPT_TIMEOUT_S and a V8 heap limit (jsconfig), the child's data segment
is capped at CHILD_DATA_LIMIT (V8 itself reserves about 560 MiB of it when it starts, without using it), and the
whole child has a wall-clock timeout. The request (with the login token, a secret) goes in on stdin, never on the
command line; the report comes back as JSON on stdout.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

from kiosk.core.servercheck import FAIL, REQUESTS_PER_CHECK, Finding, ServerReport, check_server

# The child's own time on top of the check's network timeouts: starting Python, V8 and running three scripts.
START_ALLOWANCE_S = 30.0
# RLIMIT_DATA of the child: V8 reserves ~560 MiB when it starts; a check of jitsi-meet's real files peaks at ~100 MiB
# resident (docs/jitsi-server.md). Past the limit V8 aborts, and the check reports that it did not finish.
CHILD_DATA_LIMIT = 1 << 30


def check_server_in_child(server: str, pins: tuple[str, ...] = (), *, token: str | None = None,
                          presence_url: str | None = None, timeout: float = 5.0) -> ServerReport:
    """check_server() run by a fresh Python; a child that fails is a failed finding, never an exception."""
    request = {"server": server, "pins": list(pins), "token": token, "presence_url": presence_url, "timeout": timeout}
    try:
        done = subprocess.run([sys.executable, "-m", __name__], input=json.dumps(request), capture_output=True,
                              text=True, timeout=START_ALLOWANCE_S + REQUESTS_PER_CHECK * timeout, check=False)
        data = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        report = ServerReport(server.rstrip("/"))
        report.findings.append(Finding(FAIL, "check", "the check itself did not finish",
                                       "run palim-provision server-check on a computer"))
        return report
    report = ServerReport(data.get("server", server))
    report.findings = [Finding(**finding) for finding in data["findings"]]
    return report


def main() -> int:
    """Read one check request (JSON) from stdin, print its report as JSON."""
    resource.setrlimit(resource.RLIMIT_DATA, (CHILD_DATA_LIMIT, CHILD_DATA_LIMIT))
    request = json.loads(sys.stdin.read())
    report = check_server(request["server"], tuple(request["pins"]), token=request["token"],
                          presence_url=request["presence_url"], timeout=request["timeout"])
    print(json.dumps(report.as_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
