"""Render: every generated file parses, the units pass systemd-analyze verify, the kiosk reads its config."""

import configparser
import json
import shutil
import stat
import subprocess
from pathlib import Path

from kiosk.config import config_from_text
from provisioning.bundle import keyfile_escape, project_source, render_bundle, upgrade_time, write_bundle
from provisioning.devicelist import load_text
from tests.requirements import need_tool

from .helpers import VALID

PSK = "Sonnen;schein 42\\"


def _bundle(text=VALID, index=0, psk=PSK):
    return render_bundle(load_text(text, "devices.yaml").targets[index], psk)


def _files(bundle):
    return {f.path: f for f in bundle.files}


def _ini(content: bytes) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # keys are case-sensitive in units and keyfiles
    parser.read_string(content.decode())
    return parser


def test_kiosk_config_round_trips_through_the_kiosks_own_model():
    target = load_text(VALID, "devices.yaml").targets[1]
    files = _files(render_bundle(target, PSK))
    config = files["/etc/palim-kiosk/kiosk.yaml"]
    # What the list says, and always a nightly window (here the hour from the default reboot_time, 03:30).
    health = target.config.health.model_copy(update={"nightly_restart": "03:30-04:30"})
    assert config_from_text(config.content.decode(), "kiosk.yaml") == target.config.model_copy(update={"health": health})
    assert (config.mode, config.owner, config.group) == (0o640, "root", "kiosk")


def test_unit_runs_the_kiosk_under_cage_as_the_kiosk_user():
    unit = _ini(_files(_bundle())["/etc/systemd/system/palim-kiosk.service"].content)
    service = unit["Service"]
    # exec keeps cage the main process (systemd hears its child's READY=1); the runtime dir is the lingering user's.
    # (WLR_RENDERER=pixman after a GPU crash: test_kiosk_unit.py)
    assert service["ExecStart"].endswith("""; XDG_RUNTIME_DIR="/run/user/$$(id -u)" exec /usr/bin/cage -d -- """
                                         """/opt/palim-kiosk/venv/bin/palim-kiosk --config /etc/palim-kiosk/kiosk.yaml'""")
    assert service["ExecStartPre"] == """+/bin/sh -c 'systemctl start "user@$$(id -u kiosk).service"'"""
    assert {k: service[k] for k in ("Type", "NotifyAccess", "WatchdogSec", "Restart", "RestartSec", "User",
                                    "PAMName", "TTYPath")} == {
        "Type": "notify", "NotifyAccess": "all", "WatchdogSec": "30", "Restart": "always", "RestartSec": "2",
        "User": "kiosk", "PAMName": "palim-kiosk", "TTYPath": "/dev/tty1"}
    assert unit["Unit"]["Conflicts"] == "getty@tty1.service"
    assert unit["Install"]["WantedBy"] == "graphical.target"


def test_wifi_keyfile_is_root_only_and_reads_back_the_password():
    files = _files(_bundle())
    keyfile = files["/etc/NetworkManager/system-connections/palim-ebh.nmconnection"]
    assert (keyfile.mode, keyfile.owner, keyfile.group) == (0o600, "root", "root")
    parsed = _ini(keyfile.content)
    assert parsed["wifi"]["ssid"] == "EBH-Bewohner"
    assert parsed["wifi-security"]["psk"] == keyfile_escape(PSK) == "Sonnen;schein 42\\\\"
    assert parsed["connection"]["uuid"] == _ini(_files(_bundle())[keyfile.path].content)["connection"]["uuid"]


def test_every_ini_file_parses_and_the_rest_are_what_they_claim():
    files = _files(_bundle())
    for path in ("/etc/systemd/logind.conf.d/palim-kiosk.conf", "/etc/systemd/sleep.conf.d/palim-kiosk.conf",
                 "/etc/systemd/system/apt-daily-upgrade.timer.d/palim.conf"):
        assert _ini(files[path].content).sections()
    assert _ini(files["/etc/systemd/logind.conf.d/palim-kiosk.conf"].content)["Login"]["HandleLidSwitch"] == "ignore"
    assert files["/etc/hostname"].content == b"ebh-01\n"
    assert b'Automatic-Reboot "false"' in files["/etc/apt/apt.conf.d/52palim-unattended-upgrades"].content
    assert b"Automatic-Reboot-Time" not in files["/etc/apt/apt.conf.d/52palim-unattended-upgrades"].content
    assert b"${distro_codename}" in files["/etc/apt/apt.conf.d/52palim-unattended-upgrades"].content
    sysusers = files["/etc/sysusers.d/palim-kiosk.conf"].content.decode()
    assert 'u kiosk - "Palim kiosk" /var/lib/palim-kiosk /usr/sbin/nologin' in sysusers
    pam = [line.split() for line in files["/etc/pam.d/palim-kiosk"].content.decode().splitlines()
           if line.strip() and not line.startswith("#")]
    # No logind session: it would move the kiosk out of its unit, and systemd would not hear READY=1 and WATCHDOG=1.
    assert ["session", "required", "pam_unix.so"] in pam and not [p for p in pam if "pam_systemd.so" in p]
    manifest = json.loads(files["/var/lib/palim-provision/manifest.json"].content)
    assert {f["path"] for f in manifest["files"]} == set(files) - {"/var/lib/palim-provision/manifest.json"}
    assert upgrade_time("00:30") == "23:30"


def test_a_cabled_home_gets_no_keyfile():
    text = VALID.replace("    wifi: {ssid: EBH-Bewohner, psk_env: EBH_PSK}\n", "")
    assert not any("NetworkManager" in path for path in _files(_bundle(text, psk=None)))


def test_units_pass_systemd_analyze_verify(tmp_path):
    systemd_analyze = need_tool("systemd-analyze", apt="systemd")
    files = _files(_bundle())
    (tmp_path / "palim-kiosk.service").write_bytes(files["/etc/systemd/system/palim-kiosk.service"].content)
    units = [str(tmp_path / "palim-kiosk.service")]
    timer = Path("/lib/systemd/system/apt-daily-upgrade.timer")
    if timer.exists():  # the drop-in is checked together with the unit it changes
        shutil.copy(timer, tmp_path)
        (tmp_path / "apt-daily-upgrade.timer.d").mkdir()
        (tmp_path / "apt-daily-upgrade.timer.d" / "palim.conf").write_bytes(
            files["/etc/systemd/system/apt-daily-upgrade.timer.d/palim.conf"].content)
        units.append(str(tmp_path / "apt-daily-upgrade.timer"))
    result = subprocess.run([systemd_analyze, "verify", *units], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")


def test_write_bundle_writes_every_file_with_its_mode_and_the_manifest_last(tmp_path):
    bundle = _bundle()
    stale = tmp_path / "ebh-01" / "etc" / "left-over"
    stale.parent.mkdir(parents=True)
    stale.write_text("from an older render")
    written = write_bundle(bundle, tmp_path)
    base = tmp_path / "ebh-01"
    assert written == [base / f.path.lstrip("/") for f in bundle.files] + [base / "manifest.json"]
    for file in bundle.files:
        dest = base / file.path.lstrip("/")
        assert stat.S_IMODE(dest.stat().st_mode) == file.mode, file.path
        assert dest.read_bytes() == file.content
    assert stat.S_IMODE(written[-1].stat().st_mode) == 0o600
    assert json.loads(written[-1].read_text()) == bundle.manifest()
    assert not stale.exists(), "a render replaces the whole tree"
    assert not list(tmp_path.rglob("*.palim-tmp"))


def test_project_source_is_this_checkout():
    assert project_source() == str(Path(__file__).resolve().parents[3])


def test_the_kiosk_users_home_is_made_at_boot_by_the_real_systemd_tmpfiles(tmp_path):
    """Before the user's own services start (wireplumber keeps its state there), not only when the kiosk starts."""
    bundle = _bundle()
    root = tmp_path / "root"
    for path in ("/etc/tmpfiles.d/palim-kiosk.conf", "/etc/sysusers.d/palim-kiosk.conf"):
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(_files(bundle)[path].content)
    (root / "etc/passwd").write_text("kiosk:x:996:996:Palim kiosk:/var/lib/palim-kiosk:/usr/sbin/nologin\n")
    (root / "etc/group").write_text("kiosk:x:996:\n")
    proc = subprocess.run([need_tool("systemd-tmpfiles", apt="systemd"), f"--root={root}", "--create",
                           "palim-kiosk.conf"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    home = (root / "var/lib/palim-kiosk").stat()
    assert (stat.S_IMODE(home.st_mode), home.st_uid, home.st_gid) == (0o755, 996, 996)
    titles = [s.title for s in bundle.steps]
    assert titles.index("create kiosk's home now (systemd-tmpfiles; at every boot too)") == \
        titles.index("create the kiosk user (systemd-sysusers)") + 1


def test_the_video_group_may_turn_the_backlight_down_at_night():
    rule = _files(_bundle())["/etc/udev/rules.d/70-palim-backlight.rules"]
    assert rule.mode == 0o644
    line = [l for l in rule.content.decode().splitlines() if l and not l.startswith("#")]
    assert line == ['ACTION=="add", SUBSYSTEM=="backlight", RUN+="/bin/chgrp video /sys%p/brightness", '
                    'RUN+="/bin/chmod g+w /sys%p/brightness"']
    assert "m kiosk video" in _files(_bundle())["/etc/sysusers.d/palim-kiosk.conf"].content.decode()
