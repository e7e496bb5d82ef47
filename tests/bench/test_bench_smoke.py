"""CI smoke of the benchmark harness (bench/run.py --quick), cleanliness check included. No timing assertions.

It runs the device's display path, the harness's default (--display wayland): both browsers as clients of cage on
wlroots' headless backend, taps through the virtual pointer, pixels and screenshots from the compositor. A quick run
of it costs about what one on X11 does (about 40 s each here), and the X11 path shares everything but bench/x11.py.

A CI machine is not quiet (pytest itself may hold QtWebEngine in-process), so the smoke makes the machine unclean on
purpose and deterministically: it keeps a second QtWebEngine process of its own alive (a Python child that imports
PyQt6.QtWebEngineCore). Then
- without --allow-unclean the harness refuses before starting a browser, names that process and exits with 3;
- with --allow-unclean it runs once end to end, marks every run invalid, names that process in each run's checks,
  keeps the figures out of the statistics and lists them as invalid; bench/report.py prints the same table from the
  JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report
from tests.requirements import need, need_tool

ROOT = Path(__file__).resolve().parents[2]
RUN = [sys.executable, str(ROOT / "bench" / "run.py")]
SECOND_WEBENGINE = "import time, PyQt6.QtWebEngineCore; print('ready', flush=True); time.sleep(600)"

pytestmark = pytest.mark.e2e


@pytest.fixture
def second_webengine():
    """A process outside the harness that maps libQt6WebEngineCore, as another QtWebEngine program would."""
    proc = subprocess.Popen([sys.executable, "-c", SECOND_WEBENGINE], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _tools() -> None:
    need_tool("cage", apt="cage")  # the device's compositor, on wlroots' headless backend
    need_tool("grim", apt="grim")  # reads the compositor's screen (wlr-screencopy)
    need_tool("cc", apt="gcc")  # builds bench/cage_shim.c, preloaded into cage for the virtual pointer
    need_tool("pkg-config", apt="pkg-config")
    need(Path("/usr/include/wlr/types/wlr_virtual_pointer_v1.h").exists(),
         "wlroots' headers are missing: install the Debian package libwlroots-dev (bench/cage_shim.c needs them)")


def test_an_unclean_machine_is_refused_and_the_offender_named(second_webengine):
    _tools()
    done = subprocess.run([*RUN, "--quick", "--no-chromium"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr[-4000:]
    assert "bench: refused, the machine is not clean" in done.stderr
    assert f"(pid {second_webengine}): maps " in done.stderr and "libQt6WebEngineCore" in done.stderr
    assert "bench: run 1/1" not in done.stderr  # refused before any browser started
    assert done.stdout == ""


def test_quick_benchmark_marks_unclean_runs_invalid_and_prints_the_table(second_webengine, tmp_path):
    need_tool("chromium", apt="chromium")  # what the kiosk is compared with
    _tools()
    table, raw, shots = tmp_path / "table.md", tmp_path / "run.json", tmp_path / "shots"
    done = subprocess.run([*RUN, "--quick", "--allow-unclean", "--markdown", str(table), "--json", str(raw),
                           "--screenshots", str(shots)], cwd=ROOT, capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stderr[-4000:]
    text = table.read_text(encoding="utf-8")
    data = json.loads(raw.read_text(encoding="utf-8"))

    # Marked invalid, the offender named in every run, nothing in the statistics
    assert data["clean"] is False and data["cleanliness"]["mode"] == "allow-unclean"
    assert [(r["browser"], r["clean"]) for r in data["runs"]] == [("palim", False), ("chromium", False)]
    for run in data["runs"]:
        named = {o["pid"] for check in run["checks"] for o in check["offenders"] if o["why"].startswith("maps ")}
        assert second_webengine in named, run["checks"]
        assert [c["window"].split(": ", 1)[1] for c in run["checks"]] == (
            ["palim cold start", "palim idle", "palim call"] if run["browser"] == "palim" else
            ["chromium idle", "chromium call"])
    assert "Clean run: **no" in text and "0 of 2 browser runs clean" in text
    # The table names the first few processes that map the libraries (in CI pytest's own QtWebEngine comes first);
    # the harness's own report names every one of them.
    assert "QtWebEngine/Chromium mapped by" in text and f"(pid {second_webengine})" in done.stderr
    assert "bench: INVALID run 1: palim idle" in done.stderr

    # The harness still ran end to end on the device's path: home painted (a pixel from the compositor), the tap
    # through cage's seat joined the call, every figure measured (PSS split by smaps_rollup, cage's own CPU), PSS/USS/RSS
    # per role, shown only as invalid
    assert data["settings"]["display"] == "wayland" and data["machine"]["display"].startswith("cage ")
    assert "Display: Wayland: each browser as the one client of cage" in text
    for run in data["runs"]:
        for key in ("home_s", "tap_join_s", "idle_cpu", "idle_pss", "idle_uss", "idle_rss", "call_cpu", "call_pss",
                    "call_uss", "call_rss", "idle_pss_anon", "idle_pss_file", "call_pss_anon", "call_pss_file",
                    "call_display_cpu", "call_frames", "call_damage_mpx"):
            assert run[key] is not None, (run["browser"], key)
        # cage counted the browser's frames (bench/cage_shim.c): a call's videos keep changing the picture
        assert run["call_frames"] > 0 and run["call_damage_mpx"] > 0, run
        assert run["call_pss_anon"] + run["call_pss_file"] <= run["call_pss"] + 1, run  # parts of the whole
        # As root (CI) the page cache is dropped before each start, else the run says it was warm; the table says which.
        assert run["cache"] == ("cold" if os.geteuid() == 0 else "warm"), run["cache"]
    assert ("Page cache: **cold** in every run" if os.geteuid() == 0 else "Page cache: **warm**") in text
    # The compositor's pictures: the home screen and the call, for each browser, at the device's size
    for name in ("palim-home", "palim-call", "chromium-home", "chromium-call"):
        picture = (shots / f"run1-{name}.png").read_bytes()
        assert picture[:8] == b"\x89PNG\r\n\x1a\n" and picture[16:24] == (1280).to_bytes(4, "big") + (800).to_bytes(
            4, "big"), name
        assert "main" in run["idle_roles"] and "renderer" in run["call_roles"], run["call_roles"]
        assert set(run["call_roles"]["renderer"]) == {"pss", "uss", "rss", "procs"}
        # The busiest threads in the call, by role and name (the renderer encodes and decodes the video).
        threads = run["call_threads"]
        assert threads and all(set(t) == {"role", "thread", "cpu"} for t in threads), threads
        assert any(t["role"] == "renderer" for t in threads), threads
    line = next(line for line in text.splitlines() if line.startswith("| idle at home: tree PSS"))
    assert line.count("—") == 3, f"an unclean figure leaked into the statistics: {line}"
    invalid = [line for line in text.splitlines() if line.startswith(("| 1 | palim |", "| 1 | chromium |"))]
    assert len(invalid) == 2 and all("—" not in line.split("| QtWebEngine")[0] for line in invalid), invalid

    # Machine facts for the doc, and the generator prints the same table from the JSON
    assert {"cpu", "cores", "memory_gib", "kernel", "qt", "pyqt", "qtwebengine_chromium", "chromium"} <= set(
        data["machine"])
    assert report.table(data) == text
    assert text in done.stdout
