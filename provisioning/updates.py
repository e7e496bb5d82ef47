"""The device list's `updates:` block and what it becomes on a device: the city's signed kiosk repository as an
apt source (signed-by its key only), a pin that lets that repository give palim-kiosk packages and nothing else, and
unattended-upgrades allowed to take them next to Debian's security updates."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import field_validator, model_validator

from kiosk.core.fields import Strict
from kiosk.core.yamlpos import Problem

# Where a device keeps the city's public release key; apt reads an armored (.asc) or binary (.gpg) key file.
KEYRING_DIR = "/etc/apt/keyrings"
SOURCE_FILE = "/etc/apt/sources.list.d/palim-kiosk.list"
PIN_FILE = "/etc/apt/preferences.d/palim-kiosk"
# A release the device went to is no longer a dependency of palim-kiosk, so apt (unattended-upgrades'
# Remove-Unused-Dependencies) would remove the one a rollback needs: never autoremoved, as Debian keeps its kernels
# (/etc/apt/apt.conf.d/01autoremove); the release switch removes what is beyond the last two.
KEEP_FILE = "/etc/apt/apt.conf.d/52palim-kiosk-releases"
KEEP = ("// Rendered by palim-provision: the kiosk's releases stay until the release switch removes them (keep two).\n"
        "APT::NeverAutoRemove { \"^palim-kiosk-[0-9.]+$\"; };\n")
ORIGIN = "Palim"  # the repository's Origin: (provisioning/release.py writes it)
_REPO = re.compile(r"https://[!-~]+|http://(?:127\.0\.0\.1|localhost)(?::[0-9]+)?(?:/[!-~]*)?|file:/[!-~]+")


class Updates(Strict):
    """Where the kiosk's releases come from: the city's repository (its public folder's URL), the public key that
    signs it (a file next to the device list), and the ring: 'first' gets a release at once, 'all' after the first
    ring ran it long enough (palim-provision release --promote)."""

    repo: str
    """The repository's public folder, as the city serves it over HTTPS (palim-provision release --out REPO/public)."""
    key_file: str | None = None
    """The city's public release key (gpg --export --armor), a file next to the device list; never the secret key."""
    public_key: str | None = None
    """The same key as armored text: what palim-provision extract gives a host of the Ansible role, which gets the
    list without the files next to it."""
    ring: Literal["first", "all"] = "all"
    """first: a release at once (a few devices); all: after palim-provision release --promote."""

    @model_validator(mode="after")
    def _one_key(self) -> "Updates":
        if (self.key_file is None) == (self.public_key is None):
            raise ValueError("needs key_file: the city's public release key (gpg --export), a file next to the list")
        return self

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not _REPO.fullmatch(value):
            raise ValueError("must be the repository's https:// address, like https://it.example.org/palim-kiosk "
                             "(plain http only on this machine: http://127.0.0.1:PORT/)")
        return value.rstrip("/")


def key_path(updates: Updates) -> str:
    """The key's path on the device; its type (.asc armored, else binary) as apt tells them apart."""
    armored = updates.public_key is not None or updates.key_file.endswith(".asc")
    return f"{KEYRING_DIR}/palim-kiosk.{'asc' if armored else 'gpg'}"


def apt_source(updates: Updates) -> str:
    return (f"# The city's kiosk releases (ring '{updates.ring}'), rendered by palim-provision: edit the device "
            f"list's updates:, not this file.\ndeb [signed-by={key_path(updates)}] {updates.repo} "
            f"{updates.ring} main\n")


def apt_pin() -> str:
    """Deny by default: from the city's repository only the kiosk's own packages, never a Debian package."""
    return (f"# Rendered by palim-provision: the city's kiosk repository may give palim-kiosk packages and nothing "
            f"else.\nPackage: *\nPin: release o={ORIGIN}\nPin-Priority: -1\n\n"
            f"Package: palim-kiosk palim-kiosk-*\nPin: release o={ORIGIN}\nPin-Priority: 500\n")


def unattended_origin(updates: Updates | None) -> str:
    """The line for unattended-upgrades' Origins-Pattern, empty without updates."""
    if updates is None:
        return ""
    return (f"        // The city's kiosk releases (palim-provision release), ring '{updates.ring}'.\n"
            f"        \"origin={ORIGIN},codename={updates.ring}\";\n")


def read_public_key(base_dir: Path, key_file: str | None, text: str | None = None) -> bytes:
    """The key's bytes (the file's, or `text`) when they hold OpenPGP public keys only (gpg --show-keys reads them);
    ValueError saying why not. A secret key here would end up on every device: refused, and never printed."""
    path = base_dir / key_file if key_file is not None else Path("public_key")
    try:
        data = path.read_bytes() if text is None else text.encode("utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    if shutil.which("gpg") is None:
        # A device has apt's gpgv but no gpg: an armored public key block is taken as it is (apt checks it when it
        # reads the repository), a secret one or anything else is refused.
        armor = data.lstrip()
        if b"PRIVATE KEY BLOCK" in armor:
            raise ValueError(f"{path} holds a SECRET key: give the public key only (gpg --export)")
        if not armor.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"):
            raise ValueError(f"{path} is no armored OpenPGP public key (gpg --export --armor; gpg is not installed "
                             f"here to read other forms)")
        return data
    with tempfile.TemporaryDirectory(prefix="palim-key-") as home:
        proc = subprocess.run(["gpg", "--batch", "--homedir", home, "--with-colons", "--show-keys"], input=data,
                              capture_output=True)
    records = [line.split(b":")[0] for line in proc.stdout.splitlines()]
    if proc.returncode != 0 or b"pub" not in records and b"sec" not in records:
        raise ValueError(f"{path} holds no OpenPGP public key (export the city's release key with gpg --export)")
    if b"sec" in records:
        raise ValueError(f"{path} holds a SECRET key: give the public key only (gpg --export, not "
                         f"--export-secret-keys); the secret key signs releases and never leaves the city's IT")
    return data


def key_problems(doc: Any, base_dir: Path) -> list[Problem]:
    """Each updates.key_file of the defaults and the homes, checked once: readable, public keys only."""
    data = doc.data if isinstance(doc.data, dict) else {}
    homes = data.get("homes")
    levels = [(("defaults",), data.get("defaults"))]
    levels += [(("homes", key), home) for key, home in homes.items()] if isinstance(homes, dict) else []
    problems = []
    for path, level in levels:
        updates = level.get("updates") if isinstance(level, dict) else None
        for field in ("key_file", "public_key"):
            value = updates.get(field) if isinstance(updates, dict) else None
            if isinstance(value, str):
                try:
                    read_public_key(base_dir, *((value, None) if field == "key_file" else (None, value)))
                except ValueError as exc:
                    problems.append(doc.problem(path + ("updates", field), str(exc)))
    return problems


def update_files(updates: Updates | None, base_dir: Path) -> list[tuple[str, bytes]]:
    """The apt files of a device that follows the city's repository: (path, content), all 0644 root."""
    if updates is None:
        return []
    return [(key_path(updates), read_public_key(base_dir, updates.key_file, updates.public_key)),
            (SOURCE_FILE, apt_source(updates).encode()), (PIN_FILE, apt_pin().encode()), (KEEP_FILE, KEEP.encode())]


def armored(data: bytes) -> str:
    """The public key as armored text (a binary export is armored by gpg), for a device list's public_key."""
    if data.lstrip().startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"):
        return data.decode("ascii")
    with tempfile.TemporaryDirectory(prefix="palim-key-") as home:
        subprocess.run(["gpg", "--batch", "--quiet", "--homedir", home, "--import"], input=data, capture_output=True,
                       check=True)
        return subprocess.run(["gpg", "--batch", "--homedir", home, "--armor", "--export"], capture_output=True,
                              check=True).stdout.decode("ascii")
