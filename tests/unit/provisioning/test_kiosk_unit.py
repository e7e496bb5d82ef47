"""The kiosk unit's software-rendering fallback: its shell lines, taken from the rendered unit and run with a fake cage.

cage's GLES renderer crashes at start on a GPU mesa cannot drive; when cage dies from a crash signal before the kiosk
said READY=1 (systemd's timestamps: the unit did not become active since its main process started), ExecStopPost
leaves a marker, and every later ExecStart runs cage with WLR_RENDERER=pixman. `systemctl show` is the one fake here:
it answers the two timestamps as systemd would.
"""

import os
import shlex
import subprocess

import pytest

from provisioning.bundle import render_bundle
from provisioning.devicelist import load_text

from .conftest import VALID

MARKER_DIR = "/var/lib/palim-renderer"
CAGE = "/usr/bin/cage"
# `systemctl show -P PROPERTY UNIT`, answering from the environment (microseconds since boot, as systemd prints them).
FAKE_SYSTEMCTL = """#!/bin/sh
[ "$1 $2 $4" = "show -P palim-kiosk.service" ] || exit 1
case "$3" in
  ExecMainStartTimestampMonotonic) echo "$FAKE_STARTED";;
  ActiveEnterTimestampMonotonic) echo "$FAKE_READY";;
  *) exit 1;;
esac
"""


def _unit_text() -> str:
    bundle = render_bundle(load_text(VALID, "devices.yaml").targets[0], "psk")
    return next(f for f in bundle.files if f.path == "/etc/systemd/system/palim-kiosk.service").content.decode()


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
    assert "%" not in command, command  # a unit specifier
    return prefixes, shlex.split(command.replace("$$", "$"))


class Unit:
    """The rendered unit's commands, with its paths moved into a temporary directory."""

    def __init__(self, tmp_path):
        text = _unit_text()
        self.marker_dir = tmp_path / "state" / "palim-renderer"
        self.cage_log = tmp_path / "cage.env"
        cage = tmp_path / "cage"
        cage.write_text(f'#!/bin/sh\necho "WLR_RENDERER=${{WLR_RENDERER-}} XDG=$XDG_RUNTIME_DIR $*" > {self.cage_log}\n')
        cage.chmod(0o755)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        (self.bin / "systemctl").write_text(FAKE_SYSTEMCTL)
        (self.bin / "systemctl").chmod(0o755)
        for path in (MARKER_DIR, CAGE):
            assert path in text
        text = text.replace(MARKER_DIR, str(self.marker_dir)).replace(CAGE, str(cage))
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

    def run(self, key: str, **env: str) -> str:
        _, argv = self.one(key)
        result = subprocess.run(argv, env={"PATH": f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin", **env},
                                capture_output=True, text=True, timeout=30)
        assert (result.returncode, result.stderr) == (0, ""), result
        return result.stdout

    def crash(self, result="core-dump", code="dumped", status="SEGV", started="200000", ready="0") -> str:
        """ExecStopPost after cage ended so; by default before the unit ever became active (ready 0)."""
        return self.run("ExecStopPost", SERVICE_RESULT=result, EXIT_CODE=code, EXIT_STATUS=status,
                        FAKE_STARTED=started, FAKE_READY=ready)

    def start(self) -> str:
        self.run("ExecStart")
        return self.cage_log.read_text()


@pytest.fixture
def unit(tmp_path):
    return Unit(tmp_path)


def test_the_fallback_runs_as_root_and_never_fails_the_unit(unit):
    assert unit.one("ExecStopPost")[0] == "+-"
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
