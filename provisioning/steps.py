"""Steps that are not files (packages, user, units, hostname), behind one small interface."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from typing import Callable, Protocol

# Runtime packages on Debian 12: the compositor, XWayland for stray X clients, fonts for every language the kiosk
# speaks, audio through PipeWire's PulseAudio service (QtWebEngine talks PulseAudio), and the libraries the PyPI
# QtWebEngine wheels load (measured: docs/qtwebengine.md).
PACKAGES = (
    "cage", "xwayland", "fonts-dejavu-core", "fonts-noto-core", "pipewire-audio", "network-manager",
    "unattended-upgrades", "python3-venv",
    "libgl1", "libegl1", "libxkbcommon0", "libfontconfig1", "libdbus-1-3", "libnss3", "libnspr4",
    "libxcomposite1", "libxdamage1", "libxrandr2", "libxtst6", "libasound2", "libxkbfile1",
    # Qt's Wayland platform plugin (cursor) and its EGL client buffers (GPU); the whole-appliance test found them missing.
    "libwayland-cursor0", "libwayland-egl1",
    # cage's seat without a logind session; the session bus that PipeWire's wireplumber needs in the user's manager.
    "seatd", "dbus-user-session",
)
# Only on devices whose list names admin_ssh_keys: the fleet's way in. The installer stick carries its packages
# unpacked nowhere, only as .deb files in its apt cache (provisioning/rootfs.py), so no device runs an SSH server
# it was not given keys for, and each device that gets one makes its own host keys.
SSH_PACKAGES = ("openssh-server",)
SSH_UNIT = "ssh.service"
# Only on devices of a list with a fleet: block: the tunnel to the city's hub (wg-quick from wireguard-tools; the
# kernel's WireGuard, or wireguard-go where a kernel has none: wg-quick falls back to it by itself) and Debian's
# node_exporter, which serves the kiosk's figures through the tunnel. Carried on the installer stick like SSH's.
FLEET_PACKAGES = ("wireguard-tools", "wireguard-go", "prometheus-node-exporter",
                  # wg-quick sets up the interface with ip(8), which wireguard-tools does not depend on (the
                  # fleet test's device had none: "ip: command not found")
                  "iproute2")
SSH_UNIT_FILE = "/lib/systemd/system/ssh.service"


@dataclass(frozen=True)
class Step:
    """One command run on the live system, in order; each is safe to run again."""

    title: str
    commands: tuple[tuple[str, ...], ...]
    env: tuple[tuple[str, str], ...] = ()
    before_files: bool = False  # packages first, so their postinst cannot overwrite the files we write
    # Only meaningful while systemd runs the system (it talks to PID 1, hostnamed, NetworkManager). In a chroot or an
    # image being prepared it is skipped: the files written already make it take effect at the next boot.
    needs_running_system: bool = False


@dataclass
class StepResult:
    """What became of a step."""

    step: Step
    status: str  # "done", "skipped", "failed"
    detail: str = ""


class Runner(Protocol):
    """Carries out steps; a staging root gets one that only lists them."""

    def run(self, step: Step) -> StepResult: ...


@dataclass
class SkipRunner:
    """For a staging --root: nothing is run, every step is reported as skipped."""

    reason: str = "staging root: not the live system"

    def run(self, step: Step) -> StepResult:
        return StepResult(step, "skipped", self.reason)


def systemd_booted(run_dir: str = "/run/systemd/system") -> bool:
    """True when systemd is PID 1 here (sd_booted()): not in a chroot or an image being prepared."""
    return os.path.isdir(run_dir)


@dataclass
class SystemRunner:
    """Runs steps with subprocess on the live system; stops a step at its first failing command."""

    timeout_s: int = 1800
    log: list[str] = field(default_factory=list)
    booted: Callable[[], bool] = field(default=lambda: systemd_booted())

    def run(self, step: Step) -> StepResult:
        if step.needs_running_system and not self.booted():
            return StepResult(step, "skipped", "systemd is not running here (chroot or image); takes effect at boot")
        env = {**os.environ, **dict(step.env)}
        for argv in step.commands:
            self.log.append(" ".join(argv))
            try:
                proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=self.timeout_s)
            except FileNotFoundError:
                return StepResult(step, "failed", f"{argv[0]} is not installed")
            except subprocess.TimeoutExpired:
                return StepResult(step, "failed", f"{' '.join(argv)} took longer than {self.timeout_s} s")
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                return StepResult(step, "failed", f"{' '.join(argv)} exited with {proc.returncode}: "
                                                  + " | ".join(tail))
        return StepResult(step, "done")


APT_ENV = (("DEBIAN_FRONTEND", "noninteractive"),)


def _apt(packages: tuple[str, ...], offline: bool, update: bool = True) -> tuple[tuple[str, ...], ...]:
    options = ("-y", "--no-install-recommends", *packages)
    if offline:
        # Only that they are there: an installed package stays at its version (a newer one would need a download).
        return (("apt-get", "install", "--no-download", "--no-upgrade", *options),)
    return ((("apt-get", "update"),) if update else ()) + (("apt-get", "install", *options),)


def ssh_steps(keys_given: bool, offline: bool = False) -> tuple[Step, ...]:
    """SSH for the fleet: with admin keys the server is installed, checked and on; with an empty list it is off.

    These run after the files, so the SSH server's first start already reads palim's drop-in (keys only, root only).
    """
    if not keys_given:
        return (
            Step("switch the SSH server off (admin_ssh_keys is empty)",
                 (("sh", "-c", f"! test -e {SSH_UNIT_FILE} || systemctl disable {SSH_UNIT}"),)),
            Step("stop the SSH server", (("sh", "-c", f"! test -e {SSH_UNIT_FILE} || systemctl stop {SSH_UNIT}"),),
                 needs_running_system=True),
        )
    return (
        Step("install the SSH server for the admin keys (apt)", _apt(SSH_PACKAGES, offline, update=False),
             APT_ENV),  # the runtime packages' step has just updated the package lists
        # A drop-in sshd refuses would leave the fleet locked out at the next restart: test it first. sshd -t wants
        # its privilege separation folder, which systemd makes only when it starts the server (not in a chroot).
        Step("check the SSH server's config (sshd -t)", (("mkdir", "-p", "/run/sshd"), ("/usr/sbin/sshd", "-t"))),
        # What sshd makes of every file it reads (another drop-in, an sshd_config without the Include): passwords off.
        Step("check that the SSH server refuses passwords (sshd -T)",
             (("sh", "-c", "/usr/sbin/sshd -T | grep -qx 'passwordauthentication no'"),)),
        Step(f"enable {SSH_UNIT}", (("systemctl", "enable", SSH_UNIT),)),
        # Sessions already open (this Ansible run's own) survive: Debian's unit only reloads or restarts the listener.
        Step(f"let {SSH_UNIT} read its config", (("systemctl", "reload-or-restart", SSH_UNIT),),
             needs_running_system=True),
    )


def fleet_steps(wg_unit: str, exporter_unit: str, tmpfiles_conf: str, offline: bool = False) -> tuple[Step, ...]:
    """The tunnel and node_exporter: after the files, so node_exporter's first start (its package's postinst) already
    listens on the tunnel address only. A running tunnel takes a changed config without going down (wg syncconf):
    the Ansible run that applies it comes through that tunnel."""
    interface = wg_unit.removeprefix("wg-quick@").removesuffix(".service")
    return (
        # As at boot: systemd-sysctl reads /etc/sysctl.d (and skips where /proc/sys is read-only, a container).
        Step("let SSH and node_exporter listen on the tunnel address before it is up (sysctl)",
             (("systemctl", "restart", "systemd-sysctl.service"),), needs_running_system=True),
        Step("install WireGuard and node_exporter (apt)", _apt(FLEET_PACKAGES, offline, update=False), APT_ENV),
        Step("create the kiosk's metrics folder (systemd-tmpfiles)", (("systemd-tmpfiles", "--create", tmpfiles_conf),)),
        Step(f"enable {wg_unit} and {exporter_unit}", (("systemctl", "enable", wg_unit, exporter_unit),)),
        Step(f"start the tunnel, or give the running one its config ({wg_unit})",
             (("systemctl", "daemon-reload"),
              ("bash", "-c", f"if systemctl -q is-active {wg_unit}; then wg syncconf {interface} "
                             f"<(wg-quick strip {interface}); else systemctl start {wg_unit}; fi")),
             needs_running_system=True),
        Step(f"let {exporter_unit} read its config", (("systemctl", "restart", exporter_unit),),
             needs_running_system=True),
    )


def device_steps(hostname: str, unit: str, sysusers_conf: str, kiosk_source: str | None,
                 venv: str = "/opt/palim-kiosk/venv", user: str = "kiosk", offline: bool = False,
                 tmpfiles_conf: str | None = None) -> tuple[Step, ...]:
    """The live-system steps for one device, in the order they must run; `offline` (the installer stick) only checks
    that the packages and the kiosk's wheels are there, and downloads nothing."""
    steps = [Step("install runtime packages (apt)", _apt(PACKAGES, offline), APT_ENV, before_files=True)]
    if kiosk_source is not None:
        pip = (f"{venv}/bin/pip", "install", "--upgrade", "--quiet", *(("--no-index",) if offline else ()), kiosk_source)
        steps.append(Step(f"install the kiosk into {venv} from {kiosk_source}",
                          (("python3", "-m", "venv", venv), pip), before_files=True))
    steps += [
        Step("create the kiosk user (systemd-sysusers)", (("systemd-sysusers", sysusers_conf),)),
        *([Step(f"create {user}'s home now (systemd-tmpfiles; at every boot too)",
                (("systemd-tmpfiles", "--create", tmpfiles_conf),))] if tmpfiles_conf else []),
        # What 'loginctl enable-linger' does, but also where logind is not running yet (chroot, image): at boot logind
        # starts the user's own service manager (PipeWire, for sound) without anybody logging in.
        Step(f"let {user}'s own services run without a login (linger)",
             (("mkdir", "-p", "/var/lib/systemd/linger"), ("touch", f"/var/lib/systemd/linger/{user}"))),
        Step("reload systemd units", (("systemctl", "daemon-reload"),), needs_running_system=True),
        Step(f"enable {unit}", (("systemctl", "enable", unit),)),
        Step("boot into graphical.target", (("systemctl", "set-default", "graphical.target"),)),
        Step(f"set the hostname to {hostname}", (("hostnamectl", "set-hostname", hostname),),
             needs_running_system=True),
        Step("let NetworkManager read the Wi-Fi connection", (("nmcli", "connection", "reload"),),
             needs_running_system=True),
    ]
    return tuple(steps)
