"""The whole appliance in a container: a fresh Debian 12 root, provisioned like a device, booted with systemd-nspawn.

Used by test_appliance.py; every step logs what it runs to a file so a failure can be read afterwards.
Only the host's root user can do this (debootstrap, overlay mounts, namespaces).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from provisioning.steps import PACKAGES

REPO = Path(__file__).resolve().parents[2]
SUITE = "bookworm"
MIRROR = os.environ.get("PALIM_SYSTEM_MIRROR", "http://deb.debian.org/debian")
CACHE = Path(os.environ.get("PALIM_SYSTEM_CACHE", "/var/cache/palim-system-test"))
WORK = Path(os.environ.get("PALIM_SYSTEM_WORK", REPO / "build" / "system-test"))
# What a fresh Debian 12 brings besides minbase: an init that boots, and the system bus. Everything the kiosk needs
# beyond that must come from provisioning's own package list, so a missing package there fails this test.
BASE_INCLUDE = ("systemd", "systemd-sysv", "dbus")
# Bump when the way the base is made changes, so old caches are not reused.
BASE_RECIPE = 1

DEVICE = "ebh-01"
RESIDENT = "Erna Müller"
DEVICE_LIST = REPO / "provisioning" / "examples" / "devices.yaml"
SERVER_LINE = "  server: https://konferenz.example.org"
DIST = "/opt/palim-kiosk/dist"
VENV = "/opt/palim-kiosk/venv"
HOST_CA_IN_ROOT = "/run/palim-system-test-host-ca.crt"
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


# --------------------------------------------------------------------------- logging and commands


@dataclass
class Log:
    """Every command and its output, in one file; the timings of the phases."""

    path: Path
    phases: dict[str, float] = field(default_factory=dict)

    def write(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")

    @contextmanager
    def phase(self, name: str):
        start = time.monotonic()
        self.write(f"=== {name}")
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
            raise AssertionError(f"{shown} exited with {proc.returncode} (whole log: {self.path}):\n{tail}")
        return proc


def nspawn_cmd(root: Path, *extra: str) -> list[str]:
    """systemd-nspawn on a host whose PID 1 is not systemd: no machined registration, no transient scope."""
    return ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", f"--directory={root}", *extra]


def in_root(log: Log, root: Path, argv: Sequence[str], *, env: dict[str, str] | None = None,
            binds: Sequence[str] = (), timeout: float = 900, secrets: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run one command inside the root without booting it (like a chroot, with /proc, /sys and /dev set up).

    `env` reaches the command through systemd-nspawn's own environment (--setenv=NAME), never its command line.
    """
    extra = [f"--setenv={name}" for name in (env or {})] + [f"--bind-ro={b[3:]}" if b.startswith("ro:") else f"--bind={b}"
                                                             for b in binds]
    return log.run(nspawn_cmd(root, "--pipe", *extra, "--", *argv), timeout=timeout, secrets=secrets, env=env)


# --------------------------------------------------------------------------- the cached Debian 12 base


def base_packages() -> tuple[str, ...]:
    """What apt installs into the base after debootstrap: provisioning's own list, nothing more."""
    return tuple(PACKAGES)


def base_key() -> str:
    recipe = {"suite": SUITE, "mirror": MIRROR, "variant": "minbase", "include": BASE_INCLUDE,
              "packages": sorted(base_packages()), "recipe": BASE_RECIPE}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_base(log: Log, tmp: Path) -> None:
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    root = tmp / "root"
    log.run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_INCLUDE)}", SUITE, str(root), MIRROR],
            timeout=1200)
    apt = ["env", "DEBIAN_FRONTEND=noninteractive"]
    in_root(log, root, [*apt, "apt-get", "update", "-q"], timeout=600)
    in_root(log, root, [*apt, "apt-get", "install", "-y", "-q", "--no-install-recommends", *base_packages()],
            timeout=1200)
    in_root(log, root, ["apt-get", "clean"])


def ensure_base(log: Log) -> tuple[Path, bool]:
    """The Debian 12 root with the kiosk's packages, built once per package list; (root, True when cached)."""
    key = base_key()
    done = CACHE / f"base-{key}"
    with _locked(CACHE / "base.lock"):
        if (done / "complete").is_file():
            log.write(f"base {done} is cached (key of its package list: {key})")
            return done / "root", True
        tmp = CACHE / f"base-{key}.partial"
        for attempt in (1, 2):  # a mirror hiccup should not fail CI: one more try from scratch
            try:
                _build_base(log, tmp)
                break
            except (AssertionError, subprocess.TimeoutExpired) as exc:
                if attempt == 2:
                    raise
                log.write(f"building the base failed, trying once more: {exc}")
        (tmp / "packages.txt").write_text("\n".join(base_packages()) + "\n")
        (tmp / "complete").write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
        mounts = Path("/proc/self/mountinfo").read_text()
        for old in CACHE.glob("base-*"):
            # An older package list is never used again, unless a run of another checkout has it mounted right now.
            if old.is_dir() and old.name != tmp.name and f"lowerdir={old}/root" not in mounts:
                shutil.rmtree(old, ignore_errors=True)
        tmp.rename(done)
        return done / "root", False


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


def new_run(base: Path, log: Log) -> Run:
    run_dir = log.path.parent
    for name in ("upper", "work", "root"):
        (run_dir / name).mkdir()
    root = run_dir / "root"
    log.run(["mount", "-t", "overlay", "palim-system-test", "-o",
             f"lowerdir={base},upperdir={run_dir / 'upper'},workdir={run_dir / 'work'}", str(root)])
    return Run(run_dir, root, log, psk="palim-test-" + os.urandom(6).hex(), mounted=True)


def build_wheel(run: Run) -> Path:
    """A wheel of the project as it is in this working tree (tracked and new files, nothing ignored), built on the
    host as the Ansible role builds it on the controller (pip wheel --no-deps)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    src = run.dir / "src"
    count = 0
    for name in filter(None, files):
        if (REPO / name).is_file():  # else deleted in the working tree
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
            count += 1
    run.log.write(f"copied {count} files of the working tree to {src}")
    patch = os.environ.get("PALIM_SYSTEM_SOURCE_PATCH")
    if patch:
        # To try a fix on the appliance before it is in the working tree: a -p1 patch against the project.
        run.log.run(["patch", "-p1", "--forward", "-d", str(src), "-i", str(Path(patch).resolve())])
    python = REPO / ".venv" / "bin" / "python"
    run.log.run([str(python if python.exists() else "python3"), "-m", "pip", "wheel", "--no-deps", "--quiet",
                 "--wheel-dir", str(run.dir / "dist"), str(src)], timeout=600)
    wheels = sorted((run.dir / "dist").glob("palim_kiosk-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def device_list_for_standin(pin: str) -> str:
    """The example device list with only the server pointed at the stand-in (test-only override)."""
    text = DEVICE_LIST.read_text(encoding="utf-8")
    if text.count(SERVER_LINE + "\n") != 1:
        raise AssertionError(f"{DEVICE_LIST} no longer has the line {SERVER_LINE!r} under defaults")
    return text.replace(SERVER_LINE + "\n", f"  server: {STANDIN_URL}\n  tls_pins: ['{pin}']\n")


def provision(run: Run, pin: str) -> None:
    """What the Ansible role does on a device (tasks/install.yml): copy the project's wheel to /opt/palim-kiosk/dist,
    install it into the venv, then run that venv's palim-provision apply on the live root, secrets in the environment."""
    wheel = build_wheel(run)
    dist = run.path(DIST)
    dist.mkdir(parents=True, exist_ok=True)
    shutil.copy2(wheel, dist / wheel.name)
    wheel_in_root = f"{DIST}/{wheel.name}"
    devices = run.path("/root/devices.yaml")
    devices.write_text(device_list_for_standin(pin), encoding="utf-8")
    pip_cache = CACHE / "pip"
    pip_cache.mkdir(parents=True, exist_ok=True)
    binds = [f"{pip_cache}:/root/.cache/pip"]
    env: dict[str, str] = {}
    host_ca = os.environ.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE")
    if host_ca and Path(host_ca).is_file():
        # This host reaches PyPI through a proxy that only its own CA bundle trusts: lend pip that bundle while
        # provisioning, without writing it into the device's root.
        binds.append(f"ro:{host_ca}:{HOST_CA_IN_ROOT}")
        env["PIP_CERT"] = HOST_CA_IN_ROOT
    in_root(run.log, run.root, ["sh", "-ec", f"python3 -m venv {VENV} && {VENV}/bin/pip install --quiet {wheel_in_root}"],
            binds=binds, env=env)
    in_root(run.log, run.root,
            [f"{VENV}/bin/palim-provision", "apply", "/root/devices.yaml", "--device", DEVICE, "--root", "/",
             "--kiosk-source", wheel_in_root],
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


def boot(run: Run, standin: Standin, timeout: float = 60) -> Booted:
    console = run.dir / "console.log"
    argv = nspawn_cmd(run.root, "--boot", f"--machine={DEVICE}", f"--network-namespace-path={standin.netns}",
                      "--console=read-only", "--link-journal=no")
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
