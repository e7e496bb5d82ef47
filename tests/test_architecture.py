"""The house rules of the code, checked: layers (import-linter), no cycles, no private names across modules, sizes."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kiosk", "provisioning", "jitsi_standin")
MAX_LINES = 400


def sources() -> list[Path]:
    """Every Python module of the three packages."""
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    """kiosk/ui/window.py -> kiosk.ui.window."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_layers_in_pyproject_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "lint-imports is missing: ./scripts/setup installs import-linter"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES)
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if graph.find_shortest_chain(importer=imported, imported=importer):
                cycles.append(f"{importer} <-> {imported}")
    assert cycles == []


def test_a_cycle_would_be_found(tmp_path, monkeypatch):
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic import b\n")
    (package / "b.py").write_text("from cyclic import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclic")
    assert graph.find_shortest_chain(importer="cyclic.b", imported="cyclic.a")


def private_imports(path: Path) -> list[str]:
    """`from x import _name` of the project's own modules, and `module._name` on an imported project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found, own_modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module if node.level == 0 else "(relative)"
            if node.level or module.split(".")[0] in PACKAGES:
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module or '.'} import {alias.name}"
                          for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
                own_modules.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            own_modules.update(alias.asname or alias.name.split(".")[0] for alias in node.names
                               if alias.name.split(".")[0] in PACKAGES)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in own_modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    users = sources() + sorted(p for folder in ("bench", "scripts", "tests") for p in (ROOT / folder).rglob("*.py"))
    assert [hit for path in users for hit in private_imports(path)] == []


def test_the_private_name_check_finds_both_forms(tmp_path):
    path = ROOT / "tests" / "_probe_private.py"
    try:
        path.write_text("from kiosk.callflow import _is_fatal\nfrom kiosk import health\nhealth._window('x')\n")
        assert len(private_imports(path)) == 2
    finally:
        path.unlink()


def test_a_module_over_400_lines_says_why_at_its_top():
    unexplained = []
    for path in sources():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES:
            first = ast.get_docstring(ast.parse("\n".join(lines))) or ""
            if "over 400 lines because" not in first.splitlines()[0] if first else True:
                unexplained.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert unexplained == []


@pytest.mark.parametrize("package", ["kiosk.core", "kiosk.config", "kiosk.callflow", "kiosk.screen"])
def test_the_pure_modules_import_no_qt(package):
    graph = grimp.build_graph("kiosk", include_external_packages=True)
    modules = [m for m in graph.modules if m == package or m.startswith(package + ".")]
    assert modules
    assert not [m for m in modules if graph.find_shortest_chain(importer=m, imported="PyQt6")]


def test_every_package_folder_ships_in_the_wheel():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {module_name(init) for package in ("kiosk", "provisioning") for init in (ROOT / package).rglob("__init__.py")}
    assert found | {"kiosk.assets"} == listed


def test_every_qt_workaround_names_its_bug_and_the_qt_versions_seen():
    labels = [(path, number, line) for path in sources()
              for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if "Qt workaround" in line]
    assert len(labels) >= 6  # the ones known when this test was written
    for path, number, line in labels:
        where = f"{path.relative_to(ROOT)}:{number}"
        assert "QTBUG-" in line or "no bug filed" in line or "no Qt bug" in line, where
        assert "Qt 6" in line or "every Qt 6" in line, where


def test_every_provisioning_module_below_the_command_line_is_kept_from_it():
    """A new module of provisioning/ is either a command (provisioning/commands/) or work the commands call, which
    the 'work never reaches back' contract must list, so it cannot import a command."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [work] = [c for c in contracts if c["name"] == "the work never reaches back into the command line"]
    found = {module_name(p) for p in (ROOT / "provisioning").glob("*.py")} - {"provisioning", "provisioning.cli"}
    assert set(work["source_modules"]) == found


def test_each_command_module_registers_itself_and_runs_through_a_function():
    from provisioning.commands import COMMANDS

    names = {Path(c.__file__).stem for c in COMMANDS}
    files = {p.stem for p in (ROOT / "provisioning" / "commands").glob("*.py")} - {"__init__", "output"}
    assert names == files  # every command module is in the CLI, in --help's order
    for command in COMMANDS:
        assert callable(command.register) and callable(command.run)


def test_no_test_imports_a_conftest():
    """Fixtures live in conftest.py files, helpers in helpers modules imported by name: a conftest is pytest's, and
    importing it a second time as a module runs its module code twice."""
    importing = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
                 if any(isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "conftest"
                        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))))]
    assert importing == []
