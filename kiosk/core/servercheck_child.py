"""The service screen's server check in a child process: its JavaScript parser would stay in the kiosk for good.

esprima's parser tables take about 120 MiB that the kiosk's Python never returns once loaded (measured with
/proc/self/statm, docs/benchmarks.md); in a child process they go when the check ends. The request (with the login
token, a secret) goes in on stdin, never on the command line; the report comes back as JSON on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys

from kiosk.core.servercheck import FAIL, Finding, ServerReport, check_server

# The child's own time on top of the check's network timeouts: starting Python and importing the parser.
START_ALLOWANCE_S = 30.0
# Each server request's timeout; the child's whole check gets a multiple of it (TLS, three scripts, presence).
REQUESTS_PER_CHECK = 6


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
    request = json.loads(sys.stdin.read())
    report = check_server(request["server"], tuple(request["pins"]), token=request["token"],
                          presence_url=request["presence_url"], timeout=request["timeout"])
    print(json.dumps(report.as_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
