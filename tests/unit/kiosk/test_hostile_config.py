"""Hostile and careless config files: the kiosk shows "not set up" with a position, never a traceback or a hang."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.app import read_config
from kiosk.config import ConfigError, config_from_text, load_config, peek_language, peek_support_contact

BOMB = "".join(f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 9) if i else '1, 1, 1, 1, 1, 1, 1, 1, 1'}]\n"
               for i in range(9))  # nine levels of nine: 9**9 paths when expanded, 400 bytes of text


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_text(text, "kiosk.yaml")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(("text", "expected"), [
    (BOMB, "kiosk.yaml:2:8: YAML aliases (*name) are not allowed here: write the value out"),
    ("a: &a [*a]\n", "kiosk.yaml:1:8: YAML aliases (*name) are not allowed here"),
    ("server: &s https://x.example\nroom: *s\n", "kiosk.yaml:2:7: YAML aliases"),
    ("resident: " + "9" * 5000 + "\n", "kiosk.yaml:1:1: not usable YAML: a number with thousands of digits"),
    ("a: " + "[" * 3000 + "]" * 3000 + "\n", "not valid YAML: exceeded maximum nesting depth"),
    ("\x00\n", "kiosk.yaml:1:1: not valid YAML"),
])
def test_hostile_yaml_is_refused_with_a_position(text, expected):
    assert any(p.startswith(expected) or expected in p for p in problems(text)), problems(text)


def test_an_alias_bomb_costs_next_to_nothing():
    # In a child with 200 MiB of address space: expanding the bomb would need gigabytes and die there.
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (200 << 20, 200 << 20))
        from kiosk.config import ConfigError, config_from_text
        try:
            config_from_text({BOMB!r})
        except ConfigError as exc:
            print(exc.problems[0].message)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "aliases" in result.stdout
    assert resource.RLIMIT_AS  # the limit exists on this platform


@pytest.mark.parametrize("text", [BOMB, "a: &a [*a]\n", "{{{{", "support_contact: *x\n", "- 1\n- 2\n"])
def test_peeking_into_a_broken_config_never_raises_or_expands(tmp_path, text):
    path = tmp_path / "kiosk.yaml"
    path.write_text(text)
    assert peek_support_contact(path) is None
    assert peek_language(path) == "de"


def test_read_config_turns_every_failure_into_not_set_up(tmp_path, caplog):
    folder = tmp_path / "kiosk.yaml"
    folder.mkdir()  # a folder where the file should be
    assert read_config(folder) == (None, None)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert read_config(binary) == (None, None)
    assert all("Traceback" not in r.message for r in caplog.records)


def test_load_config_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


yaml_ish = st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#\n 019.,?%@`\\\t")), max_size=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_ish)
def test_any_text_gives_a_config_or_problems_with_positions(text):
    try:
        config_from_text(text, "kiosk.yaml")
    except ConfigError as exc:
        assert exc.problems
        assert all(str(p).startswith("kiosk.yaml:") for p in exc.problems)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(yaml_ish)
def test_the_kiosk_loader_never_raises_for_any_file(tmp_path, text):
    path = tmp_path / "kiosk.yaml"
    path.write_text(text)
    config, _ = read_config(path)
    assert config is None or config.server


def _fifo(path):
    import os

    os.mkfifo(path)


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: p.symlink_to("/dev/zero"), "is a symbolic link, not the file itself"),
    (_fifo, "is not a regular file (a device, pipe or socket)"),  # no writer: an open that blocks would hang
    (lambda p: p.write_bytes(b"".join(b"k%d: %d\n" % (i, i) for i in range(5_000_000))), "is larger than 64 KiB"),
    (lambda p: open(p, "wb").truncate(30 << 30), "is larger than 64 KiB"),  # sparse: 30 GB of nothing
], ids=["symlink-to-dev-zero", "fifo", "38-MB-of-keys", "sparse-30-GB"])
def test_a_config_that_is_no_small_regular_file_is_not_set_up_at_once(tmp_path, caplog, make, expected):
    path = tmp_path / "kiosk.yaml"
    make(path)
    assert read_config(path)[0] is None
    lines = [r.getMessage() for r in caplog.records]
    assert any(f"{path}:1:1: the config file cannot be used: {path} {expected}" in line for line in lines), lines
    assert peek_language(path) == "de" and peek_support_contact(path) is None


def test_a_token_file_that_is_a_fifo_is_no_token_and_never_hangs(tmp_path, caplog):
    from kiosk.servertoken import read_token

    _fifo(tmp_path / "jwt")
    assert read_token(tmp_path / "jwt") is None
    assert any("is not a regular file" in r.getMessage() for r in caplog.records)
