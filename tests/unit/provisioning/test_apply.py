"""Apply into a temporary root: writes once, then nothing; modes, owners, backups; failures leave old files."""

import json
import os
import stat

import pytest

from provisioning.apply import ApplyError, NotRecognised, apply_bundle, diff, drift_key, plan, recognise
from provisioning.bundle import render_bundle
from provisioning.devicelist import load_text
from provisioning.steps import Step, StepResult
from tests.requirements import need

from .helpers import VALID

PSK = "erstes-passwort"


def _bundle(index=0, psk=PSK):
    return render_bundle(load_text(VALID, "devices.yaml").targets[index], psk)


def test_first_run_writes_second_run_changes_nothing(tmp_path):
    bundle = _bundle()
    first = apply_bundle(bundle, tmp_path)
    assert first.summary() == f"{len(bundle.files)} changed, 0 unchanged"
    second = apply_bundle(bundle, tmp_path)
    assert second.summary() == f"0 changed, {len(bundle.files)} unchanged"
    assert second.backups == []
    for file in bundle.keyed(drift_key(tmp_path)).files:  # the manifest as keyed on the device
        st = (tmp_path / file.path.lstrip("/")).stat()
        assert stat.S_IMODE(st.st_mode) == file.mode, file.path
        assert (st.st_uid, st.st_gid) == ((0, 0) if os.geteuid() == 0 else (os.geteuid(), os.getegid()))
        assert (tmp_path / file.path.lstrip("/")).read_bytes() == file.content
    assert [s.status for s in second.steps] == ["skipped"] * len(bundle.steps)
    assert "intended owner root:kiosk is in the manifest" in "\n".join(first.lines())


def test_owner_is_set_from_the_roots_own_accounts(tmp_path):
    need(os.geteuid() == 0, "chown needs root: run as root (sudo ./scripts/test)")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "group").write_text("root:x:0:\nkiosk:x:4242:\n")
    apply_bundle(_bundle(), tmp_path)
    st = (tmp_path / "etc/palim-kiosk/kiosk.yaml").stat()
    assert (st.st_uid, st.st_gid) == (0, 4242)


def test_changes_are_backed_up_and_diffs_hide_the_password(tmp_path):
    apply_bundle(_bundle(), tmp_path)
    keyfile = "/etc/NetworkManager/system-connections/palim-ebh.nmconnection"
    (tmp_path / "etc/pam.d/palim-kiosk").chmod(0o666)
    newer = _bundle(1, "zweites-passwort")
    changes = {c.file.path: c for c in plan(newer, tmp_path)}
    text = diff(changes[keyfile])
    assert "-psk=<hidden, old>" in text and "+psk=<hidden, new>" in text
    assert PSK not in text and "zweites-passwort" not in text
    assert changes["/etc/pam.d/palim-kiosk"].reasons == ["mode 0666 -> 0644"]
    report = apply_bundle(newer, tmp_path)
    assert report.summary() == "6 changed, 10 unchanged"
    backup = report.backup_dir / keyfile.lstrip("/")
    assert PSK.encode() in backup.read_bytes()
    assert stat.S_IMODE(report.backup_dir.parent.stat().st_mode) == 0o700
    assert all(PSK not in line and "zweites" not in line for line in report.lines())


def test_a_failure_part_way_leaves_every_file_old_or_new(tmp_path, monkeypatch):
    apply_bundle(_bundle(), tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    newer = _bundle(1, "zweites-passwort")
    real_replace, calls = os.replace, []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ApplyError) as info:
        apply_bundle(newer, tmp_path)
    report = info.value.report
    assert report.error == "writing /etc/hostname failed: No space left on device"
    assert report.written == ["/etc/palim-kiosk/kiosk.yaml", "/etc/systemd/system/palim-kiosk.service"]
    lines = "\n".join(report.lines())
    assert "written before the failure: /etc/palim-kiosk/kiosk.yaml, /etc/systemd/system/palim-kiosk.service" in lines
    assert "left as they were: /etc/hostname, " in lines
    new = {f.path: f.content for f in newer.files}
    for path, old in before.items():
        device_path = "/" + str(path.relative_to(tmp_path))
        if device_path.startswith("/var/backups"):
            continue
        now = path.read_bytes()
        expected = new[device_path] if device_path in report.written else old
        assert now == expected, device_path
    assert not [p for p in tmp_path.rglob("*.palim-tmp")], "no temp file is left behind"


def test_a_failed_step_stops_and_is_reported(tmp_path):
    class Failing:
        def run(self, step: Step) -> StepResult:
            return StepResult(step, "failed" if "sysusers" in step.title else "done", "boom")

    with pytest.raises(ApplyError) as info:
        apply_bundle(_bundle(), tmp_path, runner=Failing())
    assert info.value.report.error == "step 'create the kiosk user (systemd-sysusers)' failed: boom"
    assert len(info.value.report.written) == len(_bundle().files)


def test_dry_run_writes_nothing(tmp_path):
    report = apply_bundle(_bundle(), tmp_path, dry_run=True)
    assert report.summary() == "16 would change, 0 unchanged"
    assert list(tmp_path.iterdir()) == []


def test_report_as_json_masks_the_password_like_the_text(tmp_path):
    report = apply_bundle(_bundle(), tmp_path, dry_run=True)
    data = report.as_json()
    assert set(data) == {"device", "root", "dry_run", "changed", "unchanged", "steps", "diff", "error", "summary",
                         "lines", "notes"}
    assert (data["device"], data["root"], data["dry_run"], data["unchanged"]) == ("ebh-01", str(tmp_path), True, 0)
    assert data["changed"][0] == {"path": "/etc/palim-kiosk/kiosk.yaml", "status": "new", "reasons": []}
    assert data["steps"][0]["status"] == "skipped" and data["error"] is None
    assert (data["summary"], data["lines"]) == (report.summary(), report.lines())
    assert data["diff"] == report.diff_text() == "".join(diff(c) for c in report.changed)
    assert "+psk=<hidden, new>" in data["diff"]
    assert PSK not in json.dumps(data)


def test_report_as_json_after_a_failure_carries_the_error(tmp_path):
    class Failing:
        def run(self, step: Step) -> StepResult:
            return StepResult(step, "failed", "boom")

    with pytest.raises(ApplyError) as info:
        apply_bundle(_bundle(), tmp_path, runner=Failing())
    data = info.value.report.as_json()
    assert data["error"] == "step 'install runtime packages (apt)' failed: boom"
    assert data["steps"] == [{"title": "install runtime packages (apt)", "status": "failed", "detail": "boom"}]
    assert "FAILED: step 'install runtime packages (apt)' failed: boom" in data["lines"]


def test_a_device_recognises_itself_by_mac_or_serial(monkeypatch):
    loaded = load_text(VALID, "devices.yaml")

    def machine(macs, serial):
        monkeypatch.setattr("provisioning.apply.local_identity", lambda: (set(macs), serial))

    machine(["3c:52:82:1a:2b:3c"], None)
    target, seen = recognise(loaded)
    assert (target.id, seen) == ("ebh-01", "MAC 3c:52:82:1a:2b:3c; serial unknown")
    machine([], "5cg1234xyz")
    assert recognise(loaded)[0].id == "ebh-02"
    machine([], None)
    with pytest.raises(NotRecognised, match=r"^this device \(MAC none; serial unknown\) matches no device in "
                                            r"devices.yaml; give --device ID$"):
        recognise(loaded)
    machine(["3c:52:82:1a:2b:3c"], "5CG1234XYZ")
    with pytest.raises(NotRecognised, match="matches several devices in devices.yaml: ebh-01, ebh-02; give"):
        recognise(loaded)
