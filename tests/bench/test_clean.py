"""bench/clean.py, the benchmark's cleanliness check, through real processes.

This machine may be shared (other test runs, other QtWebEngine processes), so every test judges only what it controls:
either it asserts that its own offender is named, or it limits the check (`within`) to the processes it started. And
none depends on how busy the machine is: a busy process burns a fixed amount of CPU time (not a share of a core over
a wall-clock second, which a loaded machine does not grant), and the tests assert that the check counted that time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager

import pytest

from bench import clean
from tests.requirements import need

WEBENGINE_IMPORT = "import time, PyQt6.QtWebEngineCore; print('ready', flush=True); time.sleep(300)"
SPINNER = "print('ready', flush=True)\nwhile True: pass"
# Waits for a line, burns BURN_S seconds of its own CPU time (however long that takes on a loaded machine), says so.
BURN_S = 0.5
BURNER = ("import sys, time\nprint('ready', flush=True)\nsys.stdin.readline()\n"
          f"t = time.process_time()\nwhile time.process_time() - t < {BURN_S}: pass\nprint('done', flush=True)\n"
          "time.sleep(300)")
IDLE = "import time; print('ready', flush=True); time.sleep(300)"
# A real QtWebEngine page: the browser side in this process, a renderer and helpers as QtWebEngineProcess children.
WEBENGINE_PAGE = textwrap.dedent("""\
    import sys, time
    from PyQt6.QtWidgets import QApplication
    from PyQt6.QtWebEngineCore import QWebEnginePage
    app = QApplication(sys.argv)
    page = QWebEnginePage()
    page.loadFinished.connect(lambda ok: print('ready', flush=True))
    page.setHtml('<p>a second QtWebEngine</p>')
    app.exec()
""")
# The measured tree stand-in: it starts a QtWebEngine import and a spinner as its own children, prints their pids.
HARNESS = textwrap.dedent(f"""\
    import json, subprocess, sys, time
    kids = [subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True)
            for code in ({WEBENGINE_IMPORT!r}, {SPINNER!r})]
    for kid in kids:
        kid.stdout.readline()
    print(json.dumps([kid.pid for kid in kids]), flush=True)
    time.sleep(300)
""")


@contextmanager
def started(code: str, env: dict | None = None):
    """A Python child running `code`, once it printed its first line; killed (with its children) afterwards."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env)
    try:
        proc.first_line = proc.stdout.readline().strip()
        assert proc.first_line, "the child ended before it was ready"
        yield proc
    finally:
        for kid in clean.descendants(proc.pid):
            try:
                os.kill(kid, 9)
            except ProcessLookupError:
                pass
        proc.kill()
        proc.wait()


def only(*pids: int):
    return lambda pid: pid in pids


def test_a_process_importing_qtwebengine_is_named_and_the_window_refused():
    with started(IDLE) as harness, started(WEBENGINE_IMPORT) as other:
        guard = clean.Guard(root=harness.pid, within=only(other.pid))
        with pytest.raises(clean.Unclean) as refused:
            with guard.window("idle"):
                pass
        message = str(refused.value)
        assert f"(pid {other.pid}): maps " in message, message
        assert "libQt6WebEngineCore.so" in message
        assert "PSS would be shared" in message


def test_the_unscoped_check_names_it_too():
    """On the whole machine (whatever else runs here), our second QtWebEngine process is among the offenders."""
    with started(IDLE) as harness, started(WEBENGINE_IMPORT) as other:
        guard = clean.Guard(root=harness.pid, refuse=False)
        with guard.window("idle") as verdict:
            time.sleep(0.2)
        assert not verdict.clean
        assert other.pid in [o.pid for o in verdict.offenders if o.why.startswith("maps ")]
        assert guard.verdicts == [verdict]


def test_a_real_qtwebengine_page_and_its_helper_processes_are_named():
    need(os.environ.get("DISPLAY"), "no X display: install the Debian package xvfb (./scripts/test starts it)")
    env = dict(os.environ)
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    with started(IDLE) as harness, started(WEBENGINE_PAGE, env) as page:
        helpers = clean.descendants(page.pid)
        assert helpers, "QtWebEngine started no helper process"
        guard = clean.Guard(root=harness.pid, refuse=False, within=only(page.pid, *helpers))
        with guard.window("idle") as verdict:
            pass
        named = {o.pid: o for o in verdict.offenders}
        assert page.pid in named and helpers <= set(named), verdict.message()
        assert all(o.why.startswith("maps ") for o in verdict.offenders)
        assert any(o.name.startswith("QtWebEngine") for o in verdict.offenders)


def counted_cpu_seconds(verdict: clean.Verdict) -> float:
    """The CPU time the check counted for the others over its window (it reports % of one core)."""
    return verdict.other_cpu * verdict.seconds / 100


def burn(proc: subprocess.Popen) -> None:
    """Let a BURNER child burn its CPU time and wait until it has."""
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "done"


def test_a_busy_process_fails_the_idle_check_and_is_named():
    with started(IDLE) as harness, started(BURNER) as busy:
        # At most 1 % of one core for the others: the 0.5 CPU seconds exceed it unless the window lasted 50 s.
        guard = clean.Guard(root=harness.pid, refuse=False, max_other_cpu=1.0, within=only(busy.pid))
        with guard.window("idle") as verdict:
            burn(busy)
        assert not verdict.clean, verdict.message()
        # All of its CPU time was counted, however long the machine took to grant it (/proc's ticks: 10 ms each).
        assert counted_cpu_seconds(verdict) >= BURN_S - 0.05, verdict.message()
        assert any(p.startswith("other processes used") for p in verdict.problems)
        (offender,) = verdict.offenders
        assert offender.pid == busy.pid and offender.why.endswith("% of one core"), verdict.message()
        assert f"(pid {busy.pid})" in verdict.message()


def test_the_measured_tree_may_map_qtwebengine_and_be_busy():
    """Nothing else running: the check passes, although the measured tree (the harness's descendants) maps
    QtWebEngine and spins."""
    with started(HARNESS) as harness:
        ours = json.loads(harness.first_line)
        guard = clean.Guard(root=harness.pid, within=only(harness.pid, *ours))
        with guard.window("idle") as verdict:
            time.sleep(1.0)
        assert verdict.clean, verdict.message()
        assert verdict.offenders == []
        assert verdict.message() == "idle: clean"


def test_a_high_load_average_fails_the_check_before_the_first_run():
    with started(IDLE) as harness:
        guard = clean.Guard(root=harness.pid, refuse=False, max_load=-1.0, within=only(harness.pid))
        verdict = guard.precheck(0.1)
        assert not verdict.clean
        assert verdict.problems == [f"1-minute load average {verdict.load1:.2f} (at most -1; wait until the machine "
                                    f"has been idle for a minute)"]


def test_a_child_that_ended_in_the_window_is_counted_in_its_parent():
    """A test suite's short-lived processes: the time of a reaped child shows in its parent's share."""
    code = ("import subprocess, sys; print('ready', flush=True); sys.stdin.readline()\n"
            "subprocess.run([sys.executable, '-c', 'import time\\nt = time.process_time()\\n"
            f"while time.process_time() - t < {BURN_S}: pass'])"
            "\nprint('done', flush=True); sys.stdin.readline()")
    with started(IDLE) as harness:
        parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        try:
            assert parent.stdout.readline().strip() == "ready"
            guard = clean.Guard(root=harness.pid, refuse=False, max_other_cpu=1.0, within=lambda pid: (
                pid != harness.pid and (pid == parent.pid or pid in clean.descendants(parent.pid))))
            with guard.window("idle") as verdict:
                parent.stdin.write("go\n")
                parent.stdin.flush()
                assert parent.stdout.readline().strip() == "done"
            assert not verdict.clean
            # The child's 0.5 CPU seconds (it ended and was reaped inside the window) show in its parent's share.
            assert counted_cpu_seconds(verdict) >= BURN_S - 0.05, verdict.message()
            assert [o.pid for o in verdict.offenders] == [parent.pid]
        finally:
            parent.kill()
            parent.wait()


MAPS_FILE = ("import mmap, sys, time\nf = open(sys.argv[1], 'rb')\nm = mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ)\n"
             "print('ready', flush=True)\ntime.sleep(300)")


def test_only_the_same_qtwebengine_library_makes_the_machine_unclean(tmp_path):
    """PSS is shared only through the same file: another checkout's copy of QtWebEngine (another venv) shares no page
    with the kiosk measured, so a process mapping it is no library offender; one mapping our copy is."""
    ours = clean.our_qtwebengine()
    assert ours is not None and ours[0].endswith("/libQt6WebEngineCore.so.6")
    other_copy = tmp_path / "venv" / "lib" / "libQt6WebEngineCore.so.6"
    other_copy.parent.mkdir(parents=True)
    other_copy.write_bytes(b"\0" * 4096)  # the name matches the pattern; the file is not ours
    with started(IDLE) as harness, started(MAPS_FILE.replace("sys.argv[1]", repr(str(other_copy)))) as elsewhere, \
            started(MAPS_FILE.replace("sys.argv[1]", repr(ours[0]))) as same:
        guard = clean.Guard(root=harness.pid, refuse=False, within=only(elsewhere.pid, same.pid))
        with guard.window("idle") as verdict:
            pass
        assert [(o.pid, o.why) for o in verdict.offenders] == [(same.pid, f"maps {ours[0]}")], verdict.message()
        assert not verdict.clean
