"""palim-provision report: usage figures from the kiosks' logs (calls, hours, devices, homes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.core.files import write_atomic

from ..devicelist import load_file
from .output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, Output

EPILOG = """\
examples:
  ansible palim_kiosks -m fetch -a "src=/var/lib/palim-kiosk/usage.jsonl dest=logs/"   # collect the logs
  palim-provision report logs/ --since 2026-01-01 --until 2026-12-31
  palim-provision report logs/ --devices devices.yaml --format csv --out nutzung-2026.csv
  palim-provision report ebh-01.jsonl ebh-02.jsonl.1.gz

LOGS are files or folders; folders are searched for *.jsonl (also rotated *.jsonl.1 and .gz).
A call counts in the ISO week (Monday to Sunday) and on the day its start falls in, in the kiosk's local time.
When a line has no device, it is taken from where the log lies (<dest>/<host>/var/lib/palim-kiosk/usage.jsonl
as Ansible fetch lays it out, or a file or folder named after the device); a missing home is looked up in
--devices. The same call collected twice counts once. Broken lines are skipped and reported.
CSV: one row per home and week, a 'total' row per home, then the grand total.
exit codes: 0 ok (also with broken lines), 1 a log file could not be read, 2 bad arguments or no logs.
"""


def register(sub, fmt) -> None:
    p = sub.add_parser("report", help="usage figures from the kiosks' logs: calls, hours, devices, homes",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Aggregate the kiosks' usage logs into the figures the town publishes.")
    p.add_argument("logs", metavar="LOGS", nargs="+", help="usage log files or folders holding them")
    p.add_argument("--since", metavar="DATE", help="only calls starting on or after this day (2026-11-01)")
    p.add_argument("--until", metavar="DATE", help="only calls starting on or before this day")
    p.add_argument("--format", choices=("text", "csv"), default="text", help="text (default) or csv")
    p.add_argument("--out", metavar="FILE", help="write the report here instead of printing it")
    p.add_argument("--devices", metavar="FILE", help="the device list, to look up homes missing in the logs")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    return report(out, [Path(p) for p in args.logs], since=args.since, until=args.until, as_csv=args.format == "csv",
                  to_file=args.out, devices=args.devices)


def report(out: Output, logs: list[Path], *, since: str | None = None, until: str | None = None,
           as_csv: bool = False, to_file: str | None = None, devices: str | None = None) -> int:
    """Read the logs, count the window, print or write the report; 1 when a log could not be read."""
    from ..report import (ReportError, csv_report, find_logs, parse_window, read_logs, reading_notes, summarise,
                          text_report)

    try:
        start, end = parse_window(since, until)
        files = find_logs(logs)
    except ReportError as exc:
        return out.fail(str(exc), EXIT_INVALID)
    homes = {t.id: t.home_key for t in load_file(devices, require_rooms=False).targets} if devices else None
    reading = read_logs(files, homes)
    summary = summarise(reading.calls, start, end)
    if as_csv:
        text = csv_report(summary)
        for line in reading_notes(reading):
            out.note(line)
    else:
        text = text_report(summary, reading, start, end)
    if to_file:
        try:
            write_atomic(Path(to_file), text.encode("utf-8"), 0o644)
        except OSError as exc:
            return out.fail(f"could not write {to_file}: {exc.strerror or exc}", EXIT_FAILED)
        out.say(f"wrote the report ({summary.calls} calls, {summary.hours:.1f} hours) to {to_file}")
    else:
        out.say(text, end="")
    return EXIT_FAILED if reading.unreadable else EXIT_OK
