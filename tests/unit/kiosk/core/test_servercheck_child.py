"""The server check in a child process: same findings, V8 never enters the kiosk, and the child has its limits."""

from __future__ import annotations

import subprocess
import sys

from kiosk.core import servercheck_child
from kiosk.core.servercheck import check_server
from kiosk.core.servercheck_child import check_server_in_child


def test_the_child_finds_what_the_check_finds_in_process(server):
    pins = (server.cert_sha256,)
    assert check_server_in_child(server.url, pins, timeout=5.0) == check_server(server.url, pins, timeout=5.0)


def test_the_kiosk_process_never_loads_the_javascript_engine(server):
    script = ("import sys\nfrom kiosk.core.servercheck_child import check_server_in_child\n"
              f"report = check_server_in_child({server.url!r}, ({server.cert_sha256!r},), timeout=5.0)\n"
              "print(report.ok, len(report.findings), 'py_mini_racer' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "12", "False"]


def test_a_child_that_cannot_run_is_a_failed_finding(monkeypatch, server):
    monkeypatch.setattr(servercheck_child.sys, "executable", "/bin/false")
    report = check_server_in_child(server.url, (server.cert_sha256,))
    assert not report.ok
    assert [(f.status, f.check) for f in report.findings] == [("fail", "check")]


def test_the_token_goes_to_the_child_on_stdin_not_on_its_command_line(monkeypatch, server):
    seen: list = []
    real_run = subprocess.run

    def spy(argv, **kwargs):
        seen.append((argv, kwargs.get("input", "")))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(servercheck_child.subprocess, "run", spy)
    check_server_in_child(server.url, (server.cert_sha256,), token="header.payload.signature-secret")
    argv, given = seen[0]
    assert not any("secret" in part for part in argv) and "signature-secret" in given


def test_the_child_caps_its_data_segment(monkeypatch):
    import resource

    seen = []
    monkeypatch.setattr(servercheck_child.resource, "setrlimit", lambda kind, limits: seen.append((kind, limits)))
    monkeypatch.setattr(servercheck_child.sys, "stdin", __import__("io").StringIO(
        '{"server": "http://127.0.0.1:9", "pins": [], "token": null, "presence_url": null, "timeout": 1}'))
    assert servercheck_child.main() == 0
    limit = servercheck_child.CHILD_DATA_LIMIT
    assert seen == [(resource.RLIMIT_DATA, (limit, limit))]
