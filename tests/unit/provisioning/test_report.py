"""Usage report against generated logs whose totals are known."""

import csv
import gzip
import io
import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from provisioning.cli import main
from provisioning.report import (ReportError, csv_report, device_from_path, find_logs, parse_window, read_logs,
                                 reading_notes, summarise, text_report)

CET = timezone(timedelta(hours=1))
HOMES = {"ebh": ["ebh-01", "ebh-02", "ebh-03"], "sonnenhang": ["sh-01", "sh-02"], "josef": ["josef-01"]}


def _call(device, home, start, seconds):
    return {"event": "call", "device": device, "home": home, "start": start.isoformat(),
            "end": (start + timedelta(seconds=seconds)).isoformat(), "duration_s": seconds, "others_max": 2,
            "version": "0.1.0"}


@pytest.fixture
def fleet_logs(tmp_path):
    """Logs laid out as Ansible fetch leaves them, with noise; returns the folder and the true figures."""
    rng = random.Random(7)
    truth = {"calls": 0, "seconds": 0.0, "per_home": {}, "per_home_week": {}}
    base = datetime(2026, 11, 2, 9, 0, tzinfo=CET)  # a Monday: ISO week 2026-W45
    for home, devices in HOMES.items():
        for device in devices:
            lines = [json.dumps({"event": "start", "version": "0.1.0"})]
            for _ in range(rng.randint(5, 15)):
                start = base + timedelta(days=rng.randint(0, 27), minutes=rng.randint(0, 600))
                seconds = round(rng.uniform(60, 3600), 1)
                lines.append(json.dumps(_call(device, home, start, seconds)))
                week = f"2026-W{start.isocalendar()[1]:02d}"
                truth["calls"] += 1
                truth["seconds"] += seconds
                truth["per_home"][home] = truth["per_home"].get(home, 0) + 1
                truth["per_home_week"][(home, week)] = truth["per_home_week"].get((home, week), 0) + 1
            lines.append(json.dumps({"event": "renderer_crash", "at": base.isoformat()}))
            folder = tmp_path / "logs" / device / "var/lib/palim-kiosk"
            folder.mkdir(parents=True)
            (folder / "usage.jsonl").write_text("\n".join(lines) + "\n")
    broken = tmp_path / "logs/ebh-01/var/lib/palim-kiosk/usage.jsonl"
    with broken.open("a") as handle:
        handle.write('{"event": "call", "device": "ebh-01", "start": "gestern"}\n')
        handle.write("\x00\x01 half a line\n")
        handle.write('["a list"]\n')
        handle.write(json.dumps(_call("ebh-01", "ebh", base, -5)) + "\n")
    return tmp_path / "logs", truth


def test_totals_match_the_generated_logs(fleet_logs):
    logs, truth = fleet_logs
    reading = read_logs(find_logs([logs]))
    summary = summarise(reading.calls)
    assert summary.calls == truth["calls"]
    assert summary.hours == pytest.approx(truth["seconds"] / 3600)
    assert summary.devices == 6 and summary.homes == 3
    assert {h: v[0] for h, v in summary.per_home.items()} == truth["per_home"]
    assert {k: v[0] for k, v in summary.per_home_week.items()} == truth["per_home_week"]
    assert len(reading.broken) == 4 and reading.other_events == 12
    assert {reason for _, _, reason in reading.broken} == {
        "'start' is not a time like 2026-11-27T14:03:12+01:00", "not JSON", "not a JSON object",
        "duration -5 s is not between 0 and 24 hours"}


def test_text_and_csv_through_the_cli(fleet_logs, capsys, tmp_path):
    logs, truth = fleet_logs
    assert main(["report", str(logs)]) == 0
    out = capsys.readouterr().out
    assert f"  calls             {truth['calls']}\n" in out
    assert f"  hours             {truth['seconds'] / 3600:.1f}\n" in out
    assert "  devices           6\n" in out and "  homes             3\n" in out
    assert "warning: 4 broken line(s) skipped" in out and "usage.jsonl:" in out
    assert main(["report", str(logs), "--format", "csv", "--out", str(tmp_path / "r.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))
    total = rows[-1]
    assert (total["home"], total["week"], int(total["calls"]), int(total["devices"])) == \
        ("total", "total", truth["calls"], 6)
    assert sum(int(r["calls"]) for r in rows if r["week"] not in ("total",)) == truth["calls"]
    assert {r["home"]: int(r["calls"]) for r in rows if r["week"] == "total" and r["home"] != "total"} == \
        truth["per_home"]


def test_since_and_until_keep_whole_days_in_local_time(tmp_path):
    log = tmp_path / "ebh-01.jsonl"
    log.write_text("\n".join(json.dumps(_call("ebh-01", "ebh", datetime.fromisoformat(s), 600)) for s in (
        "2026-11-29T23:30:00+01:00",   # Sunday: week 48
        "2026-11-30T00:30:00+01:00",   # Monday 00:30 here (still Sunday in UTC): week 49
        "2026-12-01T12:00:00+01:00")) + "\n")
    calls = read_logs([log]).calls
    summary = summarise(calls)
    assert {w: v[0] for (_, w), v in summary.per_home_week.items()} == {"2026-W48": 1, "2026-W49": 2}
    from datetime import date
    assert summarise(calls, since=date(2026, 11, 30)).calls == 2
    assert summarise(calls, since=date(2026, 11, 30), until=date(2026, 11, 30)).calls == 1


def test_missing_device_and_home_come_from_the_logs_place_and_the_device_list(tmp_path, capsys):
    fetched = tmp_path / "logs/ebh-02/var/lib/palim-kiosk/usage.jsonl"
    fetched.parent.mkdir(parents=True)
    start = datetime(2026, 11, 27, 14, 3, 12, tzinfo=CET)
    fetched.write_text(json.dumps(_call(None, None, start, 1108.2)) + "\n")
    rotated = tmp_path / "logs/ebh-02/var/lib/palim-kiosk/usage.jsonl.1.gz"
    with gzip.open(rotated, "wt") as handle:  # an older, rotated log, and the same call collected twice
        handle.write(json.dumps(_call(None, None, start - timedelta(days=7), 60)) + "\n")
        handle.write(json.dumps(_call(None, None, start, 1108.2)) + "\n")
    reading = read_logs(find_logs([tmp_path / "logs"]))
    assert [(c.device, c.home) for c in reading.calls] == [("ebh-02", "(unknown home)")] * 2
    assert reading.duplicates == 1
    devices = tmp_path / "devices.yaml"
    from .helpers import VALID
    devices.write_text(VALID)
    assert main(["report", str(tmp_path / "logs"), "--devices", str(devices)]) == 0
    out = capsys.readouterr().out
    assert "taken from the log's location: ebh-02" in out and "taken from the device list" in out
    assert re.search(r"^  ebh +total +2 ", out, re.M) and "1 duplicate call(s) counted once" in out
    assert "2 call(s) had no home in the log; taken from the device list" in out


def test_device_from_path():
    assert device_from_path(Path("logs/ebh-01/var/lib/palim-kiosk/usage.jsonl")) == "ebh-01"
    assert device_from_path(Path("copies/sh-02.jsonl.2.gz")) == "sh-02"
    assert device_from_path(Path("copies/josef-01/usage.jsonl")) == "josef-01"


def test_an_unreadable_gzip_is_reported_and_exits_1(tmp_path, capsys):
    (tmp_path / "a.jsonl").write_text(json.dumps(_call("a", "h", datetime(2026, 1, 5, tzinfo=CET), 60)) + "\n")
    (tmp_path / "b.jsonl.1.gz").write_bytes(b"not gzip at all")
    assert main(["report", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "  calls             1" in out and "b.jsonl.1.gz could not be read" in out


def test_parse_window():
    from datetime import date

    assert parse_window(None, None) == (None, None)
    assert parse_window("2026-11-01", None) == (date(2026, 11, 1), None)
    assert parse_window("2026-11-01", "2026-11-01") == (date(2026, 11, 1), date(2026, 11, 1))
    with pytest.raises(ReportError, match="--until must be a date like 2026-11-01, not 'morgen'"):
        parse_window(None, "morgen")
    with pytest.raises(ReportError, match="--since is after --until"):
        parse_window("2026-12-01", "2026-11-01")


def test_text_and_csv_carry_the_same_figures_and_the_notes_only_in_text(fleet_logs):
    logs, truth = fleet_logs
    reading = read_logs(find_logs([logs]))
    summary = summarise(reading.calls)
    notes = reading_notes(reading)
    assert notes[0] == "note: 12 line(s) of other events skipped"
    assert notes[1] == "warning: 4 broken line(s) skipped, for example:" and len(notes) == 2 + 4
    text = text_report(summary, reading, None, None)
    assert text.endswith("\n".join(notes) + "\n")
    table = csv_report(summary)
    assert table.splitlines()[-1] == f"total,total,{truth['calls']},{truth['seconds'] / 3600:.2f},6"
    assert "note" not in table and "warning" not in table


def _huge_line_gz(path: Path) -> None:
    """A .gz of about 1.2 MB whose one line unpacks to 1.2 GB (made in steps)."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        chunk = b"x" * (1 << 20)
        for _ in range(1200):
            handle.write(chunk)
        handle.write(b"\n" + json.dumps(_call("a", "h", datetime(2026, 1, 5, tzinfo=CET), 60)).encode() + b"\n")


# a hostile usage log -> how the report counts it (the good call next to it is always counted)
@pytest.mark.parametrize(("make", "broken"), [
    (lambda p: p.write_bytes(b"[" * 100_000 + b"]" * 100_000 + b"\n"), "longer than 64 KiB"),
    (lambda p: p.write_bytes(b"[" * 30_000 + b"]" * 30_000 + b"\n"), "not JSON"),
    (lambda p: p.write_bytes(b'{"a": ' * 9_000 + b"1" + b"}" * 9_000 + b"\n"), "not JSON"),
    (lambda p: p.write_bytes(b"y" * (3 << 20) + b"\n"), "longer than 64 KiB"),
], ids=["nested-100000-deep-list", "nested-30000-deep-list", "nested-9000-deep-object", "3-MB-line"])
def test_a_hostile_usage_line_is_counted_as_broken(tmp_path, make, broken):
    log = tmp_path / "x.jsonl"
    make(log)
    with log.open("ab") as handle:
        handle.write(json.dumps(_call("a", "h", datetime(2026, 1, 5, tzinfo=CET), 60)).encode() + b"\n")
    reading = read_logs([log])
    assert [reason for _, _, reason in reading.broken] == [broken] and len(reading.calls) == 1


def test_a_gz_with_a_line_of_1_2_gb_costs_next_to_no_memory(tmp_path):
    import resource
    import subprocess
    import sys
    import textwrap

    log = tmp_path / "x.jsonl.gz"
    _huge_line_gz(log)
    # In a child with 400 MiB of address space: holding the line would need 1.2 GB (it took 2.4 GB before).
    code = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (400 << 20, 400 << 20))
        from pathlib import Path
        from provisioning.report import read_logs
        reading = read_logs([Path({str(log)!r})])
        print(len(reading.calls), reading.broken[0][2])
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.stdout.strip() == "1 longer than 64 KiB", result.stderr[-2000:]
    assert resource.RLIMIT_AS


def test_a_fifo_or_device_as_usage_log_is_unreadable_not_waited_for(tmp_path):
    import os

    os.mkfifo(tmp_path / "x.jsonl")
    reading = read_logs([tmp_path / "x.jsonl", Path("/dev/zero")])
    assert [why for _, why in reading.unreadable] == [
        f"{tmp_path / 'x.jsonl'} is not a regular file (a device, pipe or socket)",
        "/dev/zero is not a regular file (a device, pipe or socket)"]


def test_waits_that_ended_alone_are_counted_apart_from_calls(tmp_path, capsys):
    from provisioning.cli import main

    start = datetime(2026, 11, 30, 14, 2, tzinfo=CET)
    alone = dict(_call("ebh-01", "ebh", start, 600.0), others_max=0, alone=True)
    old_alone = dict(_call("ebh-01", "ebh", start + timedelta(hours=1), 30.0), others_max=0)  # before "alone" existed
    met = _call("ebh-01", "ebh", start + timedelta(hours=2), 1200.0)
    (tmp_path / "usage.jsonl").write_text("\n".join(json.dumps(c) for c in (alone, old_alone, met)) + "\n")
    reading = read_logs([tmp_path / "usage.jsonl"])
    summary = summarise(reading.calls)
    assert (summary.calls, summary.waits_alone, round(summary.hours * 3600)) == (1, 2, 1200)
    assert main(["report", str(tmp_path / "usage.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "  calls             1\n" in out and "  waits alone       2 " in out
