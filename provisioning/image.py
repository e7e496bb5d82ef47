"""palim-provision image: one disk image for a USB stick that installs the kiosk on donated laptops without network.

The stick's root is a device root (provisioning/rootfs.py: Debian 12, the kiosk's packages, kernel, GRUB, the
kiosk in its venv) plus the installer (provisioning/installer.py) and, root-only, the selected homes' device lists
and secrets. Installing copies that root onto the internal disk and runs apply there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from . import disk, rootfs
from .claims import CLAIMS_LABEL, list_places, place_of
from .devicelist import Loaded, Target, resolve_secrets
from .fleetkeys import device_keys
from .inventory import HOST_PSK_ENV, HOST_TOKEN_ENV, HOST_WG_KEY_ENV, extract_device
from .stickplan import CLAIMS_MIB, CLAIMS_PARTITION, image_size_bytes, layout_script, partition_path, root_mib
from .tokens import device_tokens

STICK_DIR = "/root/palim-stick"  # root-only (0700): the device lists and secrets
INSTALLER_LOG = "/var/log/palim-installer.log"
INSTALLER_UNIT = "palim-installer.service"
CHECKS = ("memory", "cpu", "disk", "wifi", "graphics", "camera", "microphone", "speaker", "battery", "screen", "touch")
TOOLS = {**rootfs.HOST_TOOLS, "sfdisk": "fdisk", "losetup": "mount", "mkfs.vfat": "dosfstools",
         "mkfs.ext4": "e2fsprogs", "blkid": "util-linux", "partx": "util-linux", "tar": "tar"}
# Only where the kernel cannot mount FAT itself (a build host in a container): the ESP through FUSE, then mtools.
TOOLS_WITHOUT_VFAT = {"fusefat": "fusefat", "mcopy": "mtools", "fsck.vfat": "dosfstools"}
# The installer on tty1 instead of a login prompt; only on the stick (the device's copy loses the condition's file).
INSTALLER_UNIT_TEXT = f"""\
[Unit]
Description=Palim installer (installs the kiosk onto this machine's internal disk)
ConditionPathExists={STICK_DIR}/stick.json
After=systemd-udev-settle.service systemd-udevd.service local-fs.target console-setup.service
Wants=systemd-udev-settle.service
Conflicts=getty@tty1.service
Before=getty@tty1.service

[Service]
Type=oneshot
ExecStart=/opt/palim-kiosk/venv/bin/palim-provision install {STICK_DIR}
StandardInput=tty-force
StandardOutput=tty
StandardError=tty
TTYPath=/dev/tty1
TTYReset=yes
TTYVHangup=yes

[Install]
WantedBy=multi-user.target
"""


@dataclass
class ImageResult:
    """What was built."""

    path: Path
    size_bytes: int
    devices: list[str]
    seconds: float
    cached_root: bool


def _photo_paths(node) -> list[str]:
    """Every photo a device list names (home_photo, contacts' photo), relative to its folder."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("photo", "home_photo") and isinstance(value, str):
                found.append(value)
            else:
                found += _photo_paths(value)
    elif isinstance(node, list):
        for value in node:
            found += _photo_paths(value)
    return found


def stick_files(loaded: Loaded, targets: list[Target], psks: dict[str, str], tokens: dict[str, str],
                unattended: bool, waive: list[str], wg_keys: dict[str, str] | None = None,
                ) -> dict[str, tuple[bytes, int]]:
    """The stick's own files below STICK_DIR: path relative to it -> (content, mode). Secrets are 0600: a device's
    secrets file holds what its extract's *_env names (the installer runs apply with them as its environment), the
    WireGuard key too where the list has a fleet: (the hub knows that key's public half; a key made on the device
    would be one it does not)."""
    files: dict[str, tuple[bytes, int]] = {}
    devices = []
    base = Path(loaded.file).parent
    for target in targets:
        text = extract_device(loaded, target.id)
        files[f"devices/{target.id}/devices.yaml"] = (text.encode(), 0o600)
        for photo in _photo_paths(yaml.safe_load(text)):
            files[f"devices/{target.id}/{photo}"] = ((base / photo).read_bytes(), 0o600)
        secrets = {}
        if target.home_key in psks:
            secrets[HOST_PSK_ENV] = psks[target.home_key]
        if target.id in tokens:
            secrets[HOST_TOKEN_ENV] = tokens[target.id]
        if target.id in (wg_keys or {}):
            secrets[HOST_WG_KEY_ENV] = wg_keys[target.id]
        files[f"secrets/{target.id}.json"] = (json.dumps(secrets).encode(), 0o600)
        match = target.device.match
        if match is not None:
            devices.append({"id": target.id, "home": target.home_key, "title": place_of(target).title(),
                            "mac": match.mac, "serial": match.serial, "rotate": target.rotate})
    # Numbered among the whole list's open places, as the helper's sheet numbers them.
    chosen = {target.id for target in targets}
    places = [asdict(place) for place in list_places(loaded.targets) if place.device in chosen]
    settings = {"unattended": unattended, "waive": sorted(waive), "devices": devices, "places": places,
                "built": time.strftime("%Y-%m-%d %H:%M:%S")}
    files["stick.json"] = (json.dumps(settings, indent=1).encode(), 0o600)
    return files


def host_problem() -> str | None:
    """Why this machine cannot build an image (not root, a tool missing), or None."""
    if os.geteuid() != 0:
        return "building an image needs root (debootstrap, loop devices, mounts): run it with sudo"
    return rootfs.missing_tools({**TOOLS, **({} if disk.kernel_has_vfat() else TOOLS_WITHOUT_VFAT)})


def _wheel(log: rootfs.Log, source: str, work: Path) -> Path:
    if source.endswith(".whl"):
        return Path(source)
    log.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(work / "dist"), source],
            timeout=900)
    wheels = sorted((work / "dist").glob("palim_kiosk-*.whl"))
    if len(wheels) != 1:
        raise rootfs.BuildError(f"pip wheel made {len(wheels)} palim_kiosk wheels in {work / 'dist'}")
    return wheels[0]


def _stage(log: rootfs.Log, root: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """The stick's own parts on top of the device root: installer unit, its device lists, no login on tty1."""
    stick = root / STICK_DIR.lstrip("/")
    stick.mkdir(parents=True, exist_ok=True)
    os.chmod(stick, 0o700)
    for rel, (content, mode) in files.items():
        path = stick / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
    for folder, dirs, _ in os.walk(stick):
        for name in dirs:
            os.chmod(Path(folder) / name, 0o700)
    units = root / "etc/systemd/system"
    (units / INSTALLER_UNIT).write_text(INSTALLER_UNIT_TEXT)
    wants = units / "multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / INSTALLER_UNIT).unlink(missing_ok=True)
    (wants / INSTALLER_UNIT).symlink_to(f"/etc/systemd/system/{INSTALLER_UNIT}")
    (units / "default.target").unlink(missing_ok=True)
    (units / "default.target").symlink_to("/lib/systemd/system/multi-user.target")
    (root / "etc/hostname").write_text("palim-stick\n")
    (root / "etc/machine-id").write_text("")  # each machine makes its own at first boot


def build_image(loaded: Loaded, targets: list[Target], out: Path, *, kiosk_source: str, cache: Path,
                unattended: bool = False, waive: list[str] = (), mirror: str = rootfs.DEFAULT_MIRROR,
                log_path: Path | None = None, env: dict[str, str] | None = None) -> ImageResult:
    """Build the image at `out` (written as out.partial, renamed when complete). Raises rootfs.BuildError or OSError;
    the caller has checked the device list (secrets are read here again and never logged)."""
    started = time.monotonic()
    psks, problems = resolve_secrets(loaded, targets, env)
    tokens, unavailable, wrong = device_tokens(loaded, targets, env)
    wg_keys, _, no_keys = device_keys(loaded, targets, env, create=False)
    if problems or unavailable or wrong or no_keys:
        raise ValueError("secrets missing")  # checked by the caller before; never reached with a good list
    files = stick_files(loaded, targets, psks, tokens, unattended, list(waive), wg_keys)
    secrets = [*psks.values(), *tokens.values(), *wg_keys.values()]
    work = Path(tempfile.mkdtemp(prefix="palim-image-", dir=out.parent))
    log = rootfs.Log(log_path or work / "image.log", echo=True)
    partial = out.with_name(out.name + ".partial")
    loop = None
    overlay = work / "root"
    try:
        with log.phase("device root (Debian 12, kiosk packages, kernel, GRUB; cached)"):
            machine, cached = rootfs.ensure_machine(log, cache, mirror)
        with log.phase("the kiosk into its venv"):
            for name in ("upper", "work", "root"):
                (work / name).mkdir()
            log.run(["mount", "-t", "overlay", "palim-image", "-o",
                     f"lowerdir={machine},upperdir={work / 'upper'},workdir={work / 'work'}", str(overlay)])
            wheel = _wheel(log, kiosk_source, work)
            rootfs.install_kiosk(log, overlay, wheel, cache / "pip")
            _stage(log, overlay, files)
        with log.phase("the image"):
            used = int(log.run(["du", "-sxb", str(overlay)]).stdout.split()[0])
            size = image_size_bytes(used)
            partial.unlink(missing_ok=True)
            with open(partial, "wb") as handle:
                handle.truncate(size)
            loop = log.run(["losetup", "--find", "--show", "--partscan", str(partial)]).stdout.strip()
            esp, root_dev = disk.partition(log, loop, layout_script(root_mib=root_mib(used), claims_mib=CLAIMS_MIB))
            disk.make_filesystems(log, esp, root_dev)
            # The claims partition, empty: the installer writes a claim there after each install.
            log.run(["mkfs.vfat", "-n", CLAIMS_LABEL, partition_path(loop, CLAIMS_PARTITION)])
            with disk.mounted(log, root_dev, esp, work / "mnt") as mnt:
                disk.copy_root(log, overlay, mnt)
                disk.write_fstab(log, mnt, root_dev, esp)
                disk.install_grub(log, mnt, loop, root_dev)
        log.run(["losetup", "--detach", loop])
        loop = None
        partial.rename(out)
        for secret in secrets:  # the log stays on the builder's machine: it must not hold a secret
            if secret in log.path.read_text(errors="replace"):
                raise rootfs.BuildError(f"a secret reached the build log {log.path}")
        return ImageResult(out, out.stat().st_size, [t.id for t in targets], time.monotonic() - started, cached)
    finally:
        if loop is not None:
            subprocess.run(["losetup", "--detach", loop], capture_output=True)
        if (overlay).is_mount():
            subprocess.run(["umount", str(overlay)], capture_output=True)
        partial.unlink(missing_ok=True)
        if log_path is None and log.path.exists():
            shutil.copy2(log.path, out.with_name(out.name + ".log"))
        shutil.rmtree(work, ignore_errors=True)
