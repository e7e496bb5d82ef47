"""A release proves itself on the booted appliance, or the device goes back by itself.

The whole-appliance container (tests/system/appliance.py) follows the city's repository, served over HTTP on the
device's own 127.0.0.1 (its network namespace, the stand-in's): release 1 is installed by apply; release 2 is taken
by unattended-upgrade and runs after the kiosk's next idle minute; release 3 cannot start (its lock lacks Qt, as a
broken release would) and the device is back on 2 by itself, 3 held, the incident recorded; release 4 is taken.
Releases 1, 2 and 4 hold the real kiosk with its Qt wheels (uncompressed packages, to build fast); the settle time
is shortened to 60 s by a test-only drop-in.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provisioning.release import build, publish
from tests.requirements import need
from tests.system import appliance as ap
from tests.system.test_releases import ONLY_CITY, _key

pytestmark = pytest.mark.system

SETTLE_DROPIN = "# palim system test only: a release is good after 60 s, not 10 minutes.\n[Service]\n" \
                "Environment=PALIM_RELEASE_SETTLE_S=60\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(folder: Path, port: int, log_file: Path, netns: str | None = None) -> subprocess.Popen:
    """python3 -m http.server on 127.0.0.1:port, in the device's network namespace when `netns` is given."""
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(folder), str(port)]
    if netns:
        argv = ["nsenter", f"--net={netns}", "--", *argv]
    proc = subprocess.Popen(argv, stdout=open(log_file, "a"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    time.sleep(1)
    return proc


def _lock(work: Path, wheel: Path) -> Path:
    """Every dependency of the kiosk's wheel pinned with its sha256, from pip's own resolver report."""
    report = work / "pip-report.json"
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                    "--report", str(report), str(wheel)], check=True, capture_output=True,
                   env=dict(os.environ, PIP_CACHE_DIR=str(ap.CACHE / "pip")))
    lines = []
    for item in json.loads(report.read_text())["install"]:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if name != "palim-kiosk":
            digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
            lines.append(f"{name}=={version} --hash=sha256:{digest}")
    lock = work / "kiosk.lock"
    lock.write_text("\n".join(lines) + "\n")
    return lock


def _status(booted: ap.Booted) -> dict:
    return json.loads(booted.sh(["/usr/local/sbin/palim-kiosk-release", "status"]).stdout or "{}")


def _wait(what: str, check, timeout: float, booted: ap.Booted):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(2)
    journal = booted.sh(["journalctl", "--no-pager", "-b", "-n", "120"], timeout=30).stdout
    raise AssertionError(f"{what}: not within {timeout} s; state {_status(booted)}; journal:\n{journal}")


def _home_shown_after(booted: ap.Booted, since: float) -> float | None:
    """The monotonic time of the first 'home screen shown' after `since`, None before there is one."""
    journal = booted.sh(["journalctl", "--no-pager", "-b", "-o", "json", "-u", ap.UNIT,
                         "--output-fields=MESSAGE,__MONOTONIC_TIMESTAMP"], timeout=15).stdout
    for entry in map(json.loads, journal.splitlines()):
        at = int(entry["__MONOTONIC_TIMESTAMP"]) / 1e6
        if at > since and "home screen shown" in str(entry.get("MESSAGE")):
            return at
    return None


def test_a_release_proves_itself_or_the_device_goes_back():
    problem = ap.host_problem()
    need(problem is None, f"release rollback test not possible on this host: {problem}")
    with ap.root_run("rollback", "release rollback") as (run, _):
        log, work = run.log, run.dir
        standin = ap.start_standin(work)
        servers: list[subprocess.Popen] = []
        booted = None
        try:
            city_key, city_pub = _key(work, "city")
            wheel = ap.build_wheel(run)
            lock = _lock(work, wheel)
            broken = work / "broken.lock"
            broken.write_text("# the kiosk's wheel without its dependencies: it cannot start\n")
            repo = work / "repo"
            os.environ.setdefault("PIP_CACHE_DIR", str(ap.CACHE / "pip"))

            def release(version: str, working: bool = True) -> None:
                with log.phase(f"release {version}"):
                    built = build(version, lock if working else broken, work / f"out-{version}", ap.REPO, wheel,
                                  check_dependencies=working, compression="none")
                    publish(built, repo, city_key, dt.datetime.now(dt.timezone.utc))

            release("1")
            port = _free_port()
            servers.append(_serve(repo / "public", port, work / "repo-host.log"))
            # Provision as the appliance test does, the device list following the city's repository.
            devices = ap.device_list_for_standin(standin.pin).replace(
                f"  server: {ap.STANDIN_URL}\n", f"  server: {ap.STANDIN_URL}\n  updates: {{repo: "
                f"'http://127.0.0.1:{port}', key_file: release-key.asc, ring: first}}\n", 1)
            run.path("/root/release-key.asc").write_bytes(city_pub.read_bytes())
            with log.phase("provision"):
                ap.provision(run, standin.pin, devices, wheel)
            assert os.readlink(run.path("/opt/palim-kiosk/current")) == "releases/1"
            ap.add_test_dropins(run, ap.unprivileged_userns_works(run.root, log))
            run.path(f"/etc/systemd/system/{ap.UNIT}.d/zz-system-test-settle.conf").write_text(SETTLE_DROPIN)
            # The booted device reaches nothing but its own 127.0.0.1: apt reads the city's source alone.
            run.path("/etc/apt/apt.conf.d/99palim-test-only-city").write_text(ONLY_CITY)
            servers[0].terminate()
            with log.phase("boot to home"):
                booted = ap.boot(run, standin)
                servers.append(_serve(repo / "public", port, work / "repo-device.log", standin.netns))
                _wait("home screen of release 1", lambda: _home_shown_after(booted, 0), 300, booted)

            def take(version: str) -> None:
                """apt-get update and unattended-upgrade, as the daily timers run them (here at once)."""
                booted.sh(["apt-get", "update", "-q"], timeout=300)
                booted.sh(["unattended-upgrade", "-d"], timeout=900)
                assert f"palim-kiosk-{version}" in booted.sh(["dpkg-query", "-W", "palim-kiosk-*"]).stdout

            # 2: taken at the next idle minute, good after the settle time.
            published = time.monotonic()
            release("2")
            take("2")
            assert _status(booted)["candidate"] == "2"
            _wait("release 2 running", lambda: _status(booted).get("current") == "2", 180, booted)
            switched = time.monotonic()
            running = _wait("home screen of release 2", lambda: _home_shown_after(booted, switched - 5), 300, booted)
            first_ring_s = running - published
            _wait("release 2 good", lambda: _status(booted).get("good") == "2", 200, booted)

            # 3: cannot start; back on 2 by itself, 3 held, the incident recorded.
            release("3", working=False)
            take("3")
            _wait("release 3 tried", lambda: _status(booted).get("trying") or _status(booted).get("held"), 180,
                  booted)
            state = _wait("rolled back to 2", lambda: (s := _status(booted)).get("held") == ["3"] and s, 300, booted)
            assert state["current"] == "2" and state["rollbacks_total"] == 1
            assert state["incidents"][-1]["version"] == "3" and state["incidents"][-1]["back_to"] == "2"
            # The resident's dark time: from the kiosk quitting for release 3 to release 2's home screen again.
            journal = booted.sh(["journalctl", "--no-pager", "-b", "-o", "json", "-u", ap.UNIT,
                                 "--output-fields=MESSAGE,__MONOTONIC_TIMESTAMP"], timeout=15).stdout
            quit_at = max(int(e["__MONOTONIC_TIMESTAMP"]) / 1e6 for e in map(json.loads, journal.splitlines())
                          if "release 3 waits" in str(e.get("MESSAGE")))
            back = _wait("home screen of release 2 again", lambda: _home_shown_after(booted, quit_at), 300, booted)
            dark_s = back - quit_at
            assert dark_s < 300

            # 4: taken.
            release("4")
            take("4")
            _wait("release 4 running", lambda: _status(booted).get("current") == "4", 180, booted)
            switched = time.monotonic()
            _wait("home screen of release 4", lambda: _home_shown_after(booted, switched - 5), 300, booted)
            assert _status(booted)["held"] == ["3"]
            size = sum(p.stat().st_size for p in (work / "out-1").glob("*.deb"))
            ap.REPORT.append(f"release rollback: publish -> first ring running release 2 {first_ring_s:.0f} s "
                             f"(timers run at once); dark time during the rollback of 3: {dark_s:.0f} s; "
                             f"uncompressed packages of release 1 {size / 1e6:.0f} MB")
        finally:
            for server in servers:
                server.terminate()
            if booted is not None:
                ap.poweroff(booted)
            standin.stop()
