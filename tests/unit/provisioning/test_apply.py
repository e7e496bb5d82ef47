"""Apply into a temporary root: writes once, then nothing; modes, owners, backups; failures leave old files."""

import os
import stat
from pathlib import Path

import pytest

from provisioning.apply import ApplyError, apply_bundle, diff, plan
from provisioning.bundle import render_bundle
from provisioning.cli import main
from provisioning.devicelist import load_text
from provisioning.steps import Step, StepResult

from .conftest import VALID

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
    for file in bundle.files:
        st = (tmp_path / file.path.lstrip("/")).stat()
        assert stat.S_IMODE(st.st_mode) == file.mode, file.path
        assert (st.st_uid, st.st_gid) == ((0, 0) if os.geteuid() == 0 else (os.geteuid(), os.getegid()))
        assert (tmp_path / file.path.lstrip("/")).read_bytes() == file.content
    assert [s.status for s in second.steps] == ["skipped"] * len(bundle.steps)
    assert "intended owner root:kiosk is in the manifest" in "\n".join(first.lines())


def test_owner_is_set_from_the_roots_own_accounts(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
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
    assert report.summary() == "6 changed, 6 unchanged"
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
    assert report.summary() == "12 would change, 0 unchanged"
    assert list(tmp_path.iterdir()) == []


def test_cli_apply_twice_into_a_staging_root(tmp_path, monkeypatch, capsys):
    (tmp_path / "devices.yaml").write_text(VALID)
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("EBH_PSK", PSK)
    args = ["apply", str(tmp_path / "devices.yaml"), "--device", "ebh-02", "--root", str(root)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("12 changed, 0 unchanged")
    assert "step skipped: install runtime packages (apt): staging root" in out
    assert PSK not in out, [l for l in out.splitlines() if PSK in l]
    assert "+psk=<hidden, new>" in out
    assert main(args) == 0
    assert capsys.readouterr().out.rstrip().endswith("0 changed, 12 unchanged")
    assert main(["apply", str(tmp_path / "devices.yaml"), "--device", "x", "--root", str(root)]) == 2
    assert main(["apply", str(tmp_path / "devices.yaml"), "--root", str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_cli_apply_write_failure_exits_1_without_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "devices.yaml").write_text(VALID)
    monkeypatch.setenv("EBH_PSK", PSK)

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    assert main(["apply", str(tmp_path / "devices.yaml"), "--device", "ebh-01", "--root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "FAILED: writing /etc/palim-kiosk/kiosk.yaml failed: Permission denied" in captured.out
    assert "applying ebh-01 failed (are you root?)" in captured.err
    assert not Path(tmp_path / "etc/palim-kiosk/kiosk.yaml").exists()
