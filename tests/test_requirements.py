"""tests/requirements.py: outside CI a test that cannot run skips with its reason; under CI=true it fails."""

import os

import pytest

from tests.requirements import CI_NOTE, in_ci, need, need_tool

ABSENT = "palim-no-such-tool"


@pytest.fixture
def no_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def ci(monkeypatch):
    monkeypatch.setenv("CI", "true")


@pytest.mark.parametrize("value, expected", [("true", True), ("TRUE", True), ("1", True), ("yes", True),
                                             ("", False), ("false", False), ("0", False)])
def test_ci_is_read_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_outside_ci_a_missing_condition_skips_with_its_reason(no_ci):
    with pytest.raises(pytest.skip.Exception, match="^needs root$"):
        need(False, "needs root")


def test_under_ci_a_missing_condition_fails_and_says_why(ci):
    with pytest.raises(pytest.fail.Exception) as failed:
        need(False, "needs root")
    assert str(failed.value) == f"needs root ({CI_NOTE})"


@pytest.mark.parametrize("env", ["no_ci", "ci"])
def test_a_condition_that_holds_lets_the_test_go_on(request, env):
    request.getfixturevalue(env)
    need(True, "never shown")


def test_outside_ci_a_missing_tool_skips_and_names_the_debian_package(no_ci):
    with pytest.raises(pytest.skip.Exception) as skipped:
        need_tool(ABSENT, apt="palim-tools")
    assert str(skipped.value) == (f"{ABSENT} is not installed (install the Debian package palim-tools; "
                                  "./scripts/setup installs it)")


def test_under_ci_a_missing_tool_fails_and_names_the_pip_package(ci):
    with pytest.raises(pytest.fail.Exception) as failed:
        need_tool(ABSENT, pip="palim-tools")
    assert str(failed.value) == (f"{ABSENT} is not installed (pip install palim-tools into .venv; "
                                 f"./scripts/setup installs it) ({CI_NOTE})")


def test_a_tool_is_found_on_path_or_in_the_extra_folder(ci, tmp_path, monkeypatch):
    tool = tmp_path / ABSENT
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert need_tool(ABSENT, apt="x", also_in=tmp_path) == str(tool)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert need_tool(ABSENT, apt="x") == str(tool)
