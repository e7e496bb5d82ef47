"""bench/report.py: the doc's benchmark table is exactly what it prints from the committed raw JSON."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "benchmarks.md"


def _generated_blocks() -> list[str]:
    return re.findall(r"<!-- BEGIN bench/report\.py (\S+): generated, do not edit -->", DOC.read_text("utf-8"))


def test_the_doc_has_a_generated_table_from_a_committed_json():
    tracked = subprocess.run(["git", "ls-files", "docs/benchmarks"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    blocks = _generated_blocks()
    assert blocks == ["docs/benchmarks/wayland.json", "docs/benchmarks/run.json", "docs/benchmarks/tap.json"]
    assert all(path in tracked for path in blocks), (blocks, tracked)


def test_the_docs_table_equals_what_the_script_prints():
    for path in _generated_blocks():
        printed = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), path], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout
        assert report.generated(DOC.read_text("utf-8"), path) == printed, (
            f"docs/benchmarks.md is not what bench/report.py prints from {path}: run "
            f".venv/bin/python bench/report.py {path} --update docs/benchmarks.md")


@pytest.mark.parametrize("name", ["wayland.json", "run.json", "tap.json"])
def test_the_committed_run_says_whether_it_was_clean_and_has_the_machine_facts(name):
    data = json.loads((ROOT / "docs" / "benchmarks" / name).read_text("utf-8"))
    assert isinstance(data["clean"], bool)
    assert data["clean"] == (data["cleanliness"]["precheck"]["clean"] and all(r["clean"] for r in data["runs"]))
    for key in ("cpu", "cores", "memory_gib", "kernel", "qt", "pyqt", "qtwebengine_chromium", "chromium"):
        assert data["machine"][key], key
    text = report.table(data)
    if not data["clean"]:
        assert "Clean run: **no" in text and "Invalid runs" in text


def test_update_rewrites_only_the_generated_block(tmp_path):
    doc = tmp_path / "doc.md"
    raw = tmp_path / "run.json"
    shutil.copy(ROOT / "docs" / "benchmarks" / "run.json", raw)
    begin = report.BEGIN.format(json=str(raw))
    doc.write_text(f"before\n\n{begin}\nstale table\n{report.END}\n\nafter\n", encoding="utf-8")
    report.main([str(raw), "--update", str(doc)])
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(f"before\n\n{begin}\n### ") and text.endswith(f"{report.END}\n\nafter\n")
    assert "stale table" not in text
    assert report.generated(text, str(raw)) == report.table(json.loads(raw.read_text("utf-8")))


def test_the_result_is_the_devices_path_with_a_cold_page_cache():
    """The page's result (issue 32): both browsers under cage on Wayland, the page cache dropped before every start."""
    data = json.loads((ROOT / "docs" / "benchmarks" / "wayland.json").read_text("utf-8"))
    assert data["settings"]["display"] == "wayland" and data["machine"]["display"].startswith("cage ")
    assert {r["browser"] for r in data["runs"]} == {"palim", "chromium"}
    assert all(r["cache"] == "cold" for r in data["runs"])
    assert "Page cache: **cold** in every run" in report.table(data)
