"""One way to build a device root (Debian 12 + the kiosk), shared by the installer stick and the whole-appliance test.

Every command goes to one log file, so a failure can be read afterwards. Needs root, debootstrap and systemd-nspawn;
roots are cached below a cache folder, keyed by their recipe (suite, mirror, package lists), so a change of recipe
never reuses an old root.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .bundle import DEBIAN_SECURITY, debian_sources
from .firmware import FIRMWARE_PACKAGES
from .steps import FLEET_PACKAGES, PACKAGES, SSH_PACKAGES

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# What a fresh Debian 12 brings besides minbase: an init that boots, and the system bus. Everything the kiosk needs
# beyond that must come from provisioning's own package list, so a missing package there fails the appliance test.
BASE_INCLUDE = ("systemd", "systemd-sysv", "dbus")
# Bump when the way the base is made changes, so old caches are not reused.
BASE_RECIPE = 1
# What a real machine needs beyond the container the appliance test boots: a kernel, udev (drivers, DRM and input
# for cage), the boot loaders, the tools that partition and format the internal disk, the Wi-Fi supplicant and
# firmware. Installed on the stick's root, which is what gets copied onto the device.
MACHINE_PACKAGES = (
    "linux-image-amd64", "udev", "kmod", "grub2-common", "fdisk", "dosfstools", "e2fsprogs", "wpasupplicant",
    "ca-certificates", "firmware-linux-free",
    # Boot loaders: GRUB for legacy BIOS; for UEFI with Secure Boot on (every Windows 8+ laptop) Debian's signed chain,
    # shim (signed by Microsoft's UEFI CA) -> GRUB -> kernel (both signed by Debian); for 32-bit UEFI (Bay Trail
    # tablets) GRUB for ia32, unsigned (those tablets have no Secure Boot a stick could pass), which boots the 64-bit
    # kernel in mixed mode.
    "grub-pc-bin", "grub-efi-amd64-bin", "grub-efi-amd64-signed", "shim-signed", "grub-efi-ia32-bin",
    # The installer stick's console (and a device's text console): a German keyboard layout (the helper types on a
    # German laptop) and Terminus 16x32, readable from a metre on 1280x800 (the kernel's 8x16 is not).
    "kbd", "console-setup",
    # apply checks every admin SSH key with OpenSSH's own parser (ssh-keygen -l) before it installs anything; the
    # client only: no host keys are made here (those come with the server, installed on the device itself).
    "openssh-client",
    *FIRMWARE_PACKAGES,
)
MACHINE_RECIPE = 7  # 7: carries the fleet's packages (WireGuard, node_exporter)
DIST = "/opt/palim-kiosk/dist"
VENV = "/opt/palim-kiosk/venv"
HOST_CA_IN_ROOT = "/run/palim-host-ca.crt"
# Written before console-setup is installed, whose postinst keeps them (debconf reads an existing file as the answer):
# the console's layout and font at every boot (console-setup.service), and what the installer loads on tty1.
CONSOLE_KEYBOARD = """\
# Palim: the console's keyboard (written when the root was built)
XKBMODEL="pc105"
XKBLAYOUT="de"
XKBVARIANT="nodeadkeys"
XKBOPTIONS=""
BACKSPACE="guess"
"""
CONSOLE_SETUP = """\
# Palim: the console's font, readable from a metre (written when the root was built)
ACTIVE_CONSOLES="/dev/tty[1-6]"
CHARMAP="UTF-8"
CODESET="Uni2"
FONTFACE="TerminusBold"
FONTSIZE="16x32"
"""
CONSOLE_FONT = "/usr/share/consolefonts/Uni2-TerminusBold32x16.psf.gz"
HOST_TOOLS = {"debootstrap": "debootstrap", "systemd-nspawn": "systemd-container", "cp": "coreutils"}


@dataclass
class Log:
    """Every command and its output, in one file; the timings of the phases."""

    path: Path
    phases: dict[str, float] = field(default_factory=dict)
    echo: bool = False  # also print each phase's start on stdout (the image command, for staff)

    def write(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")

    @contextmanager
    def phase(self, name: str):
        start = time.monotonic()
        self.write(f"=== {name}")
        if self.echo:
            print(f"  {name} …", flush=True)
        try:
            yield
        finally:
            self.phases[name] = round(time.monotonic() - start, 1)
            self.write(f"=== {name}: {self.phases[name]} s")

    def run(self, argv: Sequence[str], *, timeout: float = 900, check: bool = True, env: dict | None = None,
            input: str | None = None, secrets: Sequence[str] = ()) -> subprocess.CompletedProcess:
        shown = " ".join(argv)
        self.write(f"$ {shown}")
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, input=input,
                              env={**os.environ, **(env or {})}, stdin=None if input is not None else subprocess.DEVNULL)
        output = (proc.stdout + proc.stderr).rstrip()
        for secret in secrets:
            output = output.replace(secret, "********")
        if output:
            self.write(output)
        if check and proc.returncode != 0:
            tail = "\n".join(output.splitlines()[-25:])
            raise BuildError(f"{shown} exited with {proc.returncode} (whole log: {self.path}):\n{tail}")
        return proc


class BuildError(AssertionError):
    """A command that builds a root failed; the message holds the end of its output and names the log."""


def nspawn_cmd(root: Path, *extra: str) -> list[str]:
    """systemd-nspawn on a host whose PID 1 may not be systemd: no machined registration, no transient scope."""
    return ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", f"--directory={root}", *extra]


def in_root(log: Log, root: Path, argv: Sequence[str], *, env: dict[str, str] | None = None,
            binds: Sequence[str] = (), timeout: float = 900, secrets: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run one command inside the root without booting it (like a chroot, with /proc, /sys and /dev set up).

    `env` reaches the command through systemd-nspawn's own environment (--setenv=NAME), never its command line.
    """
    extra = [f"--setenv={name}" for name in (env or {})] + [f"--bind-ro={b[3:]}" if b.startswith("ro:") else f"--bind={b}"
                                                             for b in binds]
    return log.run(nspawn_cmd(root, "--pipe", *extra, "--", *argv), timeout=timeout, secrets=secrets, env=env)


def recipe_key(recipe: dict) -> str:
    """A short, stable name for a recipe (the cache folder's suffix)."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def security_mirror(mirror: str) -> str:
    """Where bookworm-security comes from for a root built from `mirror`: beside Debian's own mirror network
    (deb.debian.org serves debian-security too), else Debian's security servers."""
    base = mirror.rstrip("/")
    return base + "-security" if base.endswith("/debian") else DEBIAN_SECURITY


def base_recipe(mirror: str) -> dict:
    """The Debian 12 minbase root with provisioning's own package list, nothing more."""
    return {"suite": SUITE, "mirror": mirror, "variant": "minbase", "include": BASE_INCLUDE,
            "packages": sorted(PACKAGES), "recipe": BASE_RECIPE}


def machine_recipe(mirror: str) -> dict:
    """The base plus what a real machine needs (kernel, udev, boot loader)."""
    return {"base": recipe_key(base_recipe(mirror)), "packages": sorted(MACHINE_PACKAGES),
            "carried": sorted(SSH_PACKAGES + FLEET_PACKAGES), "recipe": MACHINE_RECIPE}


@contextmanager
def locked(path: Path):
    """Hold an exclusive lock on `path` (another build of the same cache waits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _apt_install(log: Log, root: Path, packages: Sequence[str], upgrade: bool = False) -> None:
    """Install packages; with `upgrade`, first bring everything installed to the newest version the sources offer."""
    apt = ["env", "DEBIAN_FRONTEND=noninteractive"]
    in_root(log, root, [*apt, "apt-get", "update", "-q"], timeout=600)
    if upgrade:
        in_root(log, root, [*apt, "apt-get", "dist-upgrade", "-y", "-q", "--no-install-recommends"], timeout=1800)
    in_root(log, root, [*apt, "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], timeout=1800)
    in_root(log, root, ["apt-get", "clean"])


def _cached(log: Log, cache: Path, prefix: str, recipe: dict, build) -> tuple[Path, bool]:
    """The root a recipe makes, built once into cache/<prefix>-<key>/root by `build(log, partial_dir)`."""
    key = recipe_key(recipe)
    done = cache / f"{prefix}-{key}"
    with locked(cache / f"{prefix}.lock"):
        if (done / "complete").is_file():
            log.write(f"{prefix} {done} is cached (key of its recipe: {key})")
            return done / "root", True
        tmp = cache / f"{prefix}-{key}.partial"
        for attempt in (1, 2):  # a mirror hiccup should not fail a build: one more try from scratch
            try:
                if tmp.exists():
                    shutil.rmtree(tmp)
                tmp.mkdir(parents=True)
                build(log, tmp)
                break
            except (BuildError, subprocess.TimeoutExpired) as exc:
                if attempt == 2:
                    raise
                log.write(f"building {prefix} failed, trying once more: {exc}")
        (tmp / "recipe.json").write_text(json.dumps(recipe, indent=1, sort_keys=True) + "\n")
        (tmp / "complete").write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
        mounts = Path("/proc/self/mountinfo").read_text()
        for old in cache.glob(f"{prefix}-*"):
            # An older recipe is never used again, unless a run of another checkout has it mounted right now.
            if old.is_dir() and old.name != tmp.name and f"lowerdir={old}/root" not in mounts:
                shutil.rmtree(old, ignore_errors=True)
        tmp.rename(done)
        return done / "root", False


def ensure_base(log: Log, cache: Path, mirror: str = DEFAULT_MIRROR) -> tuple[Path, bool]:
    """The Debian 12 root with the kiosk's packages, built once per recipe; (root, True when it was cached)."""
    def build(log: Log, tmp: Path) -> None:
        root = tmp / "root"
        log.run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_INCLUDE)}", SUITE, str(root), mirror],
                timeout=1200)
        _apt_install(log, root, PACKAGES)
        (tmp / "packages.txt").write_text("\n".join(PACKAGES) + "\n")

    return _cached(log, cache, "base", base_recipe(mirror), build)


def ensure_machine(log: Log, cache: Path, mirror: str = DEFAULT_MIRROR) -> tuple[Path, bool]:
    """The base plus kernel, udev and boot loader (a root a real machine boots), built once per recipe."""
    base, _ = ensure_base(log, cache, mirror)

    def build(log: Log, tmp: Path) -> None:
        root = tmp / "root"
        log.run(["cp", "-a", "--reflink=auto", str(base), str(root)], timeout=1200)
        # The firmware lives in Debian's non-free-firmware component, security fixes in bookworm-security: the
        # device's own sources (apply writes the same file on every device) before anything is installed.
        (root / "etc/apt/sources.list").write_text(debian_sources(mirror, security_mirror(mirror)))
        (root / "etc/default/keyboard").write_text(CONSOLE_KEYBOARD)
        (root / "etc/default/console-setup").write_text(CONSOLE_SETUP)
        # With -updates and -security the base's packages have newer versions: the stick carries those (and apply
        # --offline finds every package at its candidate version, nothing left to download).
        _apt_install(log, root, MACHINE_PACKAGES, upgrade=True)
        # Carried, not installed: apply --offline installs them on a device whose list names admin_ssh_keys, which
        # then makes its own host keys (one SSH server unpacked here would give every device the same ones); and
        # the fleet's, on a device whose list has a fleet: block (node_exporter unpacked here would listen on every
        # address of every device before apply gave it the tunnel address).
        in_root(log, root, ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
                            "--download-only", "--no-install-recommends", *SSH_PACKAGES, *FLEET_PACKAGES],
                timeout=1800)

    return _cached(log, cache, "machine", machine_recipe(mirror), build)


def install_kiosk(log: Log, root: Path, wheel: Path, pip_cache: Path) -> str:
    """What the Ansible role does on a device: the wheel to /opt/palim-kiosk/dist, a venv, pip install it (PyQt6
    wheels from PyPI, through the host's pip cache). Returns the wheel's path inside the root."""
    dist = root / DIST.lstrip("/")
    dist.mkdir(parents=True, exist_ok=True)
    shutil.copy2(wheel, dist / wheel.name)
    pip_cache.mkdir(parents=True, exist_ok=True)
    binds, env = pip_binds(pip_cache)
    in_root(log, root, ["sh", "-ec", f"python3 -m venv {VENV} && {VENV}/bin/pip install --quiet {DIST}/{wheel.name}"],
            binds=binds, env=env, timeout=1800)
    return f"{DIST}/{wheel.name}"


def pip_binds(pip_cache: Path) -> tuple[list[str], dict[str, str]]:
    """Binds and environment for pip inside a root: the host's pip cache, and the host's CA bundle when this host
    reaches PyPI through a proxy only that bundle trusts (lent while building, never written into the root)."""
    binds = [f"{pip_cache}:/root/.cache/pip"]
    env: dict[str, str] = {}
    host_ca = os.environ.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE")
    if host_ca and Path(host_ca).is_file():
        binds.append(f"ro:{host_ca}:{HOST_CA_IN_ROOT}")
        env["PIP_CERT"] = HOST_CA_IN_ROOT
    return binds, env


def missing_tools(tools: dict[str, str]) -> str | None:
    """Which of these commands are missing and the Debian packages that bring them, or None."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(tools[tool] for tool in missing))
    return f"{', '.join(missing)} not installed (install the Debian packages {packages})"
