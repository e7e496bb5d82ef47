"""Kiosk releases for real, in the whole-appliance test's Debian 12 root (not booted: apt, dpkg and
unattended-upgrades need no running system): `palim-provision release` publishes into a signed reprepro repository
served on 127.0.0.1 (HTTP, loopback only), `apply` writes the device's source, key, pin and unattended-upgrades
config, apt installs release 1, unattended-upgrade takes release 2 and keeps 1 on disk, the release switch learns of
it from the package; a foreign key, a bad signature and a Debian package slipped into the city's repository are
refused. The packages hold the kiosk's own wheel only (no Qt: --skip-dependency-check), one wheel for every version.

The booted kiosk switching and rolling back: tests/system/test_release_rollback.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from provisioning.apply import apply_bundle
from provisioning.bundle import render_bundle
from provisioning.devicelist import load_file
from provisioning.release import ReleaseError, build, kiosk_wheel, publish
from provisioning.rootfs import in_root
from tests.requirements import need
from tests.system import appliance as ap
from tests.system.test_security_updates import DEVICE_LIST as SECURITY_LIST, Mirror, _deb, _host_problem

pytestmark = pytest.mark.system

# The security update test's device, following the city's repository on the first ring.
DEVICE_LIST = SECURITY_LIST.replace("  server: https://konferenz.example.org\n", "  server: https://konferenz.example.org\n"
                                    "  updates: {repo: 'REPO', key_file: release-key.asc, ring: first}\n")
# Test only: apt in the root reads the city's source alone (the Debian mirror is not this test's business).
ONLY_CITY = ('Dir::Etc::sourcelist "/etc/apt/sources.list.d/palim-kiosk.list";\nDir::Etc::sourceparts "-";\n'
             'Acquire::Languages "none";\n')


def _key(folder: Path, name: str) -> tuple[Path, Path]:
    home = folder / f"gnupg-{name}"
    home.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"{name} <it@{name}.invalid>", "ed25519",
                    "sign", "never"], env=env, check=True, capture_output=True)
    secret, public = folder / f"{name}.key", folder / f"{name}.asc"
    secret.write_bytes(subprocess.run(["gpg", "--batch", "--armor", "--export-secret-keys"], env=env, check=True,
                                      capture_output=True).stdout)
    public.write_bytes(subprocess.run(["gpg", "--batch", "--armor", "--export"], env=env, check=True,
                                      capture_output=True).stdout)
    subprocess.run(["gpgconf", "--kill", "all"], env=env)  # the agent gpg started for this keyring
    return secret, public


def test_releases_reach_the_device_signed_ringed_and_kept():
    problem = _host_problem()
    need(problem is None, f"release test not possible on this host: {problem}")
    with ap.root_run("releases", "releases") as (run, _):
        log, run_dir = run.log, run.dir
        mirror = None
        try:
            city, stranger = _key(run_dir, "city"), _key(run_dir, "stranger")
            repo = run_dir / "repo"
            wheel = kiosk_wheel(ap.REPO, run_dir / "wheel", 1764547200)
            lock = run_dir / "kiosk.lock"
            lock.write_text("# the kiosk's own wheel only\n")

            def release(version: str, key: Path = city[0]) -> None:
                built = build(version, lock, run_dir / f"out-{version}", ap.REPO, wheel, check_dependencies=False)
                publish(built, repo, key, dt.datetime.now(dt.timezone.utc))

            with log.phase("release 1"):
                release("1")
            size = sum(p.stat().st_size for p in (run_dir / "out-1").glob("*.deb"))
            mirror = Mirror(repo / "public")

            # The device, as apply makes it (files; its apt step is run below as the step would run it).
            (run_dir / "release-key.asc").write_bytes(city[1].read_bytes())
            (run_dir / "devices.yaml").write_text(DEVICE_LIST.replace("REPO", mirror.url))
            target = load_file(run_dir / "devices.yaml").targets[0]
            bundle = render_bundle(target, None)
            apply_bundle(bundle, run.root)
            run.path("/etc/apt/apt.conf.d/99palim-test-only-city").write_text(ONLY_CITY)
            apt_step = next(s for s in bundle.steps if "city's repository" in s.title)
            with log.phase("apply's apt step: release 1"):
                for command in apt_step.commands:
                    in_root(log, run.root, list(command), env=dict(apt_step.env), timeout=600)
            assert run.path("/opt/palim-kiosk/releases/1/bin/palim-kiosk").is_file()
            assert os.readlink(run.path("/opt/palim-kiosk/current")) == "releases/1"
            state = json.loads(run.path("/var/lib/palim-kiosk-release/state.json").read_text())
            assert (state["current"], state["good"]) == ("1", "1")
            # The release's own Python runs the kiosk's code (Debian's python3 under its venv).
            out = in_root(log, run.root, ["/opt/palim-kiosk/current/bin/python", "-c",
                                          "import kiosk.releaseswitch as r, sys; print(r.running_release(sys.prefix))"])
            assert out.stdout.strip() == "1"

            # Release 2 on the first ring: unattended-upgrades takes it, next to 1.
            published_at = time.monotonic()
            with log.phase("release 2"):
                release("2")
            with log.phase("unattended-upgrade: release 2"):
                in_root(log, run.root, ["apt-get", "update", "-q"], timeout=300)
                result = in_root(log, run.root, ["unattended-upgrade", "-d"], timeout=600)
            taken_s = time.monotonic() - published_at
            output = result.stdout + result.stderr
            assert "origin=Palim,codename=first" in output, output[-3000:]
            versions = in_root(log, run.root, ["dpkg-query", "-W", "-f=${Package} ${Version}\n", "palim-kiosk*"]).stdout
            assert {"palim-kiosk 2", "palim-kiosk-1 1", "palim-kiosk-2 2"} <= set(versions.splitlines()), versions
            assert run.path("/opt/palim-kiosk/releases/1/bin/palim-kiosk").is_file()  # kept for a rollback
            state = json.loads(run.path("/var/lib/palim-kiosk-release/state.json").read_text())
            assert (state["current"], state["candidate"]) == ("1", "2")  # waits for the kiosk's quiet moment

            # Refused: an older version; a repository signed by another key; a Debian package from the city's repository.
            with pytest.raises(ReleaseError, match="not newer than 2"):
                release("1.5")
            # The pin: palim-kiosk from the city's repository at 500, anything else from it never (-1): a Debian package
            # (here a newer sensible-utils, signed by the city's key) slipped into the repository is not a candidate.
            policy = in_root(log, run.root, ["apt-cache", "policy", "palim-kiosk"]).stdout
            assert "Candidate: 2" in policy and " *** 2 500" in policy, policy
            home = run_dir / "gnupg-publish"
            home.mkdir(mode=0o700)
            subprocess.run(["gpg", "--batch", "--import", str(city[0])], env=dict(os.environ, GNUPGHOME=str(home)),
                           check=True, capture_output=True)
            (run_dir / "intruder").mkdir()
            intruder = _deb(log, run_dir / "intruder", "sensible-utils", "99")
            log.run(["reprepro", "-b", str(repo), "includedeb", "first", str(intruder)],
                    env=dict(os.environ, GNUPGHOME=str(home)))
            subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=str(home)))
            in_root(log, run.root, ["apt-get", "update", "-q"], timeout=300)
            policy = in_root(log, run.root, ["apt-cache", "policy", "sensible-utils"]).stdout
            assert " 99 -1\n" in policy and "Candidate: 99" not in policy, policy
            foreign_repo = run_dir / "foreign"
            built = build("9", lock, run_dir / "out-9", ap.REPO, wheel, check_dependencies=False)
            publish(built, foreign_repo, stranger[0], dt.datetime.now(dt.timezone.utc))
            (repo / "public" / "dists" / "first").rename(repo / "public" / "dists" / "first.city")
            (foreign_repo / "public" / "dists" / "first").rename(repo / "public" / "dists" / "first")
            refused = in_root(log, run.root, ["apt-get", "update", "-q"], timeout=300)
            assert "NO_PUBKEY" in refused.stdout + refused.stderr or "not signed" in refused.stdout + refused.stderr
            assert "Version: 9" not in in_root(log, run.root, ["apt-cache", "show", "palim-kiosk"]).stdout
            ap.REPORT.append(f"releases: packages of release 1 {size / 1e6:.2f} MB (the kiosk's wheel only, no Qt); "
                             f"publish -> installed on the first ring {taken_s:.0f} s (apt-get update and "
                             f"unattended-upgrade run at once here, the timers' wait left out)")
        finally:
            if mirror is not None:
                mirror.stop()
