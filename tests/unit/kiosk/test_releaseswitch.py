"""The release switch's decisions, and its command line on a real folder (the current link, the state file):
1 installed; 2 tried at a quiet moment and good after 10 minutes; 3 fails at start and is rolled back to 2 and held;
4 taken; a release without READY=1 in 90 s rolled back; never a downgrade."""

from __future__ import annotations

import json
import os

import pytest

from kiosk import releaseswitch as rs
from kiosk.releaseswitch import on_installed, on_settle, on_stopped, on_switch, on_verdict

T0 = 1_800_000_000.0


def _state(**changes) -> dict:
    return {**rs.empty_state(), **changes}


def test_first_release_runs_newer_one_waits_for_a_quiet_moment_and_proves_itself():
    state, actions = on_installed(rs.empty_state(), "1")
    assert (state["current"], state["good"], actions) == ("1", "1", [("link", "1")])
    state, actions = on_installed(state, "2")
    assert (state["current"], state["candidate"], actions) == ("1", "2", [])  # nothing switches from dpkg
    state, actions = on_switch(state, T0, 100.0)
    assert state["current"] == "2" and state["trying"]["from"] == "1"
    assert actions == [("link", "2"), ("schedule", 90, "verdict"), ("schedule", 600, "settle")]
    state, actions = on_verdict(state, T0 + 90, ready=True)
    assert actions == [] and state["trying"] is not None
    state, actions = on_stopped(state, T0 + 100, "success")  # a nightly restart is no failure
    assert state["trying"]["failures"] == []
    assert on_settle(state, T0 + 300, ["1", "2"])[0]["trying"] is not None  # not yet
    state, actions = on_settle(state, T0 + 600, ["0.9", "1", "2"])
    assert (state["good"], state["previous"], state["trying"]) == ("2", "1", None)
    assert actions == [("purge", "0.9")]  # keep two


def test_a_release_that_exits_at_start_goes_back_and_is_held():
    state = _state(current="2", good="2", previous="1", candidate="3")
    state, _ = on_switch(state, T0, 5.0)
    for n, at in enumerate((T0 + 3, T0 + 8), 1):
        state, actions = on_stopped(state, at, "exit-code")
        assert actions == [] and len(state["trying"]["failures"]) == n
    state, actions = on_stopped(state, T0 + 13, "exit-code")
    assert actions == [("link", "2"), ("restart",)]
    assert (state["current"], state["held"], state["rollbacks_total"], state["trying"]) == ("2", ["3"], 1, None)
    incident = state["incidents"][-1]
    assert (incident["version"], incident["back_to"]) == ("3", "2") and "3 times within 10 minutes" in incident[
        "reason"]
    # 3 is held: installing it again changes nothing, a switch does nothing; 4 is taken.
    assert on_installed(state, "3")[0]["candidate"] is None
    assert on_switch(dict(state, candidate="3"), T0 + 60, 70.0)[1] == []
    state, _ = on_installed(state, "4")
    state, actions = on_switch(state, T0 + 120, 130.0)
    assert state["current"] == "4" and actions[0] == ("link", "4")


def test_failures_further_apart_than_ten_minutes_do_not_add_up():
    state, _ = on_switch(_state(current="1", good="1", candidate="2"), T0, 1.0)
    for at in (T0 + 10, T0 + 400, T0 + 800, T0 + 1300):
        state, actions = on_stopped(state, at, "signal")
        assert actions == []


def test_no_ready_within_90_seconds_is_a_rollback():
    state, _ = on_switch(_state(current="1", good="1", candidate="2"), T0, 1.0)
    state, actions = on_verdict(state, T0 + 90, ready=False)
    assert actions == [("link", "1"), ("restart",)] and state["held"] == ["2"]
    assert "within 90 s" in state["incidents"][-1]["reason"]


def test_never_a_downgrade():
    state = _state(current="4", good="4")
    assert on_installed(state, "3")[0]["candidate"] is None
    assert on_installed(state, "4")[0]["candidate"] is None
    assert on_switch(dict(state, candidate="3"), T0, 1.0)[1] == []
    assert rs.newer("10", "9") and not rs.newer("1.10", "1.10") and rs.newer("1.10", "1.9")


def test_the_command_line_keeps_its_state_and_the_current_link(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PALIM_RELEASE_ROOT", str(tmp_path))
    for version in ("1", "2"):
        (tmp_path / "opt/palim-kiosk/releases" / version / "bin").mkdir(parents=True)
    called = []
    monkeypatch.setattr(rs.subprocess, "run", lambda cmd, **kw: called.append(cmd))
    assert rs.main(["installed", "1"]) == 0
    current = tmp_path / "opt/palim-kiosk/current"
    assert os.readlink(current) == "releases/1"
    assert rs.main(["installed", "2"]) == 0 and os.readlink(current) == "releases/1"
    assert rs.main(["switch"]) == 0 and os.readlink(current) == "releases/2"
    assert [c[0] for c in called] == ["systemd-run", "systemd-run"] and called[0][-1] == "verdict"
    for _ in range(3):
        rs.main(["stopped", "exit-code"])
    assert os.readlink(current) == "releases/1"
    assert called[-1] == ["systemctl", "--no-block", "restart", "palim-kiosk.service"]
    assert "release 2 rolled back to 1" in capsys.readouterr().out
    state_file = tmp_path / "var/lib/palim-kiosk-release/state.json"
    assert oct(state_file.stat().st_mode & 0o777) == "0o644"
    state = json.loads(state_file.read_text())
    assert (state["held"], state["rollbacks_total"]) == (["2"], 1)
    assert rs.main(["status"]) == 0 and '"rollbacks_total": 1' in capsys.readouterr().out
    assert rs.main(["nonsense"]) == 2


def test_the_release_a_python_runs_from(tmp_path):
    assert rs.running_release("/opt/palim-kiosk/releases/4") == "4"
    assert rs.running_release("/opt/palim-kiosk/venv") is None
