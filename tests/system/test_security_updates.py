"""Security updates for real: in the whole-appliance test's Debian 12 root, with the files `palim-provision apply`
writes (its /etc/apt/sources.list and unattended-upgrades config), `unattended-upgrade --dry-run -d` picks a newer
package from bookworm-security, and from bookworm-updates and the point release, and nothing from another origin.

The mirror is a folder this test makes and serves on 127.0.0.1 (HTTP, only loopback traffic): bookworm, bookworm-updates
and bookworm-backports under /debian, bookworm-security under /debian-security, each with a Release file as Debian's
(Origin, Label, Suite, Codename), holding tiny .deb files that carry the names of packages installed in the root and a
higher version. The device's sources.list is used as rendered, only its two hosts become the loopback mirror, marked
[trusted=yes] (the test's Release files are not signed).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from provisioning.apply import apply_bundle
from provisioning.bundle import DEBIAN_MIRROR, DEBIAN_SECURITY, SOURCES_LIST, debian_sources, render_bundle
from provisioning.devicelist import load_text
from provisioning.rootfs import Log, base_recipe, in_root, recipe_key
from tests.requirements import need
from tests.system import appliance as ap

pytestmark = pytest.mark.system

DEVICE_LIST = """\
version: 1
defaults:
  server: https://konferenz.example.org
homes:
  ebh:
    name: EBH
devices:
  - id: ebh-01
    home: ebh
    resident: Erna Müller
    room: palim-l2hdeebeoie5kzya3mw4pgrmnb
    match: {mac: "3c:52:82:1a:2b:3c"}
"""
# Small packages of the base root (all architecture-independent), each given a newer version in one suite.
# (suite, Release fields, package, picked by unattended-upgrades?)
SUITES = {
    "bookworm-security": ("debian-security", {"Origin": "Debian", "Label": "Debian-Security",
                                              "Suite": "stable-security"}, "fonts-dejavu-core", True),
    "bookworm-updates": ("debian", {"Origin": "Debian", "Label": "Debian", "Suite": "stable-updates"}, "tzdata",
                         True),
    "bookworm": ("debian", {"Origin": "Debian", "Label": "Debian", "Suite": "stable"}, "sensible-utils", True),
    # Not the device's: its own sources.list has no backports, this test adds them. ButAutomaticUpgrades makes the
    # newer media-types apt's candidate, so only the origins in unattended-upgrades' config keep it out.
    "bookworm-backports": ("debian", {"Origin": "Debian Backports", "Label": "Debian Backports",
                                      "Suite": "stable-backports", "NotAutomatic": "yes",
                                      "ButAutomaticUpgrades": "yes"}, "media-types", False),
}
COMPONENTS = ("main", "non-free-firmware")
HOST_TOOLS = {"systemd-nspawn": "systemd-container", "dpkg-deb": "dpkg", "mount": "mount", "umount": "mount",
              "mountpoint": "util-linux"}


def _host_problem() -> str | None:
    if os.environ.get("PALIM_SYSTEM_TEST", "").lower() in ("0", "no", "skip"):
        return "PALIM_SYSTEM_TEST=0 opts out of it"
    if os.geteuid() != 0:
        return "needs root (overlay mounts and systemd-nspawn): run it with sudo"
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if missing:
        return (f"{', '.join(missing)} not installed (install the Debian packages "
                f"{' '.join(dict.fromkeys(HOST_TOOLS[t] for t in missing))}; ./scripts/setup installs them)")
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "the kernel has no overlay file system"
    cached = (ap.CACHE / f"base-{recipe_key(base_recipe(ap.MIRROR))}" / "complete").is_file()
    if not cached and shutil.which("debootstrap") is None:
        return "no cached base root, and debootstrap is not installed to build one (./scripts/setup installs it)"
    if not cached and not _reachable(ap.MIRROR):
        return f"no cached base root, and the Debian mirror {ap.MIRROR} is not reachable to build one"
    return None


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=5):
            return True
    except OSError:
        return False


class Mirror:
    """A Debian mirror in a folder, served on 127.0.0.1 until stop(); every request is written down."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.requests: list[str] = []
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 (the base class's name)
                mirror.requests.append(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}".strip())

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="mirror", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _deb(log: Log, work: Path, package: str, version: str) -> Path:
    """A tiny architecture-independent .deb with this name and version (dpkg-deb, as any package is built)."""
    tree = work / f"{package}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "usr/share/doc" / package).mkdir(parents=True)
    (tree / "usr/share/doc" / package / "palim-test").write_text("a newer version made by the palim system test\n")
    (tree / "DEBIAN/control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\nMaintainer: Palim test <test@example.org>\n"
        f"Section: misc\nPriority: optional\nDescription: palim system test stand-in for {package}\n")
    deb = work / f"{package}_{version.replace(':', '%3a')}_all.deb"
    log.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)])
    return deb


def _stanza(log: Log, deb: Path, filename: str) -> str:
    control = log.run(["dpkg-deb", "--field", str(deb)]).stdout.strip()
    data = deb.read_bytes()
    return (f"{control}\nFilename: {filename}\nSize: {len(data)}\n"
            f"SHA256: {hashlib.sha256(data).hexdigest()}\n\n")


def _build_mirror(log: Log, root: Path, folder: Path, arch: str) -> dict[str, str]:
    """The suites of SUITES with their packages; returns package -> its new version."""
    versions = {}
    for codename, (archive, fields, package, _) in SUITES.items():
        installed = in_root(log, root, ["dpkg-query", "-W", "-f=${Version}", package]).stdout.strip()
        assert installed, f"{package} is not installed in the base root"
        version = f"{installed}+palimtest1"
        versions[package] = version
        pool = f"pool/main/{package[0]}/{package}"
        deb = _deb(log, folder.parent, package, version)
        (folder / archive / pool).mkdir(parents=True, exist_ok=True)
        shutil.copy(deb, folder / archive / pool / deb.name)
        dists = folder / archive / "dists" / codename
        hashes = []
        for component in COMPONENTS:
            index = f"{component}/binary-{arch}/Packages"
            text = _stanza(log, deb, f"{pool}/{deb.name}") if component == "main" else ""
            (dists / index).parent.mkdir(parents=True)
            (dists / index).write_text(text)
            hashes.append(f" {hashlib.sha256(text.encode()).hexdigest()} {len(text.encode())} {index}")
        date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime(time.time() - 86400))  # yesterday
        release = {**fields, "Codename": codename, "Date": date, "Architectures": f"{arch} all",
                   "Components": " ".join(COMPONENTS), "Description": "palim system test mirror"}
        (dists / "Release").write_text("".join(f"{k}: {v}\n" for k, v in release.items())
                                       + "SHA256:\n" + "\n".join(hashes) + "\n")
    return versions


def test_unattended_upgrades_picks_the_security_update_with_the_devices_apt_config():
    problem = _host_problem()
    need(problem is None, f"security update test not possible on this host: {problem}")
    with ap.root_run("updates", "security updates") as (run, cached):
        mirror = None
        try:
            log, run_dir = run.log, run.dir
            # What apply writes on a device (files only: its steps need a running device and are skipped here).
            target = load_text(DEVICE_LIST, "devices.yaml").targets[0]
            sources = run.path(SOURCES_LIST)
            before = sources.read_text()  # debootstrap's one line
            report = apply_bundle(render_bundle(target, None), run.root)
            assert {"/etc/apt/apt.conf.d/52palim-unattended-upgrades", "/etc/apt/apt.conf.d/20auto-upgrades"} <= \
                set(report.written)
            device_sources = sources.read_text()
            assert device_sources == debian_sources()
            if before != device_sources:  # replaced, the old one kept in apply's backup folder
                assert SOURCES_LIST in report.written and SOURCES_LIST in report.backups
            arch = in_root(log, run.root, ["dpkg", "--print-architecture"]).stdout.strip()
            with log.phase("mirror"):
                folder = run_dir / "mirror" / "www"
                folder.mkdir(parents=True)
                versions = _build_mirror(log, run.root, folder, arch)
                mirror = Mirror(folder)
            # The device's lines, only pointed at the loopback mirror; backports beside them, from this test only.
            for host, count in ((DEBIAN_MIRROR, 2), (DEBIAN_SECURITY, 1)):
                assert device_sources.count(f"deb {host} ") == count, device_sources
            loopback = (device_sources.replace(f"deb {DEBIAN_MIRROR} ", f"deb [trusted=yes] {mirror.url}/debian ")
                        .replace(f"deb {DEBIAN_SECURITY} ", f"deb [trusted=yes] {mirror.url}/debian-security "))
            sources.write_text(loopback)
            run.path("/etc/apt/sources.list.d/palim-test-backports.list").write_text(
                f"deb [trusted=yes] {mirror.url}/debian bookworm-backports main\n")
            with log.phase("apt-get update"):
                in_root(log, run.root, ["apt-get", "update"], timeout=300)
            with log.phase("unattended-upgrade --dry-run"):
                result = in_root(log, run.root, ["unattended-upgrade", "--dry-run", "-d"], timeout=600)
            output = result.stdout + result.stderr
            allowed = re.search(r"^Allowed origins are: (.*)$", output, re.M)
            assert allowed, output[-3000:]
            assert allowed[1].split(", ") == ["origin=Debian,codename=bookworm-security,label=Debian-Security",
                                              "origin=Debian,codename=bookworm-updates,label=Debian",
                                              "origin=Debian,codename=bookworm,label=Debian"]
            upgraded = re.search(r"^Packages that will be upgraded: (.*)$", output, re.M)
            assert upgraded, output[-3000:]
            picked = set(upgraded[1].split())
            assert picked == {package for _, _, package, chosen in SUITES.values() if chosen}, output[-3000:]
            assert "fonts-dejavu-core" in picked and "media-types" not in picked
            assert re.search(r"^Marking not allowed .*o=Debian Backports,l=Debian Backports", output, re.M), output[-3000:]
            assert re.search(r"^Checking: fonts-dejavu-core \(\[<Origin component:'main' archive:'stable-security' "
                             r"origin:'Debian' label:'Debian-Security' site:'127\.0\.0\.1' isTrusted:True>\]\)$",
                             output, re.M), output[-3000:]
            # It fetched what it picked, from the loopback mirror, and nothing from backports.
            fetched = [unquote(r) for r in mirror.requests if r.startswith("GET ") and ".deb" in r]
            assert any(f"/debian-security/pool/main/f/fonts-dejavu-core/fonts-dejavu-core_{versions['fonts-dejavu-core']}"
                       in r for r in fetched), mirror.requests
            assert not [r for r in fetched if "media-types" in r], fetched
            # A dry run installs nothing; and unattended-upgrades would never reboot by itself.
            assert in_root(log, run.root, ["dpkg-query", "-W", "-f=${Version}", "fonts-dejavu-core"]).stdout.strip() \
                != versions["fonts-dejavu-core"]
            dump = in_root(log, run.root, ["apt-config", "dump", "Unattended-Upgrade::Automatic-Reboot"]).stdout
            assert dump.strip() == 'Unattended-Upgrade::Automatic-Reboot "false";'
            ap.REPORT.append(f"security updates: unattended-upgrade --dry-run picked {', '.join(sorted(picked))} "
                             f"(not media-types from backports); base {'cached' if cached else 'built now'}")
        finally:
            if mirror is not None:
                mirror.stop()
