"""The release watch: a newer release waits until the kiosk is quiet (no call, nothing ringing, no staff screen),
then the kiosk leaves the marker for the release switch; a rollback the switch recorded reaches the service screen's
incidents and the metrics."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from kiosk.controllers.release import SWITCH_MARKER, ReleaseWatch, leave_switch_marker
from kiosk.health import Health


def _state(path, **values):
    path.write_text(json.dumps(values))
    return path


def test_an_update_during_a_call_waits_until_the_call_ends(qtbot, tmp_path):
    state = _state(tmp_path / "state.json", candidate="3", current="2")
    in_call = [True]
    watch = ReleaseWatch(lambda: not in_call[0], state, release="2")
    asked = []
    watch.switch_due.connect(lambda: asked.append(True))
    watch.retry()  # the minute's look during the call
    assert asked == [] and watch.pending() == "3"
    in_call[0] = False
    watch.retry()  # the call ended: the screen changed back home
    assert asked == [True]
    watch.retry()
    assert asked == [True]  # once
    watch.shutdown()


def test_nothing_newer_nothing_held_and_outside_a_release_nothing(qtbot, tmp_path):
    for candidate, release in (("2", "2"), ("1.9", "2"), (None, "2"), ("5", None)):
        state = _state(tmp_path / "state.json", candidate=candidate)
        watch = ReleaseWatch(lambda: True, state, release=release)
        asked = []
        watch.switch_due.connect(lambda: asked.append(True))
        watch.retry()
        assert asked == [], (candidate, release)
        watch.shutdown()


def test_a_rollback_is_an_incident_and_counted(qtbot, tmp_path):
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    state = _state(tmp_path / "state.json", rollbacks_total=1,
                   incidents=[{"at": at, "version": "3", "back_to": "2", "reason": "stopped 3 times within 10 minutes"},
                              {"at": "2020-01-01T00:00:00+00:00", "version": "1", "back_to": "0.9", "reason": "old"}])
    watch = ReleaseWatch(lambda: True, state, release="2")
    with qtbot.waitSignal(watch.incident) as got:
        pass
    assert got.args == ["release", "release 3 went back to 2: stopped 3 times within 10 minutes; it stays held"]
    figures = Health(device="ebh-01", home="ebh", release=watch.release, rollbacks_total=watch.rollbacks_total)
    metrics = figures.metrics()
    assert 'palim_kiosk_release_info{version="2",device="ebh-01",home="ebh"} 1' in metrics
    assert 'palim_kiosk_rollbacks_total{device="ebh-01",home="ebh"} 1' in metrics
    watch.shutdown()


def test_the_marker_for_the_unit(tmp_path):
    assert leave_switch_marker(str(tmp_path)) and (tmp_path / SWITCH_MARKER).exists()
    assert not leave_switch_marker("")
