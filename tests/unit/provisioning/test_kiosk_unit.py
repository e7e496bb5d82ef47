"""The kiosk unit's own shell lines, taken from the rendered unit and run with a fake cage: the software-rendering
fallback, and the reboot for updates.

cage's GLES renderer crashes at start on a GPU mesa cannot drive; when cage dies from a crash signal before the kiosk
said READY=1 (systemd's timestamps: the unit did not become active since its main process started), ExecStopPost
leaves a marker, and every later ExecStart runs cage with WLR_RENDERER=pixman. `systemctl show` answers the two
timestamps as systemd would.

A reboot for updates (test_the_reboot_*): the kiosk leaves its marker in the RuntimeDirectory and quits; the second
ExecStopPost reboots only with that marker, /run/reboot-required and the clock inside the nightly window. `date`
answers the time the test sets, `systemctl --no-block reboot` only writes down that it was asked.
"""

import os
import shlex
import subprocess

import pytest

from kiosk.config import config_from_text
from kiosk.controllers.watchers import REBOOT_REQUIRED
from kiosk.health import REBOOT_MARKER
from provisioning.bundle import render_bundle
from provisioning.devicelist import load_text

from .helpers import VALID

MARKER_DIR = "/var/lib/palim-renderer"
CAGE = "/usr/bin/cage"
RUNTIME_DIR = "/run/palim-kiosk"
# `systemctl --no-block reboot` writes down that it was asked; `systemctl show -P PROPERTY UNIT` answers from the
# environment (microseconds since boot, as systemd prints them).
FAKE_SYSTEMCTL = """#!/bin/sh
if [ "$*" = "--no-block reboot" ]; then echo reboot >> "$FAKE_REBOOTS"; exit 0; fi
[ "$1 $2 $4" = "show -P palim-kiosk.service" ] || exit 1
case "$3" in
  ExecMainStartTimestampMonotonic) echo "$FAKE_STARTED";;
  ActiveEnterTimestampMonotonic) echo "$FAKE_READY";;
  *) exit 1;;
esac
"""
# The local time as the unit's shell asks for it (hours and minutes), whatever the test sets.
FAKE_DATE = """#!/bin/sh
[ "$*" = "+%H%M" ] || exit 1
echo "$FAKE_NOW"
"""


def _files(text: str = VALID) -> dict:
    bundle = render_bundle(load_text(text, "devices.yaml").targets[0], "psk")
    return {f.path: f for f in bundle.files}


def _unit_text(text: str = VALID) -> str:
    return _files(text)["/etc/systemd/system/palim-kiosk.service"].content.decode()


def _directives(text: str) -> list[tuple[str, str]]:
    """(key, value) of every setting, continuation lines joined as systemd does (the backslash becomes a space)."""
    joined = text.replace("\\\n", " ")
    return [tuple(line.split("=", 1)) for line in joined.splitlines()
            if "=" in line and not line.startswith(("#", ";", "["))]


def _argv(value: str) -> tuple[str, list[str]]:
    """A command line's prefixes and arguments, as systemd passes them: '$$' is a '$' for the shell, and no lone '$'
    is left for systemd to expand itself."""
    prefixes = value[:len(value) - len(value.lstrip("+-@:!"))]
    command = value[len(prefixes):]
    assert "$" not in command.replace("$$", ""), command
    assert "%" not in command.replace("%%", ""), command  # a unit specifier; '%%' is a '%'
    return prefixes, shlex.split(command.replace("$$", "$").replace("%%", "%"))


class Unit:
    """The rendered unit's commands, with its paths moved into a temporary directory."""

    def __init__(self, tmp_path, device_list: str = VALID):
        text = _unit_text(device_list)
        self.marker_dir = tmp_path / "state" / "palim-renderer"
        self.runtime_dir = tmp_path / "run" / "palim-kiosk"
        self.flag = tmp_path / "run" / "reboot-required"
        self.reboots = tmp_path / "reboots"
        self.cage_log = tmp_path / "cage.env"
        cage = tmp_path / "cage"
        cage.write_text(f'#!/bin/sh\necho "WLR_RENDERER=${{WLR_RENDERER-}} XDG=$XDG_RUNTIME_DIR $*" > {self.cage_log}\n')
        cage.chmod(0o755)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for name, script in (("systemctl", FAKE_SYSTEMCTL), ("date", FAKE_DATE)):
            (self.bin / name).write_text(script)
            (self.bin / name).chmod(0o755)
        for path in (MARKER_DIR, CAGE, RUNTIME_DIR, REBOOT_REQUIRED):
            assert path in text
        text = (text.replace(MARKER_DIR, str(self.marker_dir)).replace(CAGE, str(cage))
                .replace(RUNTIME_DIR, str(self.runtime_dir)).replace(REBOOT_REQUIRED, str(self.flag)))
        self.settings = dict(_directives(text))
        self.commands: dict[str, list[tuple[str, list[str]]]] = {}
        for key, value in _directives(text):
            if key.startswith("Exec"):
                self.commands.setdefault(key, []).append(_argv(value))

    @property
    def marker(self):
        return self.marker_dir / "pixman"

    def one(self, key: str) -> tuple[str, list[str]]:
        assert len(self.commands[key]) == 1, self.commands[key]
        return self.commands[key][0]

    def stop_post(self, what: str) -> tuple[str, list[str]]:
        """One of the two ExecStopPost lines: the renderer fallback first, then the reboot for updates."""
        renderer, reboot = self.commands["ExecStopPost"]
        return {"renderer": renderer, "reboot": reboot}[what]

    def run(self, key: str, **env: str) -> str:
        return self._run(self.one(key)[1], env)

    def _run(self, argv: list[str], env: dict[str, str]) -> str:
        result = subprocess.run(argv, env={"PATH": f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin", **env},
                                capture_output=True, text=True, timeout=30)
        assert (result.returncode, result.stderr) == (0, ""), result
        return result.stdout

    def crash(self, result="core-dump", code="dumped", status="SEGV", started="200000", ready="0") -> str:
        """ExecStopPost after cage ended so; by default before the unit ever became active (ready 0)."""
        return self._run(self.stop_post("renderer")[1], dict(
            SERVICE_RESULT=result, EXIT_CODE=code, EXIT_STATUS=status, FAKE_STARTED=started, FAKE_READY=ready))

    def stopped(self, now: str, marker: bool = True, flag: bool = True) -> tuple[str, int]:
        """The reboot line after the kiosk quit at `now` (HHMM): with or without the kiosk's marker and the update's
        flag (naming two packages). Its journal lines, and how often it asked systemd to reboot."""
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        if marker:
            (self.runtime_dir / REBOOT_MARKER).touch()
        if flag:
            self.flag.touch()
            self.flag.with_name("reboot-required.pkgs").write_text("linux-image-6.1.0-99-amd64\nintel-microcode\n")
        # As systemd runs it after cage exited 0 (cage 0.1.4 passes no exit code on).
        out = self._run(self.stop_post("reboot")[1], dict(SERVICE_RESULT="success", EXIT_CODE="exited",
                                                          EXIT_STATUS="0", FAKE_NOW=now,
                                                          FAKE_REBOOTS=str(self.reboots)))
        return out, len(self.reboots.read_text().splitlines()) if self.reboots.exists() else 0

    def start(self) -> str:
        self.run("ExecStart")
        return self.cage_log.read_text()


@pytest.fixture
def unit(tmp_path):
    return Unit(tmp_path)


def test_the_fallback_runs_as_root_and_never_fails_the_unit(unit):
    assert unit.stop_post("renderer")[0] == "+-"
    assert unit.one("ExecStart")[0] == ""  # cage itself stays the kiosk user's
    # Nothing may run beside cage once it holds tty1: the VM test saw an ExecStartPost end cage's seat.
    assert "ExecStartPost" not in unit.commands


def test_cage_uses_the_gpu_until_a_crash_before_ready(unit):
    assert unit.start() == ("WLR_RENDERER= XDG=/run/user/%d -d -- /opt/palim-kiosk/venv/bin/palim-kiosk "
                            "--config /etc/palim-kiosk/kiosk.yaml\n" % os.getuid())
    out = unit.crash()
    assert unit.marker.exists()
    assert out == ("<4>cage crashed (SEGV) before the kiosk was ready: from now on this device uses software "
                   f"rendering (WLR_RENDERER=pixman); to try the GPU again: rm {unit.marker}\n")
    assert unit.start().startswith("WLR_RENDERER=pixman XDG=/run/user/")


@pytest.mark.parametrize("result, code, status", [
    ("core-dump", "dumped", "SEGV"), ("core-dump", "dumped", "ABRT"), ("signal", "killed", "SEGV"),
    ("signal", "killed", "ABRT"), ("signal", "killed", "BUS"),
])
def test_a_crash_signal_before_ready_switches_to_software_rendering(unit, result, code, status):
    assert f"({status})" in unit.crash(result, code, status)
    assert unit.marker.exists()


@pytest.mark.parametrize("result, code, status", [
    ("success", "exited", "0"),  # the kiosk quit, cage with it
    ("exit-code", "exited", "1"),  # cage could not start (no seat, no DRM device): not the renderer
    ("success", "killed", "TERM"),  # systemctl stop or restart
    ("timeout", "killed", "TERM"),  # a slow start is not a crash
    ("signal", "killed", "KILL"),  # the OOM killer, or someone's kill -9
    ("watchdog", "dumped", "ABRT"),  # the watchdog's own SIGABRT
])
def test_other_ends_keep_the_gpu(unit, result, code, status):
    assert unit.crash(result, code, status) == ""
    assert not unit.marker_dir.exists()


def test_a_crash_after_ready_keeps_the_gpu(unit):
    assert unit.crash(started="200000", ready="250000") == ""  # active since this start: READY=1 came
    assert not unit.marker_dir.exists()
    assert unit.crash(started="300000", ready="250000") != ""  # active only in an earlier start: this one crashed
    assert unit.marker.exists()


@pytest.mark.parametrize("started, ready", [("", "0"), ("200000", ""), ("", "")])
def test_when_systemd_cannot_say_the_gpu_stays(unit, started, ready):
    assert unit.crash(started=started, ready=ready) == ""
    assert not unit.marker_dir.exists()


def test_the_switch_is_logged_once(unit):
    assert unit.crash() != ""
    assert unit.crash() == "" and unit.crash("signal", "killed", "ABRT") == ""
    assert unit.start().startswith("WLR_RENDERER=pixman ")


# --------------------------------------------------------------------------- the reboot for updates

MIDNIGHT = VALID.replace("defaults:\n", "defaults:\n  reboot_time: \"23:30\"\n")


def test_the_reboot_runs_as_root_never_fails_the_unit_and_reads_what_the_kiosk_leaves(unit):
    assert unit.stop_post("reboot")[0] == "+-"
    # The kiosk writes its marker into $RUNTIME_DIRECTORY (kiosk/controllers/health.py), which the unit names.
    assert unit.settings["RuntimeDirectory"] == "palim-kiosk"
    text = _unit_text()
    assert f"[ -e /run/palim-kiosk/{REBOOT_MARKER} ] || exit 0;" in text
    assert f"if [ ! -e {REBOOT_REQUIRED} ];" in text  # the flag the kiosk itself looks at (watchers.py)


def test_the_reboot_window_is_the_kiosks_nightly_window():
    config = config_from_text(_files()["/etc/palim-kiosk/kiosk.yaml"].content.decode())
    assert config.health.nightly_restart == "03:30-04:30"  # reboot_time (the default 03:30) and the hour after it
    assert "outside the nightly window 03:30-04:30: not rebooting" in _unit_text()


@pytest.mark.parametrize("now", ["0330", "0331", "0400", "0429"])
def test_the_reboot_happens_with_marker_and_flag_inside_the_window(unit, now):
    out, reboots = unit.stopped(now)
    assert reboots == 1
    assert out == "<5>rebooting for updates: linux-image-6.1.0-99-amd64 intel-microcode\n"


@pytest.mark.parametrize("now", ["0329", "0430", "0431", "0900", "1400", "2359", "0000"])
def test_never_by_day_nor_outside_the_window(unit, now):
    out, reboots = unit.stopped(now)
    assert reboots == 0
    assert out == (f"<4>the kiosk quit for a reboot for updates at {now}, outside the nightly window 03:30-04:30: "
                   "not rebooting\n")


@pytest.mark.parametrize("now, reboots", [("2330", 1), ("2359", 1), ("0000", 1), ("0015", 1), ("0029", 1),
                                          ("0030", 0), ("0300", 0), ("1200", 0), ("2329", 0)])
def test_a_window_across_midnight(tmp_path, now, reboots):
    unit = Unit(tmp_path, MIDNIGHT)
    assert "nightly window 23:30-00:30" in _unit_text(MIDNIGHT)
    assert unit.stopped(now)[1] == reboots


def test_no_reboot_without_the_kiosks_marker(unit):
    # The nightly restart, staff quitting, a crash, systemctl stop: cage exits 0 for all of them.
    assert unit.stopped("0345", marker=False) == ("", 0)


def test_no_reboot_when_no_update_asks_for_one(unit):
    out, reboots = unit.stopped("0345", flag=False)
    assert reboots == 0 and "none is needed any more (no " in out and out.endswith("): not rebooting\n")


def test_the_reboot_without_the_package_list_still_happens(unit):
    unit.runtime_dir.mkdir(parents=True)
    (unit.runtime_dir / REBOOT_MARKER).touch()
    unit.flag.parent.mkdir(parents=True, exist_ok=True)
    unit.flag.touch()
    out = unit._run(unit.stop_post("reboot")[1], dict(FAKE_NOW="0345", FAKE_REBOOTS=str(unit.reboots)))
    assert out == "<5>rebooting for updates: \n" and unit.reboots.read_text() == "reboot\n"


def test_each_stop_line_keeps_to_its_own_case(unit):
    # A reboot for updates (cage exited 0): the renderer stays as it is.
    assert unit.stopped("0345")[1] == 1
    assert unit.crash("success", "exited", "0") == "" and not unit.marker_dir.exists()
    # A crash before ready: software rendering from now on, and no reboot without the kiosk's marker.
    (unit.runtime_dir / REBOOT_MARKER).unlink()
    assert unit.crash() != "" and unit.marker.exists()
    assert unit.stopped("0345", marker=False) == ("", 1)  # still only the one reboot from before
