"""palim-provision release for real: dpkg-deb builds, reprepro publishes, gpg signs, and apt (a real apt-get update
into a throw-away state folder) takes the repository only when the city's key signed it.

The lock here is empty (--skip-dependency-check): the packages hold the kiosk's own wheel only, so that the test
builds in seconds; a real release's lock adds PyQt6-WebEngine and the rest, installed the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from provisioning.cli import main
from provisioning.release import RELEASES, ReleaseError, build, promote, publish
from tests.requirements import need_tool

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)


def _key(home: Path, name: str) -> tuple[Path, Path]:
    """A fresh ed25519 signing key: (secret key file, public key file)."""
    home.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"{name} <it@{name}.invalid>",
                    "ed25519", "sign", "never"], env=env, check=True, capture_output=True)
    secret, public = home.parent / f"{name}.key", home.parent / f"{name}.pub"
    secret.write_bytes(subprocess.run(["gpg", "--batch", "--export-secret-keys"], env=env, check=True,
                                      capture_output=True).stdout)
    public.write_bytes(subprocess.run(["gpg", "--batch", "--export"], env=env, check=True,
                                      capture_output=True).stdout)
    return secret, public


@pytest.fixture(scope="module")
def tools() -> None:
    for tool, package in (("dpkg-deb", "dpkg"), ("reprepro", "reprepro"), ("gpg", "gpg"), ("apt-get", "apt")):
        need_tool(tool, apt=package)


@pytest.fixture(scope="module")
def keys(tmp_path_factory, tools):
    base = tmp_path_factory.mktemp("keys")
    yield {name: _key(base / f"gnupg-{name}", name) for name in ("city", "stranger")}
    for name in ("city", "stranger"):  # the agents gpg started for the test's keyrings
        subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=str(base / f"gnupg-{name}")))


@pytest.fixture(scope="module")
def lock(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lock") / "kiosk.lock"
    path.write_text("# the kiosk's wheel only (see the module's docstring)\n")
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, tools) -> Path:
    """One kiosk wheel for every release here: the releases differ in their packages' versions only."""
    from provisioning.release import kiosk_wheel

    return kiosk_wheel(ROOT, tmp_path_factory.mktemp("wheel"), 1764547200)


def _build(version: str, out: Path, lock: Path, wheel: Path):
    return build(version, lock, out, ROOT, wheel, check_dependencies=False)


def _apt_update(tmp: Path, public: Path, key: Path, suite: str = "first", command: tuple = ("apt-get", "update")
                ) -> subprocess.CompletedProcess:
    """apt-get update of one source, as a device does it (signed-by the given key), in its own state folders."""
    for folder in ("lists/partial", "cache/archives/partial", "etc/preferences.d", "etc/apt.conf.d", "log"):
        (tmp / folder).mkdir(parents=True, exist_ok=True)
    (tmp / "status").touch()
    (tmp / "sources.list").write_text(f"deb [signed-by={key}] file:{public} {suite} main\n")
    options = {"Dir::State::Lists": tmp / "lists", "Dir::State::status": tmp / "status", "Dir::Cache": tmp / "cache",
               "Dir::Etc::sourcelist": tmp / "sources.list", "Dir::Etc::sourceparts": "-",
               "Dir::Etc::preferencesparts": tmp / "etc/preferences.d", "Dir::Log": tmp / "log",
               "APT::Sandbox::User": "root", "Debug::NoLocking": "1"}
    cmd = [*command, *(arg for k, v in options.items() for arg in ("-o", f"{k}={v}"))]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_the_same_source_builds_the_same_packages(tmp_path, lock, wheel) -> None:
    first, second = _build("1.2", tmp_path / "a", lock, wheel), _build("1.2", tmp_path / "b", lock, wheel)
    for one, other in ((first.release_deb, second.release_deb), (first.meta_deb, second.meta_deb)):
        assert hashlib.sha256(one.read_bytes()).hexdigest() == hashlib.sha256(other.read_bytes()).hexdigest()
    listing = subprocess.run(["dpkg-deb", "--contents", str(first.release_deb)], capture_output=True, text=True,
                             check=True).stdout
    assert f".{RELEASES}/1.2/bin/palim-kiosk" in listing
    assert "__pycache__" not in listing and "direct_url.json" not in listing
    script = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(first.release_deb)], capture_output=True,
                            check=True).stdout
    assert str(tmp_path).encode() not in script and b"/tmp/palim-release-" not in script  # no build path left
    assert f"#!{RELEASES}/1.2/bin/python".encode() in script
    fields = subprocess.run(["dpkg-deb", "--field", str(first.meta_deb)], capture_output=True, text=True,
                            check=True).stdout
    assert "Package: palim-kiosk\n" in fields and "Depends: palim-kiosk-1.2 (= 1.2)" in fields


def test_apt_takes_the_city_signed_repository_and_refuses_others(tmp_path, keys, lock, wheel) -> None:
    repo = tmp_path / "repo"
    public = publish(_build("1", tmp_path / "out", lock, wheel), repo, keys["city"][0], NOW)
    city_pub, stranger_pub = keys["city"][1], keys["stranger"][1]

    ok = _apt_update(tmp_path / "device", public, city_pub)
    assert ok.returncode == 0 and "W:" not in ok.stderr and "E:" not in ok.stderr, ok.stderr
    shown = _apt_update(tmp_path / "device", public, city_pub, command=("apt-cache", "show", "palim-kiosk"))
    assert "Version: 1\n" in shown.stdout and "Depends: palim-kiosk-1 (= 1)" in shown.stdout, shown.stderr

    # Signed, but not by the city: the device's signed-by key does not match.
    foreign = _apt_update(tmp_path / "device-foreign", public, stranger_pub)
    assert "NO_PUBKEY" in foreign.stderr or "not signed" in foreign.stderr, foreign.stderr
    assert not list((tmp_path / "device-foreign" / "lists").glob("*_Packages*"))

    # A bad signature: the signed index changed after signing.
    in_release = public / "dists" / "first" / "InRelease"
    in_release.write_text(in_release.read_text().replace("Palim Kiosk", "Palim Kiosc"))
    (public / "dists" / "first" / "Release.gpg").unlink()
    bad = _apt_update(tmp_path / "device-bad", public, city_pub)
    assert "BADSIG" in bad.stderr or "not valid" in bad.stderr or "invalid" in bad.stderr, bad.stderr
    assert not list((tmp_path / "device-bad" / "lists").glob("*_Packages*"))


def _agents_of_publishing() -> list[str]:
    """Command lines of gpg-agents still running for a publishing keyring (palim-publish-*), of any run."""
    found = subprocess.run(["pgrep", "-af", "gpg-agent"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in found if "palim-publish-" in line]


def test_publishing_leaves_no_agent_holding_the_city_key(tmp_path, keys, lock, wheel) -> None:
    before = _agents_of_publishing()
    publish(_build("1", tmp_path / "out", lock, wheel), tmp_path / "repo", keys["city"][0], NOW)
    # gpg starts an agent for the throw-away keyring when it imports the secret key and signs; left running, it
    # would keep the city's secret key in the admin's memory after the keyring's folder is gone.
    assert _agents_of_publishing() == before


def test_a_package_signed_by_another_key_is_refused_by_the_city_device(tmp_path, keys, lock, wheel) -> None:
    """A whole repository made with someone else's key (a mirror taken over) never reaches a city device."""
    public = publish(_build("7", tmp_path / "out", lock, wheel), tmp_path / "repo", keys["stranger"][0], NOW)
    result = _apt_update(tmp_path / "device", public, keys["city"][1])
    assert "NO_PUBKEY" in result.stderr or "not signed" in result.stderr, result.stderr


def test_no_downgrade_and_rings(tmp_path, keys, lock, wheel) -> None:
    repo = tmp_path / "repo"
    publish(_build("2", tmp_path / "out2", lock, wheel), repo, keys["city"][0], NOW)
    with pytest.raises(ReleaseError, match="not newer than 2"):
        publish(_build("1.9", tmp_path / "out19", lock, wheel), repo, keys["city"][0], NOW)
    with pytest.raises(ReleaseError, match="not newer than 2"):
        publish(_build("2", tmp_path / "out2b", lock, wheel), repo, keys["city"][0], NOW)
    publish(_build("3", tmp_path / "out3", lock, wheel), repo, keys["city"][0], NOW + dt.timedelta(days=1))

    with pytest.raises(ReleaseError, match="fewer than 7"):
        promote("2", repo, keys["city"][0], 7, NOW + dt.timedelta(days=3))
    # 2 reaches 'all' after a week, although 'first' already holds 3.
    promote("2", repo, keys["city"][0], 7, NOW + dt.timedelta(days=8))
    all_ring = _apt_update(tmp_path / "device-all", repo / "public", keys["city"][1], "all")
    assert all_ring.returncode == 0, all_ring.stderr
    shown = _apt_update(tmp_path / "device-all", repo / "public", keys["city"][1], "all",
                        ("apt-cache", "show", "palim-kiosk"))
    assert "Version: 2\n" in shown.stdout and "Version: 3" not in shown.stdout, shown.stderr
    first = (repo / "public" / "dists" / "first" / "main" / "binary-amd64" / "Packages").read_text()
    assert "Package: palim-kiosk-3\n" in first


def test_cli_says_what_is_wrong(tmp_path, keys, lock, capsys) -> None:
    assert main(["release", "--version", "1;rm", "--lock", str(lock), "--key-file", str(keys["city"][0]),
                 "--out", str(tmp_path / "repo")]) == 2
    assert "digits and dots" in capsys.readouterr().err
    assert main(["release", "--version", "1", "--key-file", str(keys["city"][0]), "--out", str(tmp_path)]) == 2
    assert "needs --lock" in capsys.readouterr().err
    assert main(["release", "--promote", "5", "--key-file", str(keys["city"][0]), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "not on the first ring" in err and "Traceback" not in err
