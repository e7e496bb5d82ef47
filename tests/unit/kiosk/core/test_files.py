"""Careful file writes: whole files or nothing with their mode and owner, crash-safe renames, append, state folder."""

import logging
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kiosk.core.files import append_line, atomic_write, read_tail, state_dir, write_atomic
from tests.requirements import need

ROOT = Path(__file__).resolve().parents[4]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_child(code: str) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter from the checkout (for crashes and limits this process must not take)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("wanted", [0o600, 0o640, 0o644, 0o755])
def test_write_atomic_writes_the_content_with_the_mode_whatever_the_umask(tmp_path, wanted):
    dest = tmp_path / "kiosk.yaml"
    old_umask = os.umask(0o077)
    try:
        write_atomic(dest, b"server: x\n", wanted)
    finally:
        os.umask(old_umask)
    assert dest.read_bytes() == b"server: x\n" and mode(dest) == wanted
    assert os.listdir(tmp_path) == ["kiosk.yaml"]  # no temp file left beside it


def test_write_atomic_replaces_an_existing_file_with_the_new_mode(tmp_path):
    dest = tmp_path / "kiosk.yaml"
    dest.write_bytes(b"old\n" * 1000)
    dest.chmod(0o666)
    write_atomic(dest, b"new\n", 0o600)
    assert dest.read_bytes() == b"new\n" and mode(dest) == 0o600
    assert os.listdir(tmp_path) == ["kiosk.yaml"]


def test_write_atomic_writes_large_content_whole(tmp_path):
    content = os.urandom(3 * 1024 * 1024 + 7)
    write_atomic(tmp_path / "big", content, 0o644)
    assert (tmp_path / "big").read_bytes() == content


def test_write_atomic_sets_the_owner(tmp_path):
    need(os.geteuid() == 0, "chown needs root: run as root (sudo ./scripts/test)")
    dest = tmp_path / "wifi.nmconnection"
    write_atomic(dest, b"psk=x\n", 0o600, uid=65534, gid=65534)
    st = dest.stat()
    assert (st.st_uid, st.st_gid, mode(dest)) == (65534, 65534, 0o600)


def test_a_crash_between_write_and_rename_leaves_the_old_file_intact(tmp_path):
    dest = tmp_path / "kiosk.yaml"
    dest.write_text("old: true\n")
    dest.chmod(0o644)
    child = run_child(f"""
        import os, signal
        from pathlib import Path
        from kiosk.core import files

        # The power goes out after the new content is on disk, before the rename: nothing runs after this.
        files.os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
        files.write_atomic(Path({str(dest)!r}), b"secret: new\\n" * 100, 0o600)
        print("not reached")
    """)
    assert child.returncode == -9 and "not reached" not in child.stdout, child.stderr
    assert dest.read_text() == "old: true\n" and mode(dest) == 0o644
    # A hard crash cannot clean up: what may be left is the hidden temp file, never readable by others.
    for leftover in set(os.listdir(tmp_path)) - {"kiosk.yaml"}:
        assert leftover.startswith(".kiosk.yaml.") and leftover.endswith(".palim-tmp")
        assert mode(tmp_path / leftover) == 0o600


def test_an_interrupted_rename_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    dest = tmp_path / "kiosk.yaml"
    dest.write_text("old: true\n")

    def interrupted(src, dst):
        raise KeyboardInterrupt  # a signal at the worst moment: the temp file must still go

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(dest, b"new: true\n", 0o644)
    assert dest.read_text() == "old: true\n"
    assert os.listdir(tmp_path) == ["kiosk.yaml"]


def test_a_rename_the_system_refuses_leaves_no_temp_file(tmp_path):
    dest = tmp_path / "kiosk.yaml"
    dest.mkdir()
    (dest / "inside").write_text("kept")
    with pytest.raises(OSError):
        write_atomic(dest, b"new: true\n", 0o644)  # a file cannot replace a non-empty folder
    assert os.listdir(tmp_path) == ["kiosk.yaml"] and (dest / "inside").read_text() == "kept"


FULL_DISK = """
    import logging, resource, signal, sys
    from pathlib import Path
    from kiosk.core import files

    logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(levelname)s %(message)s")
    # The disk fills after 4 KiB: writes past it fail with EFBIG, as root too.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    dest = Path({dest!r})
"""


def test_a_full_disk_makes_write_atomic_raise_and_keeps_the_old_file(tmp_path):
    dest = tmp_path / "metrics.prom"
    dest.write_text("old\n")
    child = run_child(textwrap.dedent(FULL_DISK.format(dest=str(dest))) + textwrap.dedent("""
        try:
            files.write_atomic(dest, b"x" * 100_000, 0o644)
        except OSError as exc:
            print("raised", exc.errno)
    """))
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("raised 27")  # EFBIG
    assert dest.read_text() == "old\n" and os.listdir(tmp_path) == ["metrics.prom"]


def test_a_full_disk_makes_atomic_write_return_false_and_log_it(tmp_path):
    dest = tmp_path / "metrics.prom"
    dest.write_text("old\n")
    child = run_child(textwrap.dedent(FULL_DISK.format(dest=str(dest))) + textwrap.dedent("""
        print("result", files.atomic_write(dest, b"x" * 100_000))
        print("small", files.atomic_write(dest.with_name("small.prom"), b"fits\\n"))
    """))
    assert child.returncode == 0, child.stderr
    assert f"WARNING could not write {dest}: File too large" in child.stdout
    assert "result False" in child.stdout and "small True" in child.stdout
    assert dest.read_text() == "old\n" and (tmp_path / "small.prom").read_text() == "fits\n"
    assert sorted(os.listdir(tmp_path)) == ["metrics.prom", "small.prom"]


def test_atomic_write_creates_the_folder_and_defaults_to_0644(tmp_path):
    dest = tmp_path / "a" / "b" / "screenshot.png"
    assert atomic_write(dest, b"\x89PNG") is True
    assert dest.read_bytes() == b"\x89PNG" and mode(dest) == 0o644


def test_atomic_write_returns_false_and_logs_where_no_file_can_be(tmp_path, caplog):
    (tmp_path / "file").write_text("a file, not a folder")
    with caplog.at_level(logging.WARNING, logger="kiosk.core.files"):
        assert atomic_write(tmp_path / "file" / "metrics.prom", b"x") is False
    assert f"could not write {tmp_path / 'file' / 'metrics.prom'}" in caplog.text
    with pytest.raises(OSError):
        write_atomic(tmp_path / "file" / "metrics.prom", b"x", 0o644)


def test_append_line_appends_whole_lines(tmp_path):
    log = tmp_path / "usage" / "usage.jsonl"
    assert append_line(log, '{"a": 1}') and append_line(log, '{"b": 2}\n') and append_line(log, "c\n\n")
    assert log.read_text() == '{"a": 1}\n{"b": 2}\nc\n'


def test_append_line_rotates_past_max_bytes(tmp_path):
    log = tmp_path / "usage.jsonl"
    for i in range(4):
        assert append_line(log, f"line {i}", max_bytes=10)
    # "line 0\nline 1\n" (14 bytes) passed 10: rotated before line 2; then again only past 10 bytes.
    assert (tmp_path / "usage.jsonl.1").read_text() == "line 0\nline 1\n"
    assert log.read_text() == "line 2\nline 3\n"


def test_append_line_returns_false_and_logs_when_the_disk_is_full(caplog):
    need(Path("/dev/full").exists(), "/dev/full is missing (a Linux device that is always full)")
    with caplog.at_level(logging.WARNING, logger="kiosk.core.files"):
        assert append_line(Path("/dev/full"), "x") is False
    assert "could not append to /dev/full: No space left on device" in caplog.text


def test_state_dir_prefers_systemds_state_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/palim-kiosk:/var/lib/other")
    assert state_dir() == Path("/var/lib/palim-kiosk")
    monkeypatch.setenv("STATE_DIRECTORY", "")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_dir() == tmp_path / "palim-kiosk"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "palim-kiosk"


def test_a_secrets_file_gives_its_one_line(tmp_path):
    from kiosk.core.files import read_secret_file

    (tmp_path / "psk").write_text("sonnenhang-2026\n")
    assert read_secret_file(tmp_path / "psk") == "sonnenhang-2026"


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: Path("/dev/zero"), "is not a regular file"),
    (lambda d: (os.mkfifo(d / "fifo"), d / "fifo")[1], "is not a regular file"),
    (lambda d: (d / "folder").mkdir() or d / "folder", "is a folder"),
    (lambda d: (d / "big").write_text("x" * 1025) and d / "big", "is larger than 1 KiB"),
    (lambda d: (d / "latin").write_bytes(b"gr\xfcn\n") and d / "latin", "is not UTF-8 text"),
])
def test_a_wrong_secrets_file_is_refused_before_anything_is_read(tmp_path, make, message):
    from kiosk.core.files import read_secret_file

    # /dev/zero would never end and a FIFO without a writer would block: both must be refused at once.
    with pytest.raises(ValueError, match=message):
        read_secret_file(make(tmp_path))


def test_a_missing_secrets_file_says_so(tmp_path):
    from kiosk.core.files import read_secret_file

    with pytest.raises(FileNotFoundError, match="No such file"):
        read_secret_file(tmp_path / "nope")


def test_read_tail_gives_the_end_of_a_regular_file_and_nothing_else(tmp_path):
    log = tmp_path / "usage.jsonl"
    log.write_text("a" * 100 + "\nlast line\n")
    assert read_tail(log, 15) == "aaaa\nlast line\n"
    assert read_tail(log) == log.read_text()
    assert read_tail(tmp_path / "missing") == ""
    (tmp_path / "link").symlink_to(log)
    assert read_tail(tmp_path / "link") == ""  # the kiosk's own log, never what a link points at
    os.mkfifo(tmp_path / "fifo")
    assert read_tail(tmp_path / "fifo") == ""  # returns at once, no writer awaited
    assert read_tail(tmp_path) == ""
