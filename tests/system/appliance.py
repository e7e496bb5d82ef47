"""The whole appliance in a container: a fresh Debian 12 root, provisioned like a device, booted with systemd-nspawn.

Used by test_appliance.py; every step logs what it runs to a file so a failure can be read afterwards.
Only the host's root user can do this (debootstrap, overlay mounts, namespaces).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from provisioning import rootfs
from provisioning.rootfs import VENV, Log, in_root, nspawn_cmd

REPO = Path(__file__).resolve().parents[2]
MIRROR = os.environ.get("PALIM_SYSTEM_MIRROR", rootfs.DEFAULT_MIRROR)
CACHE = Path(os.environ.get("PALIM_SYSTEM_CACHE", "/var/cache/palim-system-test"))
WORK = Path(os.environ.get("PALIM_SYSTEM_WORK", REPO / "build" / "system-test"))

DEVICE = "ebh-01"
RESIDENT = "Erna Müller"
DEVICE_LIST = REPO / "provisioning" / "examples" / "devices.yaml"
SERVER_LINE = "  server: https://konferenz.example.org"
UNIT = "palim-kiosk.service"
STANDIN_PORT = 8443
# The stand-in runs in the container's network namespace, so the device reaches it at its own 127.0.0.1.
STANDIN_URL = f"https://127.0.0.1:{STANDIN_PORT}"

# Test-only: a container has no DRM, no input devices and no tty1. Everything else is what a device gets.
HEADLESS_DROPIN = """\
# palim system test only: no DRM, no input devices and no tty1 in a container.
[Unit]
ConditionPathExists=
[Service]
Environment=WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
StandardInput=null
TTYPath=
TTYReset=no
TTYVHangup=no
TTYVTDisallocate=no
UtmpIdentifier=
"""
NO_SANDBOX_DROPIN = """\
# palim system test only: this container cannot give Chromium the namespaces its sandbox needs.
[Service]
Environment=QTWEBENGINE_DISABLE_SANDBOX=1
"""


# What the run measured, printed at the end of the pytest run (conftest.py) and kept in the run's steps.log.
REPORT: list[str] = []


def _reachable(url: str, timeout: float = 5.0) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


# The host's commands this test runs, and the Debian packages that bring them (./scripts/setup installs them all).
HOST_TOOLS = {"debootstrap": "debootstrap", "systemd-nspawn": "systemd-container", "unshare": "util-linux",
              "nsenter": "util-linux", "mountpoint": "util-linux", "mount": "mount", "umount": "mount",
              "ip": "iproute2", "git": "git"}


def host_problem() -> str | None:
    """Why this host cannot run the system test, or None when it can (the test skips, or fails under CI=true)."""
    if os.environ.get("PALIM_SYSTEM_TEST", "").lower() in ("0", "no", "skip"):
        return "PALIM_SYSTEM_TEST=0 opts out of it"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root (debootstrap, overlay mounts and systemd-nspawn): run it with sudo"
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(dict.fromkeys(HOST_TOOLS[tool] for tool in missing))
        return (f"{', '.join(missing)} not installed (install the Debian packages {packages}; "
                f"./scripts/setup installs them)")
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "the kernel has no overlay file system"
    if not _reachable(MIRROR):
        return f"the Debian mirror {MIRROR} is not reachable (set PALIM_SYSTEM_MIRROR to a reachable one)"
    if not _reachable("https://pypi.org") and not (CACHE / "pip").is_dir():
        return "PyPI is not reachable and no pip cache exists yet (PyQt6 wheels come from PyPI)"
    return None


def ensure_base(log: Log) -> tuple[Path, bool]:
    """The Debian 12 root with the kiosk's packages (provisioning/rootfs.py, as the installer stick's), cached."""
    return rootfs.ensure_base(log, CACHE, MIRROR)


# --------------------------------------------------------------------------- one run: overlay, install, apply


@dataclass
class Run:
    """One provisioned root: an overlay over the cached base, thrown away afterwards."""

    dir: Path
    root: Path
    log: Log
    psk: str
    mounted: bool = False
    sandbox_disabled: bool = False

    def path(self, device_path: str) -> Path:
        return self.root / device_path.lstrip("/")


@contextlib.contextmanager
def root_run(kind: str, label: str):
    """An overlay run over the cached base in WORK/<kind>-<time>, torn down afterwards, its phases reported under
    `label`; yields the run and whether the base was cached."""
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    run_dir = WORK / time.strftime(f"{kind}-%Y%m%dT%H%M%S")
    run_dir.mkdir()
    log = Log(run_dir / "steps.log")
    REPORT.append(f"{label}: log of every step: {log.path}")
    run = None
    try:
        with log.phase("base"):
            base, cached = ensure_base(log)
        run = new_run(base, log)
        yield run, cached
    finally:
        if run is not None:
            teardown(run)
        phases = ", ".join(f"{name} {seconds} s" for name, seconds in log.phases.items())
        REPORT.append(f"{label}: phases {phases}; total {time.monotonic() - started:.0f} s")


def new_run(base: Path, log: Log) -> Run:
    run_dir = log.path.parent
    for name in ("upper", "work", "root"):
        (run_dir / name).mkdir()
    root = run_dir / "root"
    log.run(["mount", "-t", "overlay", "palim-system-test", "-o",
             f"lowerdir={base},upperdir={run_dir / 'upper'},workdir={run_dir / 'work'}", str(root)])
    return Run(run_dir, root, log, psk="palim-test-" + os.urandom(6).hex(), mounted=True)


def build_wheel(run: Run) -> Path:
    """The working tree's wheel, built in the run's folder."""
    return wheel_of_working_tree(run.dir, run.log)


def wheel_of_working_tree(work: Path, log: Log) -> Path:
    """A wheel of the project as it is in this working tree (tracked and new files, nothing ignored), built on the
    host as the Ansible role builds it on the controller (pip wheel --no-deps)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    src = work / "src"
    count = 0
    for name in filter(None, files):
        if (REPO / name).is_file():  # else deleted in the working tree
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
            count += 1
    log.write(f"copied {count} files of the working tree to {src}")
    patch = os.environ.get("PALIM_SYSTEM_SOURCE_PATCH")
    if patch:
        # To try a fix on the appliance before it is in the working tree: a -p1 patch against the project.
        log.run(["patch", "-p1", "--forward", "-d", str(src), "-i", str(Path(patch).resolve())])
    python = REPO / ".venv" / "bin" / "python"
    log.run([str(python if python.exists() else "python3"), "-m", "pip", "wheel", "--no-deps", "--quiet",
                 "--wheel-dir", str(work / "dist"), str(src)], timeout=600)
    wheels = sorted((work / "dist").glob("palim_kiosk-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def device_list_for_standin(pin: str) -> str:
    """The example device list with only the server pointed at the stand-in (test-only override)."""
    text = DEVICE_LIST.read_text(encoding="utf-8")
    if text.count(SERVER_LINE + "\n") != 1:
        raise AssertionError(f"{DEVICE_LIST} no longer has the line {SERVER_LINE!r} under defaults")
    return text.replace(SERVER_LINE + "\n", f"  server: {STANDIN_URL}\n  tls_pins: ['{pin}']\n")


def provision(run: Run, pin: str, devices_text: str | None = None, wheel: Path | None = None) -> None:
    """What the Ansible role does on a device (tasks/install.yml): copy the project's wheel to /opt/palim-kiosk/dist,
    install it into the venv, then run that venv's palim-provision apply on the live root, secrets in the environment.
    `devices_text`: another device list than the stand-in's (files it names lie next to /root/devices.yaml)."""
    wheel = wheel or build_wheel(run)
    devices = run.path("/root/devices.yaml")
    devices.write_text(devices_text or device_list_for_standin(pin), encoding="utf-8")
    wheel_in_root = rootfs.install_kiosk(run.log, run.root, wheel, CACHE / "pip")
    binds, env = rootfs.pip_binds(CACHE / "pip")
    in_root(run.log, run.root,
            # The container is not the listed laptop (its MAC is the container's own): it stands in for it.
            [f"{VENV}/bin/palim-provision", "apply", "/root/devices.yaml", "--device", DEVICE, "--root", "/",
             "--this-is-the-device", "--kiosk-source", wheel_in_root],
            env={**env, "EBH_WIFI_PSK": run.psk}, binds=binds, secrets=[run.psk])


def add_test_dropins(run: Run, sandbox: bool) -> None:
    dropins = run.path(f"/etc/systemd/system/{UNIT}.d")
    dropins.mkdir(parents=True, exist_ok=True)
    (dropins / "zz-system-test-headless.conf").write_text(HEADLESS_DROPIN)
    if not sandbox:
        (dropins / "zz-system-test-no-sandbox.conf").write_text(NO_SANDBOX_DROPIN)
        run.sandbox_disabled = True


def unprivileged_userns_works(root: Path, log: Log) -> bool:
    """Can an unprivileged user in this container make a user namespace (what Chromium's sandbox needs)?"""
    proc = log.run(nspawn_cmd(root, "--pipe", "--user=nobody", "--", "unshare", "--user", "--map-root-user",
                              "--pid", "--net", "--fork", "true"), check=False, timeout=60)
    return proc.returncode == 0


# --------------------------------------------------------------------------- the stand-in in its own network


@dataclass
class Standin:
    """The Jitsi stand-in, alone in a fresh network namespace that the container will join."""

    proc: subprocess.Popen
    pin: str
    out: Path

    @property
    def netns(self) -> str:
        return f"/proc/{self.proc.pid}/ns/net"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_standin(run_dir: Path, timeout: float = 30) -> Standin:
    out = run_dir / "standin.log"
    python = REPO / ".venv" / "bin" / "python"
    python = python if python.exists() else Path(shutil.which("python3"))
    # unshare execs sh, which execs python: one PID, whose network namespace is the one the container joins.
    proc = subprocess.Popen(
        ["unshare", "--net", "--", "sh", "-ec",
         f'ip link set lo up; exec "{python}" -u -m jitsi_standin --port {STANDIN_PORT} '
         f'--cert-dir "{run_dir / "standin-cert"}"'],
        cwd=REPO, stdout=open(out, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in out.read_text().splitlines():
            if line.startswith("tls_pins: "):
                return Standin(proc, json.loads(line.removeprefix("tls_pins: "))[0], out)
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the stand-in did not start:\n{out.read_text()}")


# --------------------------------------------------------------------------- the booted container


@dataclass
class Booted:
    """A running container: its systemd-nspawn process and its PID 1 as the host sees it."""

    run: Run
    nspawn: subprocess.Popen
    leader: int
    started: float  # time.monotonic() at the launch of systemd-nspawn
    console: Path

    def sh(self, argv: Sequence[str], check: bool = False, timeout: float = 30) -> subprocess.CompletedProcess:
        """A command inside the booted system (its mounts, network, PIDs), as root."""
        return self.run.log.run(["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "--", *argv],
                                check=check, timeout=timeout)

    def processes(self) -> list[dict]:
        """Every process of the container, also those in namespaces nested inside it (Chromium's sandbox): pid, uid,
        namespaces, seccomp mode and cmdline, as read from the host's /proc."""
        table = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
                table[int(entry.name)] = {
                    "pid": int(entry.name), "ppid": int(fields["PPid"]), "uid": int(fields["Uid"].split()[0]),
                    "userns": os.readlink(entry / "ns/user"), "netns": os.readlink(entry / "ns/net"),
                    "seccomp": int(fields.get("Seccomp", "0").strip()),
                    "pid_depth": len(fields.get("NSpid", "").split()),
                    "cmdline": [part.decode(errors="replace") for part in cmdline if part]}
            except (OSError, KeyError, ValueError):
                continue  # gone meanwhile
        found = []
        for pid, proc in table.items():
            parent = pid
            while parent in table and parent != self.leader:
                parent = table[parent]["ppid"]
            if parent == self.leader:
                found.append(proc)
        return found


def _container_init(nspawn_pid: int, root: Path) -> int | None:
    """The host PID of the container's PID 1 (a descendant of systemd-nspawn in its own PID namespace)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
        if len(nspid) == 2 and nspid[1] == "1" and (entry / "comm").read_text().strip() == "systemd":
            pid = int(entry.name)
            parent = pid
            for _ in range(5):  # nspawn -> (outer child) -> init
                parent = int(next(line.split()[1] for line in Path(f"/proc/{parent}/status").read_text()
                                  .splitlines() if line.startswith("PPid:")))
                if parent == nspawn_pid:
                    return pid
                if parent <= 1:
                    break
    return None


def boot(run: Run, standin: Standin, timeout: float = 60, extra: Sequence[str] = ()) -> Booted:
    """Boot the root in the stand-in's network namespace; `extra`: more systemd-nspawn options for one test."""
    console = run.dir / "console.log"
    argv = nspawn_cmd(run.root, "--boot", f"--machine={DEVICE}", f"--network-namespace-path={standin.netns}",
                      "--console=read-only", "--link-journal=no", *extra)
    run.log.write("$ " + " ".join(argv) + f"   (console: {console})")
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(console, "w"), stderr=subprocess.STDOUT)
    deadline = started + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited with {proc.returncode}:\n{console.read_text()[-3000:]}")
        leader = _container_init(proc.pid, run.root)
        if leader is not None:
            return Booted(run, proc, leader, started, console)
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"no container PID 1 after {timeout} s:\n{console.read_text()[-3000:]}")


def poweroff(booted: Booted, timeout: float = 90) -> int:
    """Shut the container down the way systemd does it (SIGRTMIN+4 to its PID 1); systemd-nspawn's exit code."""
    if booted.nspawn.poll() is None:
        os.kill(booted.leader, signal.SIGRTMIN + 4)
        try:
            booted.nspawn.wait(timeout)
        except subprocess.TimeoutExpired:
            booted.nspawn.kill()
            booted.nspawn.wait(10)
            raise AssertionError(f"the container did not power off within {timeout} s")
    return booted.nspawn.returncode


def teardown(run: Run) -> None:
    for attempt in range(10):
        if not run.mounted:
            break
        # Right after the container exits its last processes may still hold the mount for a moment.
        subprocess.run(["umount", *(["--lazy"] if attempt == 9 else []), str(run.root)], check=False,
                       capture_output=True)
        if subprocess.run(["mountpoint", "-q", str(run.root)]).returncode != 0:
            run.mounted = False
        else:
            time.sleep(1)
    if not run.mounted:
        for name in ("upper", "work", "root"):
            shutil.rmtree(run.dir / name, ignore_errors=True)
