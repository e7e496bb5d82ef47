"""Security updates for real: the device's package sources, what unattended-upgrades may install (read back by the
real apt-config), when it runs, the nightly window every kiosk gets, and the hook that asks for a reboot after a new
initramfs (microcode). That unattended-upgrades then picks a security update: tests/system/test_security_updates.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from kiosk.config import config_from_text
from provisioning.bundle import (
    DEBIAN_MIRROR, DEBIAN_SECURITY, INITRAMFS_HOOK, SOURCES_LIST, debian_sources, nightly_window, render_bundle,
    upgrade_time,
)
from provisioning.devicelist import load_text
from tests.requirements import need_tool

from .helpers import VALID

UU_CONF = "/etc/apt/apt.conf.d/52palim-unattended-upgrades"
TIMER = "/etc/systemd/system/apt-daily-upgrade.timer.d/palim.conf"
# The active lines of Debian 12's /etc/apt/apt.conf.d/50unattended-upgrades (unattended-upgrades 2.9.1+nmu3), which
# apt reads before palim's 52 file.
DEBIAN_DEFAULT = """\
Unattended-Upgrade::Origins-Pattern {
        "origin=Debian,codename=${distro_codename},label=Debian";
        "origin=Debian,codename=${distro_codename},label=Debian-Security";
        "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";
};
Unattended-Upgrade::Package-Blacklist {
};
"""


def _files(text: str = VALID, index: int = 0) -> dict:
    return {f.path: f for f in render_bundle(load_text(text, "devices.yaml").targets[index], "psk12345").files}


def _with_defaults(line: str) -> str:
    return VALID.replace("defaults:\n", f"defaults:\n{line}\n")


def test_the_device_gets_bookworm_its_updates_and_its_security_updates():
    sources = _files()[SOURCES_LIST]
    assert (sources.mode, sources.owner, sources.group) == (0o644, "root", "root")
    text = sources.content.decode()
    assert text == debian_sources()
    assert "written by palim-provision" in text.splitlines()[0]
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "deb http://deb.debian.org/debian bookworm main non-free-firmware",
        "deb http://deb.debian.org/debian bookworm-updates main non-free-firmware",
        "deb http://security.debian.org/debian-security bookworm-security main non-free-firmware",
    ]
    assert (DEBIAN_MIRROR, DEBIAN_SECURITY) == ("http://deb.debian.org/debian",
                                                "http://security.debian.org/debian-security")


def test_another_mirror_and_what_is_no_mirror():
    text = debian_sources("http://debian.stadt.example/debian", "http://debian.stadt.example/debian-security")
    assert "deb http://debian.stadt.example/debian bookworm-updates main non-free-firmware\n" in text
    assert "deb http://debian.stadt.example/debian-security bookworm-security main non-free-firmware\n" in text
    for bad in ("", "deb.debian.org/debian", "http://a b/debian", "http://x/\ndeb http://evil/ bookworm main",
                "ftp://deb.debian.org/debian"):
        with pytest.raises(ValueError, match="no mirror address"):
            debian_sources(bad)


def _apt_config(tmp_path, conf_files: dict[str, str]) -> str:
    """`apt-config dump` of exactly these files in apt.conf.d (nothing of this host's own apt config)."""
    parts = tmp_path / "apt.conf.d"
    parts.mkdir()
    for name, text in conf_files.items():
        (parts / name).write_text(text)
    main = tmp_path / "apt.conf"
    main.write_text(f'Dir::Etc::main "/dev/null";\nDir::Etc::parts "{parts}/";\n')
    result = subprocess.run([need_tool("apt-config", apt="apt"), "dump", "Unattended-Upgrade"],
                            env={**os.environ, "APT_CONFIG": str(main)}, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, ""), result
    return result.stdout


def test_apt_reads_exactly_palims_origins_and_no_reboot(tmp_path):
    files = _files()
    dump = _apt_config(tmp_path, {"20auto-upgrades": files["/etc/apt/apt.conf.d/20auto-upgrades"].content.decode(),
                                  "50unattended-upgrades": DEBIAN_DEFAULT,
                                  "52palim-unattended-upgrades": files[UU_CONF].content.decode()})
    origins = [line.split(" ", 1)[1] for line in dump.splitlines()
               if line.startswith("Unattended-Upgrade::Origins-Pattern:: ")]
    # Debian's own list is gone (#clear), palim's is the whole list: Debian-Security only for -security.
    assert origins == [
        '"origin=Debian,codename=${distro_codename}-security,label=Debian-Security";',
        '"origin=Debian,codename=${distro_codename}-updates,label=Debian";',
        '"origin=Debian,codename=${distro_codename},label=Debian";',
    ]
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in dump.splitlines()
    assert "Automatic-Reboot-Time" not in dump and "Allowed-Origins" not in dump


def test_every_kiosk_gets_a_nightly_window_from_reboot_time():
    assert nightly_window(load_text(VALID, "devices.yaml").targets[0]) == "03:30-04:30"  # the default reboot_time
    text = _with_defaults('  reboot_time: "23:30"')
    assert nightly_window(load_text(text, "devices.yaml").targets[0]) == "23:30-00:30"
    config = config_from_text(_files(text)["/etc/palim-kiosk/kiosk.yaml"].content.decode())
    assert config.health.nightly_restart == "23:30-00:30"
    # A home's reboot_time counts for its devices.
    home = VALID.replace("    name: EBH\n", "    name: EBH\n    reboot_time: \"02:15\"\n")
    assert [nightly_window(t) for t in load_text(home, "devices.yaml").targets] == ["02:15-03:15"] * 2


def test_a_window_the_list_names_is_kept_and_the_updates_come_an_hour_before_it():
    text = _with_defaults('  health: {nightly_restart: "01:00-02:30"}')
    files = _files(text)
    assert config_from_text(files["/etc/palim-kiosk/kiosk.yaml"].content.decode()).health.nightly_restart == \
        "01:00-02:30"
    timer = files[TIMER].content.decode()
    assert "OnCalendar=\nOnCalendar=*-*-* 00:00\nRandomizedDelaySec=30min\n" in timer
    assert "nightly window 01:00-02:30" in files["/etc/systemd/system/palim-kiosk.service"].content.decode()
    assert "(01:00-02:30)" in files[UU_CONF].content.decode()


def test_updates_are_installed_an_hour_before_the_window():
    assert "OnCalendar=*-*-* 02:30\n" in _files()[TIMER].content.decode()
    assert (upgrade_time("03:30"), upgrade_time("00:30"), upgrade_time("00:00")) == ("02:30", "23:30", "23:00")


# --------------------------------------------------------------------------- the initramfs hook (microcode)


def _hook(tmp_path, run_dir=None):
    hook = _files()[INITRAMFS_HOOK]
    assert (hook.mode, hook.owner) == (0o755, "root")
    assert hook.content.startswith(b"#!/bin/sh\n") and b"flag=/run/reboot-required\n" in hook.content
    script = tmp_path / "palim-reboot-required"
    script.write_bytes(hook.content.replace(b"flag=/run/reboot-required\n",
                                            f"flag={run_dir or tmp_path / 'run'}/reboot-required\n".encode()))
    script.chmod(0o755)
    return script


def _run_hook(script, *, user: list[str] = (), **env):
    # As update-initramfs runs it: run-parts --arg=VERSION --arg=INITRAMFS, from a package's trigger. The script
    # comes on stdin, so that another user may run it from a folder only root can enter.
    return subprocess.run([*user, "sh", "-s", "6.1.0-99-amd64", "/boot/initrd.img-6.1.0-99-amd64"],
                          input=script.read_text(), env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                          text=True, timeout=30)


def test_a_new_initramfs_asks_for_a_reboot_as_a_kernel_does(tmp_path):
    script = _hook(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "reboot-required.pkgs").write_text("linux-image-6.1.0-99-amd64\n")
    for _ in range(2):  # a second rebuild names the package once
        result = _run_hook(script, DPKG_MAINTSCRIPT_PACKAGE="initramfs-tools")
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert (tmp_path / "run" / "reboot-required").is_file()
    assert (tmp_path / "run" / "reboot-required.pkgs").read_text() == "linux-image-6.1.0-99-amd64\ninitramfs-tools\n"
    assert _run_hook(script).returncode == 0  # by hand: update-initramfs -u
    assert (tmp_path / "run" / "reboot-required.pkgs").read_text().endswith("initramfs-tools\nupdate-initramfs\n")


def test_the_hook_never_fails_a_package(tmp_path):
    assert _run_hook(_hook(tmp_path)).returncode == 0  # no run folder at all: nothing to do
    # A run folder it may not write to: silent, and still exit 0 (a failing hook fails the package's installation).
    run_dir = Path(tempfile.mkdtemp(prefix="palim-hook-"))
    try:
        run_dir.chmod(0o555)
        user = [need_tool("setpriv", apt="util-linux"), "--reuid=65534", "--regid=65534", "--clear-groups"] \
            if os.geteuid() == 0 else []  # root writes anywhere: run it as nobody
        result = _run_hook(_hook(tmp_path, run_dir), user=user)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        assert list(run_dir.iterdir()) == []
    finally:
        run_dir.chmod(0o755)
        shutil.rmtree(run_dir)
