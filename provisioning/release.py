"""A kiosk release as Debian packages in the city's signed apt repository (palim-provision release).

One release V is two packages: palim-kiosk-V holds the kiosk's own venv under /opt/palim-kiosk/releases/V/ (the
exact wheels of a lock file, hash-checked by pip --require-hashes), and palim-kiosk V, a small package that depends
on it. Each version has its own package name, as Debian's kernels do, so installing V keeps V-1 on disk for a
rollback; unattended-upgrades upgrades palim-kiosk and with it pulls in palim-kiosk-V. reprepro publishes them into
two suites, the rings: 'first' gets every release at once, 'all' only what `release --promote` copies over after
it ran on the first ring long enough. Both are signed with the city's OpenPGP key (gpg, in a throw-away keyring).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.files import write_atomic

RELEASES = "/opt/palim-kiosk/releases"
META_PACKAGE = "palim-kiosk"
SUITES = ("first", "all")
# A version is also part of a package name (palim-kiosk-V), so only what both allow: digits and dots.
VERSION = re.compile(r"[0-9]+(?:\.[0-9]+){0,3}")
# What the kiosk needs from Debian (the Qt wheels' system libraries, the compositor); the same as scripts/setup.
DEPENDS = ("python3 (>= 3.11)", "python3 (<< 3.12)", "cage", "seatd", "libglib2.0-0", "libgl1", "libegl1",
           "libxkbcommon0", "libfontconfig1", "libdbus-1-3", "libnspr4", "libnss3", "libxcomposite1",
           "libxdamage1", "libxrandr2", "libxtst6", "libasound2", "libxkbfile1", "fonts-dejavu-core")
KEPT = "kept"  # beside conf/ and db/: each release's packages, for --promote
PUBLISHED = "releases.json"  # beside conf/ and db/: when each version reached a suite, for --promote


class ReleaseError(Exception):
    """A release that cannot be built or published; the message says why and what to do."""


@dataclass(frozen=True)
class Built:
    """The two packages of one release."""

    version: str
    release_deb: Path  # palim-kiosk-V: the venv
    meta_deb: Path  # palim-kiosk V: depends on it


def check_version(version: str) -> str:
    if not VERSION.fullmatch(version):
        raise ReleaseError(f"--version {version!r}: use digits and dots only, like 1.4 or 2026.12.1 (it becomes part "
                           f"of the package name palim-kiosk-<version>)")
    return version


def source_date_epoch(source: Path) -> int:
    """SOURCE_DATE_EPOCH when set, else the source's last commit time: the same source gives the same package."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    proc = subprocess.run(["git", "-C", str(source), "log", "-1", "--format=%ct"], capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip().isdigit():
        raise ReleaseError(f"{source} is not a git checkout: set SOURCE_DATE_EPOCH (seconds) for a reproducible build")
    return int(proc.stdout.strip())


def _run(cmd: list[str], what: str, env: dict | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise ReleaseError(f"{what} failed ({cmd[0]} exit {proc.returncode}):\n{tail}")
    return proc.stdout


def kiosk_wheel(source: Path, work: Path, epoch: int) -> Path:
    """The kiosk's own wheel from the source, as the Ansible role builds it (pip wheel --no-deps); the wheel's
    file times come from SOURCE_DATE_EPOCH."""
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(work), str(source)],
         "building the kiosk's wheel", env=dict(os.environ, SOURCE_DATE_EPOCH=str(epoch)))
    wheels = sorted(work.glob("palim_kiosk-*.whl"))
    if len(wheels) != 1:
        raise ReleaseError(f"expected one palim_kiosk wheel from {source}, got {len(wheels)}")
    return wheels[0]


def build_venv(staging: Path, version: str, lock: Path, wheel: Path, wheels: Path | None, python: str,
               check_dependencies: bool) -> Path:
    """/opt/palim-kiosk/releases/V below `staging`: a venv with exactly the lock's wheels (pip --require-hashes) and
    the kiosk's wheel (its sha256 taken here), paths rewritten to where the venv lives on the device."""
    prefix = f"{RELEASES}/{version}"
    venv = staging / prefix.lstrip("/")
    _run([python, "-m", "venv", "--without-pip", str(venv)], "creating the release's venv")
    pinned = lock.read_text(encoding="utf-8")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    full_lock = venv.parent / "lock.txt"
    full_lock.write_text(f"{pinned.rstrip()}\n{wheel} --hash=sha256:{digest}\n", encoding="utf-8")
    where = ["--no-index", "--find-links", str(wheels)] if wheels else []
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
          "--require-hashes", "--no-deps", "--no-compile", "--disable-pip-version-check", *where,
          "-r", str(full_lock)], "installing the locked wheels (pip --require-hashes)")
    full_lock.unlink()
    if check_dependencies:
        _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "check"],
             "checking that the lock holds every dependency (pip check)")
    _relocate(venv, str(venv).encode(), prefix.encode())
    return venv


def _relocate(venv: Path, built_at: bytes, lives_at: bytes) -> None:
    """Rewrite the build folder's path to the device's (scripts' #! lines, pyvenv.cfg) and their hashes in pip's
    RECORD; drop what names the build: byte code and pip's direct_url.json (the temporary wheel's path)."""
    rewritten = {}
    for path in sorted(venv.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if path.name == "direct_url.json" or path.suffix == ".pyc":
            path.unlink()
            continue
        data = path.read_bytes()
        if built_at in data:
            data = data.replace(built_at, lives_at)
            path.write_bytes(data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rewritten[path.resolve()] = f"sha256={digest},{len(data)}"
    for record in venv.glob("lib/python*/site-packages/*.dist-info/RECORD"):
        lines = []
        for line in record.read_text(encoding="utf-8").splitlines():
            name = line.rsplit(",", 2)[0]
            if "direct_url.json" in name or name.endswith(".pyc"):
                continue
            fixed = rewritten.get((record.parent.parent / name).resolve())
            lines.append(f"{name},{fixed}" if fixed else line)
        record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for cache in sorted(venv.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)


def _control(fields: dict[str, str]) -> str:
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def _deb(tree: Path, out: Path, epoch: int, compression: str = "xz") -> Path:
    """dpkg-deb of a tree with every time clamped to the epoch and root as owner: the same tree, the same bytes."""
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (epoch, epoch), follow_symlinks=False)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch))
    _run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(tree), str(out)], "dpkg-deb", env=env)
    return out


def build(version: str, lock: Path, out: Path, source: Path, wheel: Path | None = None, wheels: Path | None = None,
          python: str = "/usr/bin/python3", check_dependencies: bool = True, compression: str = "xz") -> Built:
    """Build the release's two packages into `out`; `compression` none only for tests that need Qt fast."""
    check_version(version)
    epoch = source_date_epoch(source)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="palim-release-") as tmp:
        work = Path(tmp)
        wheel = wheel or kiosk_wheel(source, work / "dist", epoch)
        tree = work / "release"
        venv = build_venv(tree, version, lock, wheel, wheels, python, check_dependencies)
        size_kib = sum(p.stat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
        (tree / "DEBIAN").mkdir()
        (tree / "DEBIAN" / "control").write_text(_control({
            "Package": f"{META_PACKAGE}-{version}", "Version": version, "Architecture": "amd64",
            "Maintainer": "Palim Kiosk <kiosk@palim.invalid>", "Installed-Size": str(size_kib),
            "Depends": ", ".join(DEPENDS), "Section": "misc", "Priority": "optional",
            "Description": f"Palim kiosk release {version} (its own venv, pinned wheels)\n"
                           f" The kiosk and its exact Python wheels, PyQt6-WebEngine included, under\n"
                           f" {RELEASES}/{version}. palim-kiosk-release switches to it at a quiet moment.",
        }), encoding="utf-8")
        release_deb = _deb(tree, out / f"{META_PACKAGE}-{version}_{version}_amd64.deb", epoch, compression)

        meta = work / "meta"
        (meta / "DEBIAN").mkdir(parents=True)
        (meta / "DEBIAN" / "control").write_text(_control({
            "Package": META_PACKAGE, "Version": version, "Architecture": "amd64",
            "Maintainer": "Palim Kiosk <kiosk@palim.invalid>", "Depends": f"{META_PACKAGE}-{version} (= {version})",
            "Section": "misc", "Priority": "optional",
            "Description": "Palim kiosk: the newest release\n Pulls in the newest palim-kiosk-<version>; older ones "
                           "stay for a rollback\n until the new one has come up.",
        }), encoding="utf-8")
        # The device's release switch learns of the new version; the kiosk's service is never restarted from here.
        postinst = meta / "DEBIAN" / "postinst"
        postinst.write_text("#!/bin/sh\nset -e\nif [ \"$1\" = configure ] && [ -x /usr/local/sbin/palim-kiosk-release ]; "
                            f"then /usr/local/sbin/palim-kiosk-release installed {version} || true; fi\n", encoding="utf-8")
        postinst.chmod(0o755)
        meta_deb = _deb(meta, out / f"{META_PACKAGE}_{version}_amd64.deb", epoch)
    return Built(version, release_deb, meta_deb)


# --------------------------------------------------------------------------- the signed repository


@contextlib.contextmanager
def _city_keyring(key_file: Path):
    """A throw-away GNUPGHOME holding only the city's secret key; yields its env and the key's fingerprint. The
    gpg-agent that gpg starts for it is stopped on the way out: it would keep the city's secret key in memory."""
    with tempfile.TemporaryDirectory(prefix="palim-publish-") as tmp:
        home = Path(tmp) / "gnupg"
        home.mkdir(mode=0o700)
        env = dict(os.environ, GNUPGHOME=str(home))
        try:
            yield env, _import_city_key(key_file, env)
        finally:
            subprocess.run(["gpgconf", "--kill", "all"], env=env, capture_output=True)


def _import_city_key(key_file: Path, env: dict) -> str:
    try:
        key_file.stat()
    except OSError as exc:
        raise ReleaseError(f"--key-file {key_file}: {exc.strerror}") from None
    proc = subprocess.run(["gpg", "--batch", "--import", str(key_file)], capture_output=True, text=True, env=env)
    listing = subprocess.run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], capture_output=True,
                             text=True, env=env).stdout
    fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
    if proc.returncode != 0 or not fingerprints:
        raise ReleaseError(f"--key-file {key_file} holds no OpenPGP secret key gpg can use (export it with "
                           f"gpg --export-secret-keys --armor, without a passphrase or with gpg-agent ready)")
    return fingerprints[0]


def _distributions(fingerprint: str) -> str:
    return "\n".join(
        f"Origin: Palim\nLabel: Palim Kiosk\nSuite: {suite}\nCodename: {suite}\nArchitectures: amd64\n"
        f"Components: main\nDescription: Palim kiosk releases, ring '{suite}'\nSignWith: {fingerprint}\n"
        for suite in SUITES)


def published(repo: Path) -> dict:
    try:
        return json.loads((repo / PUBLISHED).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {suite: {} for suite in SUITES}


def newest(versions: list[str]) -> str | None:
    """The highest of Debian versions (dpkg --compare-versions decides)."""
    best = None
    for version in versions:
        if best is None or subprocess.run(["dpkg", "--compare-versions", version, "gt", best]).returncode == 0:
            best = version
    return best


def publish(built: Built, repo: Path, key_file: Path, now: dt.datetime) -> Path:
    """Add the release to the 'first' ring of the repository at `repo` (made when new); its public part, the
    folder a web server serves, is repo/public. Refuses a version that is not newer than every published one."""
    record = published(repo)
    top = newest([v for suite in SUITES for v in record.get(suite, {})])
    if top is not None and newest([top, built.version]) != built.version or top == built.version:
        raise ReleaseError(f"version {built.version} is not newer than {top}, already in {repo}: devices never go "
                           f"back to an older version; release a higher one")
    with _city_keyring(key_file) as (env, fingerprint):
        conf = repo / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        write_atomic(conf / "distributions", _distributions(fingerprint).encode(), 0o644)
        write_atomic(conf / "options", b"outdir +b/public\n", 0o644)
        _run(["reprepro", "--silent", "-b", str(repo), "includedeb", "first", str(built.release_deb),
              str(built.meta_deb)], "reprepro includedeb", env=env)
        _run(["reprepro", "--silent", "-b", str(repo), "export"], "reprepro export", env=env)
    kept = repo / KEPT / built.version
    kept.mkdir(parents=True, exist_ok=True)
    for deb in (built.release_deb, built.meta_deb):
        shutil.copy2(deb, kept / deb.name)
    record.setdefault("first", {})[built.version] = now.isoformat(timespec="seconds")
    write_atomic(repo / PUBLISHED, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode(), 0o644)
    return repo / "public"


def promote(version: str, repo: Path, key_file: Path, min_days: int, now: dt.datetime) -> None:
    """Copy a release from the 'first' ring to 'all' once it has been there `min_days` days."""
    check_version(version)
    record = published(repo)
    since = record.get("first", {}).get(version)
    if since is None:
        raise ReleaseError(f"version {version} is not on the first ring of {repo}: publish it first")
    days = (now - dt.datetime.fromisoformat(since)).total_seconds() / 86400
    if days < min_days:
        raise ReleaseError(f"version {version} has been on the first ring {days:.1f} days, fewer than {min_days}: "
                           f"wait, and check palim_kiosk_rollbacks_total of the first ring's devices")
    with _city_keyring(key_file) as (env, _):
        # From the packages kept at publishing: the first ring may hold a newer palim-kiosk by now (reprepro 5.3
        # keeps one version of a package per suite).
        _run(["reprepro", "--silent", "-b", str(repo), "includedeb", "all",
              *(str(p) for p in sorted((repo / KEPT / version).glob("*.deb")))], "reprepro includedeb", env=env)
    record.setdefault("all", {})[version] = now.isoformat(timespec="seconds")
    write_atomic(repo / PUBLISHED, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode(), 0o644)
