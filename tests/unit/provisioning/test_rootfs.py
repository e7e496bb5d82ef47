"""provisioning/rootfs.py: the log every build command goes to (secrets masked, a failure with its tail), the recipes
that key the cached roots, the lock, and the binds and tools a build needs (the builds themselves: tests/vm and
tests/system)."""

from __future__ import annotations

import fcntl
import subprocess

import pytest

from provisioning import rootfs
from provisioning.rootfs import (BuildError, Log, base_recipe, locked, machine_recipe, missing_tools, nspawn_cmd,
                                 pip_binds, recipe_key, security_mirror)


def test_the_log_holds_each_command_and_its_output_with_secrets_masked(tmp_path):
    log = Log(tmp_path / "build.log")
    proc = log.run(["sh", "-c", "echo made with Geheim-42; echo warning >&2"], secrets=["Geheim-42"])
    assert proc.returncode == 0 and "Geheim-42" in proc.stdout  # the caller gets it; the log does not
    text = log.path.read_text()
    assert text == "$ sh -c echo made with Geheim-42; echo warning >&2\nmade with ********\nwarning\n"


def test_a_failing_command_raises_with_the_end_of_its_output_and_the_log(tmp_path):
    log = Log(tmp_path / "build.log")
    with pytest.raises(BuildError) as info:
        log.run(["sh", "-c", "for i in $(seq 1 40); do echo line $i; done; exit 3"])
    message = str(info.value)
    assert message.startswith(f"sh -c for i in $(seq 1 40); do echo line $i; done; exit 3 exited with 3 (whole "
                              f"log: {log.path}):\nline 16\n")
    assert message.endswith("line 40") and "line 15\n" not in message
    assert log.run(["sh", "-c", "exit 4"], check=False).returncode == 4  # not checked: no error


def test_phases_are_timed_and_logged_even_when_they_fail(tmp_path, capsys):
    log = Log(tmp_path / "build.log", echo=True)
    with log.phase("debootstrap"):
        pass
    with pytest.raises(RuntimeError), log.phase("apt"):
        raise RuntimeError("mirror down")
    assert set(log.phases) == {"debootstrap", "apt"} and all(t >= 0 for t in log.phases.values())
    lines = log.path.read_text().splitlines()
    assert lines[0] == "=== debootstrap" and lines[2] == "=== apt" and lines[3].startswith("=== apt: ")
    assert capsys.readouterr().out == "  debootstrap …\n  apt …\n"


def test_a_recipe_key_changes_with_anything_that_changes_the_root():
    base = base_recipe(rootfs.DEFAULT_MIRROR)
    assert recipe_key(base) == recipe_key(dict(reversed(list(base.items()))))  # stable, order does not matter
    assert len(recipe_key(base)) == 16
    assert recipe_key(base_recipe("http://mirror.example.org/debian")) != recipe_key(base)
    assert recipe_key({**base, "packages": base["packages"] + ["vim"]}) != recipe_key(base)
    machine = machine_recipe(rootfs.DEFAULT_MIRROR)
    assert machine["base"] == recipe_key(base)  # a new base makes a new machine root too
    assert "linux-image-amd64" in machine["packages"] and "openssh-server" in machine["carried"]


def test_security_updates_come_from_beside_the_mirror_or_from_debian():
    assert security_mirror("http://deb.debian.org/debian/") == "http://deb.debian.org/debian-security"
    assert security_mirror("http://mirror.example.org/debian") == "http://mirror.example.org/debian-security"
    assert security_mirror("http://apt.example.org/") == rootfs.DEBIAN_SECURITY


def test_nspawn_runs_without_machined_or_a_scope():
    assert nspawn_cmd(rootfs.Path("/srv/root"), "--pipe") == [
        "systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--directory=/srv/root", "--pipe"]


def test_pip_in_a_root_gets_the_hosts_cache_and_only_a_ca_that_exists(tmp_path, monkeypatch):
    monkeypatch.delenv("PIP_CERT", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    assert pip_binds(tmp_path / "pip") == ([f"{tmp_path}/pip:/root/.cache/pip"], {})
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    assert pip_binds(tmp_path / "pip")[1] == {}
    ca = tmp_path / "proxy-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("PIP_CERT", str(ca))
    binds, env = pip_binds(tmp_path / "pip")
    assert binds[1] == f"ro:{ca}:{rootfs.HOST_CA_IN_ROOT}" and env == {"PIP_CERT": rootfs.HOST_CA_IN_ROOT}


def test_missing_tools_name_their_debian_packages():
    assert missing_tools({"sh": "dash"}) is None
    assert missing_tools({"sh": "dash", "palim-no-such-tool": "palim-a", "palim-other": "palim-a"}) == (
        "palim-no-such-tool, palim-other not installed (install the Debian packages palim-a)")


def test_a_lock_holds_off_a_second_build_of_the_same_cache(tmp_path):
    path = tmp_path / "cache" / "base.lock"
    with locked(path):
        with open(path) as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(path) as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released afterwards


def test_a_command_that_runs_too_long_is_stopped(tmp_path):
    with pytest.raises(subprocess.TimeoutExpired):
        Log(tmp_path / "build.log").run(["sleep", "5"], timeout=0.2)
