"""The Markdown table of a benchmark run, from the JSON bench/run.py --json wrote.

    .venv/bin/python bench/report.py docs/benchmarks/run.json                            # prints the table
    .venv/bin/python bench/report.py docs/benchmarks/run.json --update docs/benchmarks.md   # replaces it in the doc

Statistics (median, min–max) are over the clean runs only; a run that failed the cleanliness check (bench/clean.py) is
listed below them as invalid with what broke it, never mixed in. The doc's table sits between the two MARKERS lines;
tests/bench/test_report.py checks that it equals what this script prints from the committed JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

BEGIN = "<!-- BEGIN bench/report.py {json}: generated, do not edit -->"
END = "<!-- END bench/report.py -->"

ROWS = [  # (key, label, unit, digits, target)
    ("home_s", "start → home painted (first frame on screen; Chromium: its idle page)", "s", 2, "≤ 1 s"),
    ("home_logged_s", "start → 'home screen shown' logged", "s", 2, ""),
    ("ready_s", "start → ready for a tap (first GET of external_api.js; Chromium: page script ran)", "s", 2, ""),
    ("cold_join_s", "tap as soon as home shows → joined (cold start)", "s", 2, ""),
    ("tap_join_s", "tap after the idle window → joined (Palim: page resting)", "s", 2, "≤ Chromium"),
    ("idle_cpu", "idle at home: CPU % of one core", "%", 2, "≤ 0.5 %"),
    ("idle_wakeups", "idle at home: wake-ups/s (context switches)", "/s", 0, ""),
    ("idle_frames", "idle at home: frames/s committed to the compositor (cage)", "/s", 1, ""),
    ("idle_pss", "idle at home: tree PSS", "MiB", 0, "ratio ≤ 0.6"),
    ("idle_uss", "idle at home: tree USS", "MiB", 0, ""),
    ("idle_rss", "idle at home: tree RSS", "MiB", 0, ""),
    ("idle_pss_anon", "idle at home: tree Pss_Anon (heaps, JIT code)", "MiB", 0, ""),
    ("idle_pss_file", "idle at home: tree Pss_File (libraries, files)", "MiB", 0, ""),
    ("idle_procs", "idle at home: processes", "", 0, ""),
    ("call_cpu", "in call: CPU % of one core", "%", 1, "ratio ≤ 1.0"),
    ("call_display_cpu", "in call: the compositor's CPU % of one core (cage; not in the figure above)", "%", 1, ""),
    ("call_wakeups", "in call: wake-ups/s", "/s", 0, ""),
    ("call_frames", "in call: frames/s committed to the compositor (cage)", "/s", 1, ""),
    ("call_damage_mpx", "in call: damaged megapixels/s in those frames", "", 1, ""),
    ("call_pss", "in call: tree PSS", "MiB", 0, "ratio ≤ 0.8"),
    ("call_uss", "in call: tree USS", "MiB", 0, ""),
    ("call_rss", "in call: tree RSS", "MiB", 0, ""),
    ("call_pss_anon", "in call: tree Pss_Anon (heaps, JIT code)", "MiB", 0, ""),
    ("call_pss_file", "in call: tree Pss_File (libraries, files)", "MiB", 0, ""),
    ("call_procs", "in call: processes", "", 0, ""),
]
# Rows shown only when a run has them (runs made before the harness measured them have not).
OPTIONAL = {"idle_pss_anon", "idle_pss_file", "call_display_cpu", "call_pss_anon", "call_pss_file", "idle_frames",
            "call_frames", "call_damage_mpx"}
INVALID_KEYS = ["home_s", "tap_join_s", "idle_cpu", "idle_pss", "idle_uss", "idle_rss", "call_cpu", "call_pss",
                "call_uss", "call_rss"]
BROWSERS = {"palim": "Palim kiosk", "chromium": "chromium --kiosk"}


def summary(values: list) -> tuple[float, float, float] | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def fmt(stats: tuple[float, float, float] | None, digits: int, unit: str) -> str:
    if stats is None:
        return "—"
    med, lo, hi = stats
    unit = f" {unit}" if unit and unit not in ("%", "/s") else unit
    return f"{med:.{digits}f}{unit} ({lo:.{digits}f}–{hi:.{digits}f})"


def one(value, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _facts(data: dict) -> list[str]:
    m, s, c = data["machine"], data["settings"], data["cleanliness"]
    w = s["windows"]
    runs = data["runs"]
    clean = sum(1 for r in runs if r["clean"])
    t = c["thresholds"]
    verdict = "yes" if data["clean"] else "**no: the figures of unclean runs are not in the statistics**"
    return [
        f"Clean run: {verdict}; {clean} of {len(runs)} browser runs clean (mode: {c['mode']}; thresholds: no other "
        f"process maps QtWebEngine/Chromium, others' CPU ≤ {t['max_other_cpu_percent_of_one_core']:g} % of one core "
        f"per window, 1-minute load ≤ {t['max_load1']:g} before the first run)",
        f"CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gib']} GiB; GPU: {m['gpu']}",
        f"Kernel: {m['kernel']}; {m['os']}; display {m['display']}, window {m['window']}",
        f"Palim: Python {m['python']}, Qt {m['qt']}, PyQt {m['pyqt']}, QtWebEngine's Chromium "
        f"{m['qtwebengine_chromium']}; Debian {m['chromium']}",
        f"Command: `{data['command']}`",
        f"kiosk config jitsi: {s['jitsi'] or 'defaults'}; extra kiosk flags: {' '.join(s['kiosk_flags']) or 'none'}; "
        f"extra kiosk env: {' '.join(s['kiosk_env']) or 'none'}; extra Chromium flags: "
        f"{' '.join(s['chromium_flags']) or 'none'}; Chromium page jitsi: {s['chromium_jitsi'] or 'same as the kiosk'};"
        f" remote peer: {s['remote_peer']}",
        f"{s['runs']} run(s); windows: idle {w['idle']:g} s, in-call CPU {w['cpu']:g} s after {w['call_settle']:g} s "
        f"settling, PSS after {w['call']:g} s in the call",
    ] + _path(data)


def _path(data: dict) -> list[str]:
    """The display path and the page cache, for runs that record them."""
    if "display" not in data["settings"]:
        return []
    display = {"wayland": "Wayland: each browser as the one client of cage (wlroots headless backend, pixman), as on a "
                          "device", "x11": "X11: windows on Xvfb (not the device's path)"}[data["settings"]["display"]]
    caches = [r.get("cache", "warm") for r in data["runs"]]
    cold = caches.count("cold")
    cache = ("**cold** in every run (dropped before each browser's start, as after a boot)" if cold == len(caches) else
             f"**warm** in {len(caches) - cold} of {len(caches)} browser runs (the page cache was not dropped)")
    return [f"Display: {display}", f"Page cache: {cache}"]


def _roles_table(runs: list[dict], phase: str) -> list[str]:
    key = f"{phase}_roles"
    names = sorted({name for r in runs for name in (r.get(key) or {})}, key=lambda n: (n != "main", n))
    if not names:
        return []
    lines = [f"| {phase}: role | " + " | ".join(f"{BROWSERS[b]} PSS / USS / RSS MiB" for b in BROWSERS) + " |",
             "| --- | --- | --- |"]
    for name in names:
        cells = []
        for browser in BROWSERS:
            mine = [r[key][name] for r in runs if r["browser"] == browser and name in (r.get(key) or {})]
            if not mine:
                cells.append("—")
                continue
            cells.append(" / ".join(f"{statistics.median(m[f] for m in mine):.0f}" for f in ("pss", "uss", "rss")))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines + [""]


def _threads_table(runs: list[dict], most: int = 8) -> list[str]:
    """The busiest threads in the call (median % of one core over the runs), per browser, side by side."""
    columns = []
    for browser in BROWSERS:
        found: dict[tuple[str, str], list[float]] = {}
        mine = [r for r in runs if r["browser"] == browser and r.get("call_threads")]
        for run in mine:
            for entry in run["call_threads"]:
                found.setdefault((entry["role"], entry["thread"]), []).append(entry["cpu"])
        # A thread missing from a run's top list counts as 0 there.
        medians = {key: statistics.median(values + [0.0] * (len(mine) - len(values))) for key, values in found.items()}
        columns.append(sorted(medians.items(), key=lambda item: -item[1])[:most])
    if not any(columns):
        return []
    lines = ["| # | " + " | ".join(f"{BROWSERS[b]}: role / thread, % of one core" for b in BROWSERS) + " |",
             "| --- | --- | --- |"]
    for index in range(max(len(c) for c in columns)):
        cells = [f"{c[index][0][0]} / {c[index][0][1]}: {c[index][1]:.1f}" if index < len(c) else "" for c in columns]
        lines.append(f"| {index + 1} | " + " | ".join(cells) + " |")
    return lines + [""]


def _names(offenders: list[dict], most: int = 4) -> str:
    seen = []
    for o in offenders:
        if (o["pid"], o["name"]) not in seen:
            seen.append((o["pid"], o["name"]))
    text = ", ".join(f"{name} (pid {pid})" for pid, name in seen[:most])
    return text + (f" and {len(seen) - most} more" if len(seen) > most else "")


def _why(run: dict) -> str:
    """What broke a run: the processes mapping the libraries, the others' CPU at its worst, the busiest others."""
    bad = [c for c in run["checks"] if not c["clean"]]
    parts = []
    maps = [o for c in bad for o in c["offenders"] if o["why"].startswith("maps ")]
    if maps:
        parts.append(f"QtWebEngine/Chromium mapped by {_names(maps)}")
    busy = [c for c in bad if c["other_cpu"] is not None and any(p.startswith("other processes") for p in c["problems"])]
    if busy:
        worst = max(busy, key=lambda c: c["other_cpu"])
        parts.append(f"others' CPU up to {worst['other_cpu']:g} % of one core ({worst['window'].split(': ', 1)[-1]}; "
                     f"busiest: {_names([o for o in worst['offenders'] if not o['why'].startswith('maps ')], 3)})")
    return "; ".join(parts) or "; ".join(p for c in bad for p in c["problems"])


def _figures(chosen: list[dict], runs: list[dict]) -> list[str]:
    """The main table: medians (min–max) of the chosen runs per browser, and the ratio."""
    lines = ["| figure | Palim kiosk median (min–max) | chromium --kiosk median (min–max) | ours/Chromium | target |",
             "| --- | --- | --- | --- | --- |"]
    for key, name, unit, digits, target in ROWS:
        if key in OPTIONAL and not any(r.get(key) is not None for r in runs):
            continue
        mine = summary([r.get(key) for r in chosen if r["browser"] == "palim"])
        other = summary([r.get(key) for r in chosen if r["browser"] == "chromium"])
        ratio = f"{mine[0] / other[0]:.2f}" if mine and other and other[0] else "—"
        lines.append(f"| {name} | {fmt(mine, digits, unit)} | {fmt(other, digits, unit)} | {ratio} | {target} |")
    return lines + [""]


def table(data: dict) -> str:
    label = data.get("label") or "Results"
    runs = data["runs"]
    valid = [r for r in runs if r["clean"]]
    lines = [f"### {label}", ""] + [f"- {line}" for line in _facts(data)]
    for browser in BROWSERS:
        video = next((r["video"] for r in valid if r["browser"] == browser and r["video"]), None)
        lines.append(f"- sent video (getSettings), {BROWSERS[browser]}: {video or '—'}")
    lines += [""] + _figures(valid, runs)
    if valid:
        lines += ["Memory per process role (medians over the clean runs):", ""]
        lines += _roles_table(valid, "idle") + _roles_table(valid, "call")
        threads = _threads_table(valid)
        if threads:
            lines += ["Busiest threads in the call (medians over the clean runs, over the in-call CPU window):", ""]
            lines += threads
    invalid = [r for r in runs if not r["clean"]]
    if invalid:
        lines += [f"Invalid runs ({len(invalid)}; not in the statistics above; their figures are not comparable):", "",
                  "| run | browser | " + " | ".join(k for k in INVALID_KEYS) + " | why |",
                  "| --- | --- | " + " | ".join("---" for _ in INVALID_KEYS) + " | --- |"]
        for r in invalid:
            cells = [one(r.get(k), 2 if k.endswith(("_s", "_cpu")) else 0) for k in INVALID_KEYS]
            lines.append(f"| {r['run']} | {r['browser']} | " + " | ".join(cells) + f" | {_why(r)} |")
        lines.append("")
        if not valid and len({r["browser"] for r in invalid}) > 1:
            # Only a busy machine was to be had: its figures for the record, in a table of their own, never mixed
            # with a clean run's.
            lines += ["**Not valid, for the record only**: the same figures over the invalid runs above (what broke "
                      "each is in its row: other processes' CPU stretches times and takes cores; another process "
                      "mapping the same libraries shares PSS):", ""]
            lines += _figures(invalid, runs)
            threads = _threads_table(invalid)
            if threads:
                lines += ["Busiest threads in the call over the invalid runs (not valid, for the record):", ""] + threads
    return "\n".join(lines)


def update(doc: Path, json_path: str, text: str) -> None:
    """Replace the generated block for `json_path` in `doc`."""
    content = doc.read_text(encoding="utf-8")
    begin = BEGIN.format(json=json_path)
    start = content.index(begin) + len(begin)
    end = content.index(END, start)
    doc.write_text(content[:start] + "\n" + text + content[end:], encoding="utf-8")


def generated(doc_text: str, json_path: str) -> str:
    """The generated block for `json_path` as it stands in a doc."""
    begin = BEGIN.format(json=json_path)
    start = doc_text.index(begin) + len(begin)
    return doc_text[start:doc_text.index(END, start)].removeprefix("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", help="the JSON file bench/run.py --json wrote")
    parser.add_argument("--update", type=Path, help="replace the generated block for this JSON in this Markdown file")
    args = parser.parse_args(argv)
    text = table(json.loads(Path(args.json).read_text(encoding="utf-8")))
    if args.update:
        update(args.update, args.json, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
