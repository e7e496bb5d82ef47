"""YAML with positions: 1-based line:col of keys and values, duplicate keys, syntax errors, pydantic errors in words."""

import pytest
from pydantic import ValidationError, field_validator

from kiosk.core.fields import Strict, clock_time
from kiosk.core.yamlpos import Problem, explain_errors, format_path, parse_yaml

TEXT = """\
server: https://k.example.org
health:
  nightly_restart: '03:00-04:00'
  checks:
    - name: ping
      every: 5
    -   name: dns
"""


class Check(Strict):
    name: str
    every: int = 10


class Health(Strict):
    nightly_restart: str
    time: str = "03:00"
    checks: list[Check] = []

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        return clock_time(value)


class Config(Strict):
    server: str
    resident: str = "Erna"
    health: Health


def explained(text: str, model=Config) -> list[str]:
    doc = parse_yaml(text, "k.yaml")
    assert doc.problems == []
    with pytest.raises(ValidationError) as info:
        model.model_validate(doc.data)
    return [str(p) for p in explain_errors(info.value, doc)]


def test_the_data_is_plain_python():
    doc = parse_yaml(TEXT, "k.yaml")
    assert doc.problems == []
    assert doc.data == {"server": "https://k.example.org",
                        "health": {"nightly_restart": "03:00-04:00",
                                   "checks": [{"name": "ping", "every": 5}, {"name": "dns"}]}}


def test_values_and_keys_of_nested_mappings_and_lists_have_1_based_positions():
    doc = parse_yaml(TEXT, "k.yaml")
    assert doc.marks[()] == (1, 1)
    assert doc.marks[("server",)] == (1, 9) and doc.key_marks[("server",)] == (1, 1)
    assert doc.marks[("health", "nightly_restart")] == (3, 20)
    assert doc.key_marks[("health", "nightly_restart")] == (3, 3)
    assert doc.marks[("health", "checks", 0)] == (5, 7)
    assert doc.marks[("health", "checks", 0, "every")] == (6, 14)
    assert doc.key_marks[("health", "checks", 1, "name")] == (7, 9)
    assert doc.marks[("health", "checks", 1, "name")] == (7, 15)


def test_only_plain_scalars_keep_their_source_text():
    doc = parse_yaml(TEXT, "k.yaml")
    assert doc.scalars[("health", "checks", 0, "every")] == "5"
    assert ("health", "nightly_restart") not in doc.scalars  # quoted
    assert ("health",) not in doc.scalars  # a mapping


def test_locate_falls_back_to_the_deepest_known_node():
    doc = parse_yaml(TEXT, "k.yaml")
    assert doc.locate(("health", "checks", 1, "every")) == (7, 9)  # the item that lacks it
    assert doc.locate(("nowhere", "at", "all")) == (1, 1)


def test_a_duplicate_key_is_reported_at_its_second_appearance():
    doc = parse_yaml("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", "k.yaml")
    assert doc.problems == [Problem("k.yaml", 5, 3, "b.c", "this key appears twice")]
    assert str(doc.problems[0]) == "k.yaml:5:3: b.c: this key appears twice"


@pytest.mark.parametrize("text, line, col", [
    ("server: [unclosed\n", 2, 1),
    ("a: 1\n  b: 2\n", 2, 4),
    ("a: 'open\n", 2, 1),
    ("a: 1\n- b\n", 2, 1),
])
def test_a_syntax_error_becomes_one_problem_with_its_position(text, line, col):
    doc = parse_yaml(text, "k.yaml")
    (problem,) = doc.problems
    assert (problem.file, problem.line, problem.col, problem.path) == ("k.yaml", line, col, "")
    assert problem.message.startswith("not valid YAML: ")
    assert doc.data is None


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file_is_one_problem_at_its_start(text):
    doc = parse_yaml(text, "k.yaml")
    assert [str(p) for p in doc.problems] == ["k.yaml:1:1: the file is empty"]
    assert doc.data is None


def test_a_second_document_is_a_problem():
    doc = parse_yaml("a: 1\n---\nb: 2\n", "k.yaml")
    (problem,) = doc.problems
    assert problem.message.startswith("not valid YAML: ") and problem.line == 2


def test_an_unknown_key_is_reported_at_the_key():
    assert explained(TEXT + "  nightly_restrat: '04:00-05:00'\n") == [
        "k.yaml:8:3: health.nightly_restrat: unknown key 'nightly_restrat' (check the spelling)"]


def test_a_missing_key_is_reported_at_its_parent():
    assert explained(TEXT.replace("  nightly_restart: '03:00-04:00'\n", "")) == [
        "k.yaml:3:3: health: 'nightly_restart' is missing"]
    assert explained(TEXT.replace("- name: ping", "- nmae: ping")) == [
        "k.yaml:5:7: health.checks[0]: 'name' is missing",
        "k.yaml:5:7: health.checks[0].nmae: unknown key 'nmae' (check the spelling)"]


@pytest.mark.parametrize("value, got", [("yes", "a yes/no value"), ("0123", "a number"), ("12", "a number"),
                                        ("1.5", "a number"), ("off", "a yes/no value")])
def test_unquoted_numbers_and_booleans_get_the_quote_it_hint(value, got):
    assert explained(TEXT + f"resident: {value}\n") == [
        f"k.yaml:8:11: resident: must be text, but YAML read the unquoted {value!r} as {got}; put it in quotes"]


def test_a_quoted_value_of_the_wrong_type_gets_no_quote_hint():
    (problem,) = explained(TEXT.replace("every: 5", "every: '5'"))
    assert problem.startswith("k.yaml:6:14: health.checks[0].every: ") and "quotes" not in problem


def test_a_value_error_keeps_the_validators_words_without_pydantics_prefix():
    assert explained(TEXT + "  time: '3:30'\n") == ['k.yaml:8:9: health.time: must be a time like "03:30"']


def test_problems_come_sorted_by_position_with_a_path_prefix():
    doc = parse_yaml("nightly_restart: 5\nresident: x\n", "k.yaml")
    with pytest.raises(ValidationError) as info:
        Health.model_validate(doc.data)
    problems = explain_errors(info.value, doc)
    assert [(p.line, p.path) for p in problems] == [(1, "nightly_restart"), (2, "resident")]
    # The same document checked as a part of a bigger one: paths and positions carry the prefix.
    nested = parse_yaml("health:\n  nightly_restart: 5\n", "k.yaml")
    with pytest.raises(ValidationError) as info:
        Health.model_validate(nested.data["health"])
    assert [str(p) for p in explain_errors(info.value, nested, prefix=("health",))] == [
        "k.yaml:2:20: health.nightly_restart: must be text, but YAML read the unquoted '5' as a number; "
        "put it in quotes"]


@pytest.mark.parametrize("path, text", [
    ((), ""), (("server",),  "server"), (("devices", 3, "match", "mac"), "devices[3].match.mac"), ((0, "a"), "[0].a"),
    (("a", 0, 1), "a[0][1]"),
])
def test_format_path(path, text):
    assert format_path(path) == text


def test_a_problem_without_a_path_reads_file_line_col_message():
    assert str(Problem("k.yaml", 3, 7, "", "the file is empty")) == "k.yaml:3:7: the file is empty"
