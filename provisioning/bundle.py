"""A device's bundle: a pure function from a resolved device to the files (and steps) it needs.

write_bundle puts a bundle into a folder, for the render command.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template

from kiosk.config import DEFAULT_CONFIG_PATH, dump_config
from kiosk.core.files import write_atomic

from .devicelist import Target
from .fleet import INTERFACE
from .photos import device_photos
from .steps import APT_ENV, Step, device_steps, fleet_steps, ssh_steps
from .updates import unattended_origin, update_files

KIOSK_USER = "kiosk"
KIOSK_HOME = "/var/lib/palim-kiosk"
KIOSK_BIN = "/opt/palim-kiosk/venv/bin/palim-kiosk"
UNIT = "palim-kiosk.service"
# A device that follows the city's repository runs the release /opt/palim-kiosk/current points at; the release switch
# (kiosk/releaseswitch.py, installed here) moves it, on the kiosk's word that the moment is quiet (the marker).
RELEASE_KIOSK_BIN = "/opt/palim-kiosk/current/bin/palim-kiosk"
RELEASE_SWITCH = "/usr/local/sbin/palim-kiosk-release"
RELEASE_HOOKS = (
    "# A new release waits for a quiet moment: the kiosk leaves the marker below and quits, and the release switch\n"
    "# runs the new release; every other stop counts against a release on trial (3 failures in 10 minutes: back).\n"
    f"ExecStopPost=+-/bin/sh -c 'if [ -e /run/palim-kiosk/switch-release ]; then exec {RELEASE_SWITCH} switch; fi; "
    f"exec {RELEASE_SWITCH} stopped \"$$SERVICE_RESULT\"'\n")
PAM_NAME = "palim-kiosk"
SYSUSERS = "/etc/sysusers.d/palim-kiosk.conf"
TMPFILES = "/etc/tmpfiles.d/palim-kiosk.conf"
MANIFEST = "/var/lib/palim-provision/manifest.json"
RENDERED_MANIFEST = "manifest.json"  # beside the device's files in a rendered bundle
SSHD_DROPIN = "/etc/ssh/sshd_config.d/00-palim-admin.conf"  # sorts before any other drop-in: sshd keeps the first value
ADMIN_KEYS = "/etc/ssh/palim_admin_keys"
# uuid5 namespace so a device's Wi-Fi connection keeps its UUID across runs (idempotent applies).
NM_NAMESPACE = uuid.UUID("6f1f3c1e-5a0b-4b8e-9d43-7d0a2f6c1b55")
# A device's package sources (debian_sources): Debian 12 from the mirror, security updates from Debian's own servers.
SOURCES_LIST = "/etc/apt/sources.list"
# Asks for a reboot after a new initramfs (microcode), as a kernel's package does (run-parts by update-initramfs).
INITRAMFS_HOOK = "/etc/initramfs/post-update.d/palim-reboot-required"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# The fleet's tunnel (fleet: in the device list): wg-quick's config, read by Debian's wg-quick@.service.
WG_CONF = f"/etc/wireguard/{INTERFACE}.conf"
WG_UNIT = f"wg-quick@{INTERFACE}.service"
NODE_EXPORTER_UNIT = "prometheus-node-exporter.service"
NODE_EXPORTER_PORT = 9100
# Where the kiosk writes its figures on a fleet device whose list names no metrics_file.
FLEET_METRICS_FILE = "/var/lib/palim-kiosk/metrics/palim_kiosk.prom"  # the name the alert rules look for
DEBIAN_SECURITY = "http://security.debian.org/debian-security"
_APT_URI = re.compile(r"(?:https?|file):/[!-~]+")  # one word of printable ASCII: nothing that breaks the line


@dataclass(frozen=True)
class BundleFile:
    """One file for the device: where, what, and whose."""

    path: str  # absolute path on the device
    content: bytes
    mode: int
    owner: str = "root"
    group: str = "root"
    secrets: tuple[str, ...] = ()  # values never shown in diffs or logs; their file's hash is keyed, never bare

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def fingerprint(self, drift_key: bytes | None) -> dict:
        """What the manifest records to notice drift: sha256 of a plain file; for a file holding a secret (or
        something derived from one) an HMAC-SHA256 with the device's own drift key, or nothing without the key.
        A bare hash of a secret file would let anyone who sees it test guesses of a weak password offline."""
        if not self.secrets:
            return {"sha256": self.sha256}
        if drift_key is None:
            return {"secret": True}
        return {"secret": True, "hmac_sha256": hmac.new(drift_key, self.content, hashlib.sha256).hexdigest()}


@dataclass(frozen=True)
class Bundle:
    """Everything one device gets."""

    device_id: str
    files: tuple[BundleFile, ...]
    steps: tuple[Step, ...]
    drift_key: bytes | None = field(default=None, repr=False, compare=False)  # set by keyed(); never shown

    def manifest(self, drift_key: bytes | None = None) -> dict:
        """Path, mode, owner and fingerprint (BundleFile.fingerprint) of every file, plus the live-system steps."""
        return {
            "device": self.device_id,
            "files": [{"path": f.path, "mode": f"{f.mode:04o}", "owner": f"{f.owner}:{f.group}",
                       **f.fingerprint(drift_key)} for f in self.files if f.path != MANIFEST],
            "steps": [s.title for s in self.steps],
        }

    def keyed(self, drift_key: bytes) -> "Bundle":
        """The same bundle whose device manifest fingerprints secret files with this device's drift key."""
        files = tuple(_manifest_file(self.manifest(drift_key)) if f.path == MANIFEST else f for f in self.files)
        return Bundle(self.device_id, files, self.steps, drift_key)


def _manifest_file(manifest: dict) -> BundleFile:
    # Only root may read it; it holds no secret and no bare hash of one, but it says which files are secret.
    return BundleFile(MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode(), 0o600)


@lru_cache(maxsize=None)
def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8"))


def _render(name: str, **values: str) -> bytes:
    # substitute (not safe_substitute): a template asking for a value we did not give is a bug, not a blank.
    return _template(name).substitute(values).encode("utf-8")


def keyfile_escape(value: str) -> str:
    """Escape a string value the way GLib's g_key_file_set_string writes it (and its reader takes it back)."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    body = out.lstrip(" ")
    return "\\s" * (len(out) - len(body)) + body  # GLib drops leading spaces unless escaped, as it writes them


def keyfile_ssid(ssid: str) -> str:
    """An SSID as NetworkManager's own keyfile writer puts it (libnm-core nm-keyfile.c, ssid_writer).

    Printable ASCII is written as a string with every ';' escaped as '\\;' (then escaped for GLib), so an SSID like
    '12;34;' cannot read back as the byte list 12, 34; anything else (UTF-8, control characters) as NM's list of
    byte values '72;195;164;'. NM's reader (get_bytes) takes both back byte for byte.
    """
    raw = ssid.encode("utf-8")
    if all(0x20 <= b <= 0x7E for b in raw):
        return keyfile_escape(ssid.replace(";", "\\;"))
    return "".join(f"{b};" for b in raw)


def debian_sources(mirror: str = DEBIAN_MIRROR, security: str = DEBIAN_SECURITY) -> str:
    """/etc/apt/sources.list for Debian 12: bookworm and bookworm-updates from `mirror`, bookworm-security from
    `security`, each with main and non-free-firmware. The one place this text is made (the device's bundle; a root
    built for the installer stick may use it too). ValueError for a mirror that is no single http(s) or file URI."""
    for uri in (mirror, security):
        if not _APT_URI.fullmatch(uri):
            raise ValueError(f"{uri!r} is no mirror address like {DEBIAN_MIRROR}")
    return _render("sources.list", mirror=mirror, security=security).decode("utf-8")


def _shift(clock: str, minutes: int) -> str:
    hours, mins = map(int, clock.split(":"))
    total = (hours * 60 + mins + minutes) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def upgrade_time(window_start: str) -> str:
    """An hour before the nightly window, so an update that needs a reboot gets it the same night."""
    return _shift(window_start, -60)


def nightly_window(target: Target) -> str:
    """The kiosk's nightly window (restart, and reboot for updates): the list's health.nightly_restart, else the hour
    from reboot_time on."""
    return target.config.health.nightly_restart or f"{target.reboot_time}-{_shift(target.reboot_time, 60)}"


def cage_options(rotate: int) -> str:
    """cage's options: no client-side decorations; -r turns the output 90 degrees clockwise, given once per turn."""
    if rotate not in (0, 90, 180, 270):
        raise ValueError(f"rotate must be 0, 90, 180 or 270, not {rotate!r}")
    return " ".join(["-d"] + ["-r"] * (rotate // 90))


def render_bundle(target: Target, psk: str | None, kiosk_source: str | None = None, jwt: str | None = None,
                  offline: bool = False, wg_key: str | None = None) -> Bundle:
    """The files and steps for one device. `psk` is the home's Wi-Fi password (None for a cabled home); `jwt` the
    device's login token for the city's Jitsi (needed when the device list sets jitsi_token); `wg_key` the device's
    WireGuard private key (needed when the list has a fleet: block)."""
    device, home = target.device, target.home
    window = nightly_window(target)
    window_start, window_end = window.split("-")
    # Family photos, scaled down for the screen; the kiosk user reads them, nobody else needs to.
    config, photos = device_photos(target.config, Path(target.list_dir))
    # Always a nightly window: the kiosk restarts there, and reboots there when an update needs it (and only there).
    # A fleet device always writes its figures: node_exporter serves them to the hub's Prometheus.
    metrics = config.health.metrics_file or (FLEET_METRICS_FILE if target.tunnel_address else None)
    config = config.model_copy(update={"health": config.health.model_copy(update={"nightly_restart": window,
                                                                                  "metrics_file": metrics})})
    config_text = (f"# Kiosk config for {device.id}, rendered by palim-provision: edit the device list, not this file.\n"
                   + dump_config(config))
    # The PIN hash is secret-derived: masked in every diff, and the config's fingerprint is keyed.
    pin_hash = (target.config.admin_pin_hash,) if target.config.admin_pin_hash else ()
    files = [
        BundleFile(str(DEFAULT_CONFIG_PATH), config_text.encode("utf-8"), 0o640, "root", KIOSK_USER, secrets=pin_hash),
        BundleFile(f"/etc/systemd/system/{UNIT}",
                   _render("palim-kiosk.service", device_id=device.id,
                           kiosk_bin=RELEASE_KIOSK_BIN if target.updates else KIOSK_BIN,
                           release_hooks=RELEASE_HOOKS if target.updates else "",
                           config_path=str(DEFAULT_CONFIG_PATH), user=KIOSK_USER, pam_name=PAM_NAME,
                           cage_options=cage_options(target.rotate), window=window,
                           # HHMM as a number, as `date +%H%M` gives it in the unit's shell (no leading zero)
                           window_start=str(int(window_start.replace(":", ""))),
                           window_end=str(int(window_end.replace(":", "")))), 0o644),
        BundleFile(f"/etc/pam.d/{PAM_NAME}", _render("pam-palim-kiosk"), 0o644),
        BundleFile(SYSUSERS, _render("sysusers-palim-kiosk.conf", user=KIOSK_USER, home=KIOSK_HOME), 0o644),
        BundleFile(TMPFILES, _render("tmpfiles-palim-kiosk.conf", user=KIOSK_USER, home=KIOSK_HOME), 0o644),
        BundleFile("/etc/systemd/logind.conf.d/palim-kiosk.conf", _render("logind-palim-kiosk.conf"), 0o644),
        BundleFile("/etc/systemd/sleep.conf.d/palim-kiosk.conf", _render("sleep-palim-kiosk.conf"), 0o644),
        BundleFile("/etc/udev/rules.d/70-palim-backlight.rules", _render("udev-palim-backlight.rules"), 0o644),
        BundleFile(SOURCES_LIST, debian_sources().encode("utf-8"), 0o644),
        BundleFile("/etc/apt/apt.conf.d/20auto-upgrades", _render("20auto-upgrades"), 0o644),
        BundleFile(INITRAMFS_HOOK, _render("initramfs-reboot-required"), 0o755),
        BundleFile("/etc/apt/apt.conf.d/52palim-unattended-upgrades",
                   _render("52palim-unattended-upgrades", window=window,
                           kiosk_releases=unattended_origin(target.updates)), 0o644),
        BundleFile("/etc/systemd/system/apt-daily-upgrade.timer.d/palim.conf",
                   _render("apt-daily-upgrade-palim.conf", window=window, upgrade_time=upgrade_time(window_start)),
                   0o644),
        BundleFile("/etc/hostname", f"{device.id}\n".encode(), 0o644),
    ]
    files += [BundleFile(path, content, 0o640, "root", KIOSK_USER) for path, content in photos]
    # The city's signed kiosk releases, and the switch that lets a release prove itself (kiosk/releaseswitch.py).
    files += [BundleFile(path, content, 0o644) for path, content in update_files(target.updates,
                                                                                  Path(target.list_dir))]
    if target.updates:
        files.append(BundleFile(RELEASE_SWITCH, (resources.files("kiosk") / "releaseswitch.py").read_bytes(), 0o755))
    if home.wifi is not None:
        if psk is None:
            raise ValueError(f"the Wi-Fi password for home '{target.home_key}' is needed to render {device.id}")
        connection = f"palim-{target.home_key}"
        files.append(BundleFile(
            f"/etc/NetworkManager/system-connections/{connection}.nmconnection",
            _render("wifi.nmconnection", home_name=home.name, connection_id=connection,
                    uuid=str(uuid.uuid5(NM_NAMESPACE, f"{device.id}/{home.wifi.ssid}")),
                    ssid=keyfile_ssid(home.wifi.ssid), hidden="true" if home.wifi.hidden else "false",
                    psk=keyfile_escape(psk)),
            0o600, secrets=(psk, keyfile_escape(psk))))
    if target.config.jwt_file is not None:
        if not jwt:
            raise ValueError(f"the login token for {device.id} is needed to render it (jitsi_token)")
        # Only the kiosk reads it; a secret file: masked in every diff, its fingerprint keyed.
        files.append(BundleFile(target.config.jwt_file, f"{jwt}\n".encode(), 0o640, "root", KIOSK_USER,
                                secrets=(jwt,)))
    steps = device_steps(device.id, UNIT, SYSUSERS, kiosk_source, offline=offline, tmpfiles_conf=TMPFILES)
    if target.tunnel_address is not None:
        if not wg_key:
            raise ValueError(f"the WireGuard key for {device.id} is needed to render it (fleet)")
        files += fleet_files(target, wg_key, str(Path(metrics).parent))
        steps += fleet_steps(WG_UNIT, NODE_EXPORTER_UNIT, FLEET_TMPFILES, offline)
    if target.admin_ssh_keys is not None:
        files += ssh_files(device.id, target.admin_ssh_keys, target.tunnel_address)
        steps += ssh_steps(bool(target.admin_ssh_keys), offline)
    if target.updates:  # unattended-upgrades upgrades what is installed: the first release comes from apply
        steps += (Step("install the kiosk's release from the city's repository (apt)",
                       (("apt-get", "update", "-q"), ("apt-get", "install", "-y", "-q", "palim-kiosk")), APT_ENV),)
    # The manifest goes last; apply replaces it with one keyed by the device's drift key (Bundle.keyed).
    return Bundle(device.id, tuple(files) + (_manifest_file(Bundle(device.id, tuple(files), steps).manifest()),),
                  steps)


FLEET_TMPFILES = "/etc/tmpfiles.d/palim-fleet.conf"


def fleet_files(target: Target, wg_key: str, textfile_dir: str) -> list[BundleFile]:
    """The tunnel to the hub (wg-quick's config, root-only: it holds the private key), its retry, the sysctl that
    lets SSH and node_exporter listen on the tunnel address before the tunnel is up, and node_exporter's drop-in."""
    fleet = target.fleet
    network = fleet.net
    address = target.tunnel_address
    listen = f"[{address}]:{NODE_EXPORTER_PORT}" if ":" in address else f"{address}:{NODE_EXPORTER_PORT}"
    return [
        BundleFile(WG_CONF, _render("wg-palim0.conf", device_id=target.id, interface=INTERFACE, private_key=wg_key,
                                    address=address, prefix=str(network.prefixlen),
                                    hub_public_key=fleet.hub_public_key, endpoint=fleet.endpoint,
                                    network=str(network), keepalive=str(fleet.keepalive)), 0o600, secrets=(wg_key,)),
        BundleFile(f"/etc/systemd/system/{WG_UNIT}.d/palim.conf", _render("wg-quick-palim.conf"), 0o644),
        BundleFile("/etc/sysctl.d/60-palim-fleet.conf", _render("sysctl-palim-fleet.conf"), 0o644),
        BundleFile(f"/etc/systemd/system/{NODE_EXPORTER_UNIT}.d/palim.conf",
                   _render("node-exporter-palim.conf", interface=INTERFACE, listen=listen, textfile_dir=textfile_dir,
                           unit=UNIT), 0o644),
        BundleFile(FLEET_TMPFILES, _render("tmpfiles-palim-fleet.conf", textfile_dir=textfile_dir, user=KIOSK_USER),
                   0o644),
    ]


def ssh_files(device_id: str, keys: tuple[str, ...], tunnel_address: str | None = None) -> list[BundleFile]:
    """sshd's drop-in (root, keys only; on the tunnel address only for a fleet device) and the keys file; public
    keys, so nothing here is secret."""
    header = (f"# Who may log in to {device_id} as root over SSH, rendered by palim-provision from admin_ssh_keys in\n"
              f"# the device list: edit it there. {'One key per line.' if keys else 'No keys: nobody may log in.'}\n")
    listen = ("# The city reaches the device through the fleet's tunnel only (fleet: in the device list).\n"
              f"ListenAddress {tunnel_address}\n") if tunnel_address else ""
    retry = [BundleFile("/etc/systemd/system/ssh.service.d/palim-fleet.conf",
                        _render("ssh-palim-fleet.conf", interface=INTERFACE), 0o644)] if tunnel_address else []
    return retry + [
        BundleFile(SSHD_DROPIN, _render("sshd-palim-admin.conf", device_id=device_id, keys_file=ADMIN_KEYS,
                                        listen=listen), 0o644),
        BundleFile(ADMIN_KEYS, (header + "".join(f"{key}\n" for key in keys)).encode(), 0o644),
    ]


def project_source() -> str | None:
    """The Palim project this code runs from (to pip install on the device), or None when not a source tree."""
    source = Path(__file__).resolve().parent.parent
    return str(source) if (source / "pyproject.toml").is_file() else None


def write_bundle(bundle: Bundle, out_dir: Path) -> list[Path]:
    """Write the bundle into OUT_DIR/<device id>/: every file at its device path with its mode, then manifest.json.

    Files of an earlier render are removed first. Returns the paths written, the manifest last; raises OSError.
    """
    base = Path(out_dir) / bundle.device_id
    if base.exists():
        shutil.rmtree(base)  # a bundle is the whole tree: files of an older render must not linger
    written = []
    for file in bundle.files:
        dest = base / file.path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, file.content, file.mode)
        written.append(dest)
    manifest = base / RENDERED_MANIFEST
    write_atomic(manifest, (json.dumps(bundle.manifest(), indent=2) + "\n").encode(), 0o600)
    written.append(manifest)
    return written
