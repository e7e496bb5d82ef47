"""The installer-stick test's steps on the host: the stand-in's certificate, the image, test-only drop-ins.

The stick is made by the real `palim-provision image` (a subprocess of this venv's command) from the example device
list with one test-only change (server and tls_pins point at the stand-in, as in the whole-appliance test). After
the install, the test adds to the installed disk only what lets it watch: the journal on the serial console, the
stand-in on the VM's loopback and a probe that prints the kiosk's state, MemAvailable and the kiosk tree's PSS every
five seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from provisioning.rootfs import Log
from tests.system import appliance as ap

REPO = ap.REPO
CACHE = ap.CACHE
WORK = Path(os.environ.get("PALIM_VM_WORK", REPO / "build" / "vm-test"))
HOME = "erich-burger-heim"
ROOM = "palim-l2hdeebeoie5kzya3mw4pgrmnb"  # ebh-01's room in provisioning/examples/devices.yaml
SITE = Path(sys.executable).parent.parent / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
# What the stand-in needs beyond the kiosk's venv in the VM (the same Debian 12 Python, so the host's wheels fit).
STANDIN_LIBS = ("jwt", "cryptography", "cffi", "pycparser")
# What the run measured, printed at the end of the pytest run (conftest.py) and kept in the run's steps.log.
REPORT: list[str] = []

JOURNAL_TO_SERIAL = """\
# palim VM test only: the journal on the serial console, where the test reads it.
[Journal]
ForwardToConsole=yes
TTYPath=/dev/ttyS0
MaxLevelConsole=info
"""
STANDIN_UNIT = """\
# palim VM test only: the Jitsi stand-in on the VM's own loopback (no route leaves the VM).
[Unit]
Description=Jitsi stand-in for the VM test
Before=palim-kiosk.service

[Service]
Environment=PYTHONPATH=/opt/palim-vm-test/site
ExecStart=/opt/palim-kiosk/venv/bin/python -u /opt/palim-vm-test/standin_in_vm.py /opt/palim-vm-test/cert
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
"""
# Under TCG every instruction is emulated: the kiosk's first start takes minutes, not the seconds the unit allows.
# (cage's GLES renderer crashes on the VM's virtio-gpu without 3D: the unit's own fallback to wlroots' software
# renderer is part of what the test boots, no drop-in hides it.)
SLOW_START_DROPIN = """\
# palim VM test only: QEMU without KVM runs the kiosk's start many times slower than a laptop does.
[Service]
TimeoutStartSec=900
"""
# The kiosk unit's journal line when it switches the device to software rendering (provisioning/templates).
RENDERER_FALLBACK_LINE = "before the kiosk was ready: from now on this device uses software rendering"
PROBE = """\
#!/bin/sh
# palim VM test only: the kiosk's state and the free memory every five seconds, on the serial console.
# Secure Boot as the firmware reports it (the variable's fifth byte), the kernel's lockdown (the bracketed mode), and
# the disk the root is on. The kiosk tree's PSS: every process in the kiosk unit's cgroup but cage (the unit's main
# process), i.e. the kiosk and QtWebEngine's helpers; cage's own separately (smaps_rollup, kB).
sb_var=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
while :; do
  sb=$(od -An -t u1 -j4 -N1 "$sb_var" 2>/dev/null | tr -d ' ')
  lockdown=$(awk -F'[][]' '{print $2}' /sys/kernel/security/lockdown 2>/dev/null)
  cage=$(systemctl show -P MainPID palim-kiosk.service)
  kiosk_pss=0; cage_pss=0
  cg=$(systemctl show -P ControlGroup palim-kiosk.service)
  for pid in $(cat "/sys/fs/cgroup$cg/cgroup.procs" "/sys/fs/cgroup/systemd$cg/cgroup.procs" 2>/dev/null); do
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
    if [ "$pid" = "$cage" ]; then cage_pss=${pss:-0}; else kiosk_pss=$((kiosk_pss + ${pss:-0})); fi
  done
  echo "palim-vm-probe kiosk=$(systemctl is-active palim-kiosk.service) getty1=$(systemctl is-active getty@tty1.service) mem_available_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo) kiosk_pss_kb=$kiosk_pss cage_pss_kb=$cage_pss secureboot=${sb:-none} lockdown=${lockdown:-none} root=$(findmnt -no SOURCE /)"
  sleep 5
done
"""
PROBE_UNIT = """\
[Unit]
Description=palim VM test probe
[Service]
ExecStart=/bin/sh /opt/palim-vm-test/probe.sh
StandardOutput=journal+console
[Install]
WantedBy=multi-user.target
"""


MTOOLS = {"MTOOLS_SKIP_CHECK": "1"}  # the FAT that mkfs.vfat made has more sectors than its geometry says
# Two open places (no match:) in the stick's home: two unknown laptops take them by number. Appended to the device
# list's devices, the last section of the example.
OPEN_PLACES = """
  - id: ebh-p1
    home: erich-burger-heim
    resident: Frieda Kunz
    room: palim-ahf44ow7cr7yqwehnjpg4s3j3m
    label: Zimmer 30

  - id: ebh-p2
    home: erich-burger-heim
    resident: Otto Lenz
    room: palim-5fqzzs3m2ipnwhybbuafoieciy
    label: Zimmer 31
"""


def _claims_partition(log: Log, image: Path) -> str:
    """mtools' name for the stick's FAT claims partition (4) inside the image: the file and its byte offset."""
    table = json.loads(log.run(["sfdisk", "--json", str(image)]).stdout)["partitiontable"]
    part = next(p for p in table["partitions"] if p["node"].endswith("4"))
    return f"{image}@@{part['start'] * table.get('sectorsize', 512)}"


def claims_on_stick(log: Log, image: Path, folder: Path) -> dict[str, str]:
    """The claims on the stick's FAT partition, read as any computer would: mtools, no mount; name -> text."""
    where = _claims_partition(log, image)
    folder.mkdir(parents=True, exist_ok=True)
    if log.run(["mdir", "-b", "-i", where, "::/palim-claims"], check=False, env=MTOOLS).returncode != 0:
        return {}
    log.run(["mcopy", "-n", "-i", where, "::/palim-claims/*.json", str(folder)], env=MTOOLS)
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.json"))}


def claims_label(log: Log, image: Path) -> str:
    """The claims partition's volume label (mtools' mlabel -s)."""
    return log.run(["mlabel", "-s", "-i", _claims_partition(log, image), "::"], env=MTOOLS).stdout.strip()


def standin_pin(cert_dir: Path) -> str:
    """Make (or reuse) the stand-in's certificate on the host and return its pin for the device list."""
    from jitsi_standin.server import StandinServer

    server = StandinServer(port=0, cert_dir=cert_dir)
    server.start()
    try:
        return server.cert_sha256
    finally:
        server.stop()


def admin_key(run_dir: Path) -> tuple[Path, str]:
    """The fleet's SSH key for this run, made by ssh-keygen: (private key file, public key line)."""
    key = run_dir / "admin_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "palim-vm-test", "-f", str(key)], check=True)
    return key, key.with_suffix(".pub").read_text().strip()


def device_list(pin: str, admin_public_key: str, greeting: str | None = None) -> str:
    """The stand-in's device list (as in the whole-appliance test) with the run's admin key, and optionally a
    greeting name for ebh-01: the change the fleet's Ansible run carries to the device."""
    keys = f"  admin_ssh_keys: ['{admin_public_key}']\n"
    text = ap.device_list_for_standin(pin).replace("defaults:\n", f"defaults:\n{keys}", 1)
    if greeting is not None:
        resident = f"    resident: {ap.RESIDENT}\n"
        if text.count(resident) != 1:
            raise AssertionError(f"the example device list no longer has the line {resident!r} once")
        text = text.replace(resident, f"{resident}    greeting_name: {greeting}\n")
    return text


def build_image(log: Log, run_dir: Path, devices_text: str, psk: str) -> tuple[Path, str]:
    """The stick, built by palim-provision image; (path, its output)."""
    devices = run_dir / "devices.yaml"
    devices.write_text(devices_text, encoding="utf-8")
    wheel = ap.wheel_of_working_tree(run_dir, log)
    out = run_dir / "palim-stick.img"
    command = shutil.which("palim-provision", path=str(Path(sys.executable).parent)) or "palim-provision"
    proc = log.run([command, "image", str(devices), "--out", str(out), "--home", HOME, "--unattended",
                    "--waive", "camera", "--kiosk-source", str(wheel), "--cache", str(CACHE)],
                   env={"EBH_WIFI_PSK": psk}, timeout=3600, secrets=[psk])
    return out, proc.stdout + proc.stderr


def copy_sparse(source: Path, target: Path) -> Path:
    subprocess.run(["cp", "--sparse=always", str(source), str(target)], check=True)
    return target


@contextmanager
def mounted_root(log: Log, image: Path, where: Path, *, read_only: bool = False):
    """The root partition (3) of a disk image, mounted; read-only without replaying its journal when asked."""
    loop = log.run(["losetup", "--find", "--show", "--partscan", *(["--read-only"] if read_only else []),
                    str(image)]).stdout.strip()
    where.mkdir(parents=True, exist_ok=True)
    try:
        log.run(["partx", "--update", loop], check=False)  # without udev the partitions' nodes need a nudge
        for _ in range(50):
            if Path(f"{loop}p3").exists():
                break
            time.sleep(0.1)
        log.run(["mount", *(["-o", "ro,noload"] if read_only else []), f"{loop}p3", str(where)])
        try:
            yield where
        finally:
            log.run(["umount", str(where)], check=False)
    finally:
        log.run(["losetup", "--detach", loop], check=False)


def add_test_dropins(root: Path, cert_dir: Path) -> None:
    """What lets the test watch the installed device; everything else is what the installer made."""
    conf = root / "etc/systemd/journald.conf.d"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "zz-vm-test.conf").write_text(JOURNAL_TO_SERIAL)
    opt = root / "opt/palim-vm-test"
    site = opt / "site"
    site.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "jitsi_standin", site / "jitsi_standin", ignore=shutil.ignore_patterns("__pycache__"),
                    dirs_exist_ok=True)
    for name in STANDIN_LIBS:
        shutil.copytree(SITE / name, site / name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    for backend in SITE.glob("_cffi_backend*.so"):
        shutil.copy2(backend, site / backend.name)
    shutil.copytree(cert_dir, opt / "cert", dirs_exist_ok=True)
    shutil.copy2(Path(__file__).with_name("standin_in_vm.py"), opt / "standin_in_vm.py")
    (opt / "probe.sh").write_text(PROBE)
    units = root / "etc/systemd/system"
    (units / "palim-kiosk.service.d").mkdir(parents=True, exist_ok=True)
    (units / "palim-kiosk.service.d" / "zz-vm-test-tcg.conf").write_text(SLOW_START_DROPIN)
    wants = units / "multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for name, text in (("palim-vm-standin.service", STANDIN_UNIT), ("palim-vm-probe.service", PROBE_UNIT)):
        (units / name).write_text(text)
        (wants / name).unlink(missing_ok=True)
        (wants / name).symlink_to(f"/etc/systemd/system/{name}")


def known_hosts(root: Path, port: int, path: Path) -> Path:
    """A known_hosts file with the installed device's own host keys for [127.0.0.1]:port: Ansible checks them."""
    keys = sorted((root / "etc/ssh").glob("ssh_host_*_key.pub"))
    if not keys:
        raise AssertionError(f"the installed disk has no SSH host keys in {root / 'etc/ssh'}")
    path.write_text("".join(f"[127.0.0.1]:{port} {' '.join(key.read_text().split()[:2])}\n" for key in keys))
    return path


def ansible_playbook(log: Log, run_dir: Path, inventory: Path, port: int, key: Path, hosts: Path, psk: str,
                     *args: str, host: str | None = "127.0.0.1", wrap: tuple[str, ...] = ()) -> tuple[int, str]:
    """The fleet's own playbook (provisioning/ansible/site.yml) on ebh-01 in the VM over SSH; (exit code, output).

    Ansible's settings are this run's alone (no user or machine ansible.cfg); host keys are checked against the
    device's own, read from its disk. `host`: the address to reach it at (None: the inventory's ansible_host);
    `wrap`: a command the playbook runs under (nsenter into another network namespace).
    """
    config = run_dir / "ansible.cfg"
    config.write_text(f"""[defaults]
host_key_checking = True
private_key_file = {key}
timeout = 120
[ssh_connection]
pipelining = True
ssh_args = -o UserKnownHostsFile={hosts} -o IdentitiesOnly=yes -o ControlMaster=auto -o ControlPersist=600s
""")
    playbook = shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) or "ansible-playbook"
    env = {"ANSIBLE_CONFIG": str(config), "ANSIBLE_HOME": str(run_dir / ".ansible"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_LOCAL_TEMP": str(run_dir / ".ansible-tmp"), "ANSIBLE_FORCE_COLOR": "0", "EBH_WIFI_PSK": psk}
    address = ("-e", f"ansible_host={host}") if host else ()
    proc = log.run([*wrap, playbook, "-i", str(inventory), str(REPO / "provisioning/ansible/site.yml"), "--limit",
                    "ebh-01", *address, "-e", f"ansible_port={port}", *args],
                   env=env, timeout=1800, check=False, secrets=[psk])
    return proc.returncode, proc.stdout + proc.stderr


def recap(output: str) -> dict[str, int]:
    """ebh-01's line of the play recap as numbers (ok, changed, failed, ...)."""
    line = next(line for line in output.splitlines() if line.startswith("ebh-01") and "changed=" in line)
    return {name: int(value) for name, value in (part.split("=") for part in line.split()[2:])}


def probes(serial_text: str) -> list[dict[str, str]]:
    """The probe's lines on the serial console, oldest first, as dicts."""
    out = []
    for line in serial_text.splitlines():
        if "palim-vm-probe kiosk=" in line:
            fields = line[line.index("palim-vm-probe ") + len("palim-vm-probe "):].split()
            out.append(dict(f.split("=", 1) for f in fields if "=" in f))
    return out
