"""The volume floor: what it reads, what it decides, which commands it runs."""

import logging

import pytest

from kiosk.volume import (
    Fix, Reading, VolumeFloor, amixer_commands, decide, parse_amixer, parse_wpctl, wpctl_commands,
)

AMIXER = """\
Simple mixer control 'Master',0
  Capabilities: pvolume pswitch pswitch-joined
  Playback channels: Front Left - Front Right
  Limits: Playback 0 - 87
  Mono:
  Front Left: Playback 17 [20%] [-52.50dB] [off]
  Front Right: Playback 35 [40%] [-39.00dB] [off]
"""


def test_parsing_what_the_tools_print():
    assert parse_wpctl("Volume: 0.40\n") == Reading(40, False)
    assert parse_wpctl("Volume: 1.00 [MUTED]\n") == Reading(100, True)
    assert parse_wpctl("Could not connect to PipeWire\n") is None
    assert parse_amixer(AMIXER) == Reading(20, True)
    assert parse_amixer(AMIXER.replace("[off]", "[on]")) == Reading(20, False)
    assert parse_amixer("amixer: Unable to find simple control 'Master',0\n") is None


@pytest.mark.parametrize("reading, minimum, fix", [
    (Reading(80, False), 60, Fix()),
    (Reading(60, False), 60, Fix()),
    (Reading(20, False), 60, Fix(raise_to=60)),
    (Reading(80, True), 60, Fix(unmute=True)),
    (Reading(0, True), 60, Fix(unmute=True, raise_to=60)),
    (Reading(0, True), 0, Fix()),  # 0: leave the speaker alone
    (None, 60, Fix()),
])
def test_decisions(reading, minimum, fix):
    assert decide(reading, minimum) == fix


def test_commands_per_tool():
    fix = Fix(unmute=True, raise_to=60)
    assert wpctl_commands(fix) == [["wpctl", "set-mute", "@DEFAULT_AUDIO_SINK@", "0"],
                                   ["wpctl", "set-volume", "@DEFAULT_AUDIO_SINK@", "0.60"]]
    assert amixer_commands(fix) == [["amixer", "-q", "sset", "Master", "60%", "unmute"]]
    assert amixer_commands(Fix()) == [] and wpctl_commands(Fix()) == []


class Tools:
    def __init__(self, present, outputs):
        self.present, self.outputs, self.ran = present, outputs, []

    def which(self, name):
        return f"/usr/bin/{name}" if name in self.present else None

    def run(self, command):
        self.ran.append(command)
        return self.outputs.get(command[1]) if command[1] in ("get-volume", "sget") else ""


def test_pipewire_first_then_alsa_then_a_log_line(caplog):
    tools = Tools({"wpctl", "amixer"}, {"get-volume": "Volume: 0.10 [MUTED]"})
    assert VolumeFloor(60, tools.run, tools.which).enforce() == Fix(unmute=True, raise_to=60)
    assert [c[:2] for c in tools.ran] == [["wpctl", "get-volume"], ["wpctl", "set-mute"], ["wpctl", "set-volume"]]

    # wpctl present but PipeWire not answering: ALSA does it.
    tools = Tools({"wpctl", "amixer"}, {"get-volume": None, "sget": AMIXER})
    assert VolumeFloor(50, tools.run, tools.which).enforce() == Fix(unmute=True, raise_to=50)
    assert tools.ran[-1] == ["amixer", "-q", "sset", "Master", "50%", "unmute"]

    # Neither: skipped, said once.
    tools = Tools(set(), {})
    floor = VolumeFloor(60, tools.run, tools.which)
    with caplog.at_level(logging.INFO, logger="kiosk.volume"):
        assert floor.enforce() is None and floor.enforce() is None
    assert tools.ran == []
    assert sum("volume floor is skipped" in r.message for r in caplog.records) == 1


def test_loud_enough_changes_nothing_and_zero_reads_nothing():
    tools = Tools({"wpctl"}, {"get-volume": "Volume: 0.75"})
    assert VolumeFloor(60, tools.run, tools.which).enforce() == Fix()
    assert len(tools.ran) == 1
    tools = Tools({"wpctl"}, {"get-volume": "Volume: 0.00 [MUTED]"})
    assert VolumeFloor(0, tools.run, tools.which).enforce() == Fix() and tools.ran == []


# --------------------------------------------------------------------------- the call's − / + (issue 29)


def test_set_to_uses_the_floors_tool_and_never_goes_below_the_minimum():
    from kiosk.volume import VolumeFloor

    ran = []

    def run(command):
        ran.append(command)
        return "Volume: 0.70 [MUTED]\n" if command[1] == "get-volume" else ""

    floor = VolumeFloor(60, run=run, which=lambda tool: "/usr/bin/" + tool if tool == "wpctl" else None)
    assert floor.set_to(30) == 60
    assert ["wpctl", "set-mute", "@DEFAULT_AUDIO_SINK@", "0"] in ran
    assert ["wpctl", "set-volume", "@DEFAULT_AUDIO_SINK@", "0.60"] in ran
    ran.clear()
    assert floor.set_to(90) == 90 and ["wpctl", "set-volume", "@DEFAULT_AUDIO_SINK@", "0.90"] in ran
    assert VolumeFloor(60, run=run, which=lambda tool: None).set_to(90) is None  # no tool: nothing set


def test_set_to_through_alsa_when_there_is_no_pipewire():
    from kiosk.volume import VolumeFloor

    ran = []

    def run(command):
        ran.append(command)
        return AMIXER.replace("[off]", "[on]") if command[1] == "sget" else ""

    floor = VolumeFloor(0, run=run, which=lambda tool: "/usr/bin/" + tool if tool == "amixer" else None)
    assert floor.set_to(80) == 80 and ran[-1] == ["amixer", "-q", "sset", "Master", "80%"]


def test_call_volume_steps_never_below_the_floor_and_is_kept_for_the_next_call(tmp_path):
    from kiosk.speaker import CallVolume, stepped

    assert [stepped(70, -1, 60), stepped(60, -1, 60), stepped(95, +1, 60), stepped(10, -1, 0)] == [60, 60, 100, 10]
    volume = CallVolume(80, 60, tmp_path)
    assert volume.level == 80
    assert [volume.change(+1), volume.change(+1), volume.change(+1)] == [90, 100, 100]
    assert CallVolume(80, 60, tmp_path).level == 100  # kept: the next call (and the next start) begins there
    for _ in range(6):
        volume.change(-1)
    assert volume.level == 60 and (tmp_path / "call-volume").read_text() == "60\n"
    (tmp_path / "call-volume").write_text("loud\n")
    assert CallVolume(80, 60, tmp_path).level == 80  # a broken file: the device's default
    assert CallVolume(80, 90, tmp_path / "none").level == 90  # the default below the floor: the floor
