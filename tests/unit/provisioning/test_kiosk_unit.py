"""The kiosk unit's software-rendering fallback: its shell lines, taken from the rendered unit and run with a fake cage.

cage's GLES renderer crashes at start on a GPU mesa cannot drive; when cage dies from a crash signal before the kiosk
said READY=1, ExecStopPost leaves a marker, and every later ExecStart runs cage with WLR_RENDERER=pixman.
"""

import os
import shlex
import subprocess

import pytest

from provisioning.bundle import render_bundle
from provisioning.devicelist import load_text

from .conftest import VALID

MARKER_DIR = "/var/lib/palim-renderer"
READY = "/run/palim-kiosk.ready"
CAGE = "/usr/bin/cage"


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
        self.ready = tmp_path / "run" / "palim-kiosk.ready"
        self.cage_log = tmp_path / "cage.env"
        cage = tmp_path / "cage"
        cage.write_text(f'#!/bin/sh\necho "WLR_RENDERER=${{WLR_RENDERER-}} XDG=$XDG_RUNTIME_DIR $*" > {self.cage_log}\n')
        cage.chmod(0o755)
        self.ready.parent.mkdir()
        for path in (MARKER_DIR, READY, CAGE):
            assert path in text
        text = text.replace(MARKER_DIR, str(self.marker_dir)).replace(READY, str(self.ready)).replace(CAGE, str(cage))
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
        result = subprocess.run(argv, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **env}, capture_output=True,
                                text=True, timeout=30)
        assert (result.returncode, result.stderr) == (0, ""), result
        return result.stdout

    def crash(self, result="core-dump", code="dumped", status="SEGV") -> str:
        return self.run("ExecStopPost", SERVICE_RESULT=result, EXIT_CODE=code, EXIT_STATUS=status)

    def start(self) -> str:
        self.run("ExecStart")
        return self.cage_log.read_text()


@pytest.fixture
def unit(tmp_path):
    return Unit(tmp_path)


def test_the_fallback_runs_as_root_and_never_fails_the_unit(unit):
    assert unit.one("ExecStartPost")[0] == "+-" and unit.one("ExecStopPost")[0] == "+-"
    assert unit.one("ExecStart")[0] == ""  # cage itself stays the kiosk user's


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
    unit.run("ExecStartPost")  # systemd runs it once the kiosk said READY=1
    assert unit.ready.exists()
    assert unit.crash() == ""
    assert not unit.marker.exists() and not unit.ready.exists()  # the next start is judged on its own
    unit.crash()
    assert unit.marker.exists()


def test_the_switch_is_logged_once(unit):
    assert unit.crash() != ""
    assert unit.crash() == "" and unit.crash("signal", "killed", "ABRT") == ""
    assert unit.start().startswith("WLR_RENDERER=pixman ")
