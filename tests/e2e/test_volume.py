"""The real kiosk process keeps a volume floor: at start and again right before the family's ring is heard."""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.helpers import config_text

ROOT = Path(__file__).resolve().parents[2]

# Stands for PipeWire's wpctl (its documented output: "Volume: 0.10 [MUTED]"); records how it was called.
FAKE_WPCTL = """#!/bin/sh
echo "$*" >> "{log}"
[ "$1" = get-volume ] && echo "Volume: 0.10 [MUTED]"
exit 0
"""


def test_a_knocked_down_volume_is_raised_at_start_and_before_the_ring(server, tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    calls = tmp_path / "wpctl.log"
    wpctl = tools / "wpctl"
    wpctl.write_text(FAKE_WPCTL.format(log=calls))
    wpctl.chmod(0o755)
    path = tmp_path / "kiosk.yaml"
    text = config_text(server, tmp_path) + "audio: {min_volume: 60}\n"
    path.write_text(text + f"presence: {{url: '{server.url}/room-size?room={{room}}&domain={server.xmpp_domain}', interval_s: 3}}\n")
    room = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("room: "))
    environment = dict(os.environ, PATH=f"{tools}:{os.environ['PATH']}")
    journal = tmp_path / "kiosk.log"
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(path), "--windowed"], cwd=ROOT,
                               env=environment, stdout=subprocess.DEVNULL, stderr=journal.open("w"), text=True)

    def reads() -> int:
        return calls.read_text().count("get-volume") if calls.exists() else 0

    try:
        deadline = time.monotonic() + 30
        while reads() < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reads() == 1, "no volume check at start"
        raised = "set-mute @DEFAULT_AUDIO_SINK@ 0\nset-volume @DEFAULT_AUDIO_SINK@ 0.60"
        while raised not in calls.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)  # the floor runs its three calls one after another in a thread of its own
        assert raised in calls.read_text()
        time.sleep(2)
        assert reads() == 1  # nothing in between: the next regular check is a minute away
        server.room_size[room] = 1  # the family waits in the room: the kiosk rings
        deadline = time.monotonic() + 20
        while reads() < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reads() == 2, "no volume check before the ring: " + journal.read_text()[-3000:]
    finally:
        server.room_size.pop(room, None)
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0, journal.read_text()[-3000:]
