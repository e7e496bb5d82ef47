"""Is the machine clean enough to measure on? Checked before and during every measurement window of bench/run.py.

Two things make a benchmark lie without anything looking wrong:

- **Another process maps QtWebEngine's or Chromium's libraries.** PSS divides every shared page among all processes
  that map it, so a second QtWebEngine process anywhere on the machine (a test suite, another kiosk, `import
  PyQt6.QtWebEngineCore` in a Python shell) makes the measured kiosk's PSS smaller without anything changing in it
  (issue 15: 335 MiB alone, 216 MiB with a second kiosk beside it). Same for Chromium's binary and libraries.
  Checked by reading `/proc/<pid>/maps` of every process that is not ours (see `LIBRARIES`). Pages are shared only
  through the same file, so for QtWebEngine only a process mapping the same library file as the measured kiosk counts
  (this Python's PyQt6); another checkout's venv has its own copy and shares no page with it.
- **The machine is not idle.** Other busy processes take cores from the browsers (start-up and join times grow) and
  disturb the CPU figures. Checked with the 1-minute load average before the first run, and over every window with the
  CPU time of all processes that are not ours, from `/proc/<pid>/stat` (own time plus the time of reaped children, so
  short-lived processes a test suite spawns are counted in their parent).

"Ours" is the harness process and its descendants (the browser being measured, xdotool) and the X server of $DISPLAY;
for the library check only the harness's descendants: the harness itself must not map the libraries either.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

# What counts as QtWebEngine or Chromium in a process's memory map: a mapped file whose path matches.
LIBRARIES = re.compile(
    r"(/libQt[56]WebEngineCore\.so[^/]*$"  # QtWebEngine (the kiosk, QtWebEngineProcess, any PyQt/PySide import)
    r"|/(chromium|chromium-browser|chrome|headless_shell)$"  # Chromium's (and Chrome's) binary, wherever it lives
    r"|^(/snap/chromium/[^ ]*)?/usr/lib/chromium(-browser)?/[^/]*\.so[^/]*$"  # Debian's/Ubuntu's Chromium's libraries
    r"|^/opt/google/chrome/[^/]*\.so[^/]*$)"
)
# Not Chromium's chrome_crashpad_handler: a binary of its own (no pages shared with the browser), and Chromium starts it
# detached (its parent is init), so it is not in the measured tree.
QTWEBENGINE = re.compile(r"/libQt[56]WebEngineCore\.so[^/]*$")

MAX_OTHER_CPU = 10.0  # % of one core: all processes that are not ours together, averaged over a window
MIN_NAMED_CPU = 1.0  # % of one core: a process above this is named when the CPU check fails
LOAD_PER_CORE = 0.25  # 1-minute load average per core allowed before the first run (0.5 on 2 cores)
SCAN_EVERY = 2.0  # seconds between two library scans during a window
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Offender:
    """A process that made a window unclean, and why."""

    pid: int
    name: str
    why: str

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid}): {self.why}"


@dataclass
class Verdict:
    """What one check found. `clean` is False as soon as one problem was found."""

    window: str
    seconds: float = 0.0
    other_cpu: float | None = None  # % of one core, all processes that are not ours together
    load1: float | None = None
    problems: list[str] = field(default_factory=list)
    offenders: list[Offender] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def add(self, offender: Offender) -> None:
        if not any(o.pid == offender.pid and o.why == offender.why for o in self.offenders):
            self.offenders.append(offender)

    def message(self) -> str:
        if self.clean:
            return f"{self.window}: clean"
        named = "; ".join(str(o) for o in self.offenders) or ("none named (a load average, or processes that "
                                                               "came and went, name no process)")
        return f"{self.window}: not clean: {'; '.join(self.problems)}. Offenders: {named}"

    def to_json(self) -> dict:
        out = asdict(self)
        out["clean"] = self.clean
        return out


class Unclean(Exception):
    """A check failed and the run is refused."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message())
        self.verdict = verdict


# ---------------------------------------------------------------------------------------------------- /proc readers


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return "?"


def our_qtwebengine() -> tuple[str, tuple[int, int, int]] | None:
    """The QtWebEngine library the kiosk measured here maps: this Python's PyQt6 (found without importing it), as its
    real path and (device major, minor, inode) as /proc/<pid>/maps shows them; None when PyQt6 is not installed."""
    spec = importlib.util.find_spec("PyQt6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for library in sorted(Path(folder, "Qt6", "lib").glob("libQt6WebEngineCore.so*")):
            info = library.stat()
            return os.path.realpath(library), (os.major(info.st_dev), os.minor(info.st_dev), info.st_ino)
    return None


def _shares_pages_with_ours(path: str, device: str, inode: str, ours: tuple[str, tuple[int, int, int]] | None) -> bool:
    """Whether a mapped QtWebEngine/Chromium file is one the measured browsers map too. Chromium's files are the
    system's, so always; a QtWebEngine library only when it is the same file as ours (another checkout's venv has its
    own copy, whose pages are its own: it shares none with the kiosk measured). Unknown: counted as shared."""
    if ours is None or not QTWEBENGINE.search(path):
        return True
    try:
        major, minor = (int(part, 16) for part in device.split(":"))
        same_inode = (major, minor, int(inode)) == ours[1]
    except ValueError:
        same_inode = True
    return same_inode or os.path.realpath(path) == ours[0]


def mapped_library(pid: int, ours: tuple[str, tuple[int, int, int]] | None = None) -> str | None:
    """The first QtWebEngine/Chromium file the process maps that shares pages with the measured browsers' (see
    _shares_pages_with_ours), or None (also when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                parts = line.split(None, 5)
                if len(parts) < 6:
                    continue
                path = parts[5].rstrip("\n").removesuffix(" (deleted)")
                if LIBRARIES.search(path) and _shares_pages_with_ours(path, parts[3], parts[4], ours):
                    return parts[5].strip()
    except OSError:
        pass
    return None


def library_offenders(ours: set[int], within: Callable[[int], bool] | None = None) -> list[Offender]:
    """Every process outside `ours` (and inside `within`, when given) that maps QtWebEngine's (the same file as the
    kiosk measured) or Chromium's libraries."""
    found = []
    library = our_qtwebengine()
    for pid in _pids():
        if pid in ours or (within is not None and not within(pid)):
            continue
        path = mapped_library(pid, library)
        if path:
            found.append(Offender(pid, _name(pid), f"maps {path}"))
    return found


def cpu_ticks() -> dict[int, tuple[int, int, str, int]]:
    """Per process: (own CPU ticks, reaped children's CPU ticks, name, parent pid)."""
    out = {}
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        out[pid] = (int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]), name, int(fields[1]))
    return out


def other_cpu(before: dict, after: dict, ours: set[int], seconds: float,
              within: Callable[[int], bool] | None = None) -> tuple[float, list[tuple[int, str, float]]]:
    """CPU % of one core used between two `cpu_ticks()` by processes outside `ours`, and per process (pid, name, %).

    A process's share is its own time in the window plus what its children reaped in the window used; a child reaped
    in the window brings its whole lifetime (and its own reaped children's) into its parent's count, so what it had
    used before the window is taken off again. A process born in the window counts in full.
    """
    def counted(pid: int) -> bool:
        return pid not in ours and (within is None or within(pid))

    ticks: dict[int, int] = {}
    for pid, (own, children, _, _) in after.items():
        if counted(pid):
            own0, children0 = before.get(pid, (0, 0, "", 0))[:2]
            ticks[pid] = max(0, own - own0) + max(0, children - children0)
    total = sum(ticks.values())
    for pid, (own0, children0, _, parent) in before.items():  # ended in the window
        if pid not in after and counted(pid):
            total -= own0 + children0
            if parent in ticks:
                ticks[parent] = max(0, ticks[parent] - own0 - children0)
    share = 100.0 * max(0, total) / TICK / seconds
    per = [(pid, after[pid][2], 100.0 * n / TICK / seconds) for pid, n in ticks.items() if n]
    return share, sorted(per, key=lambda item: -item[2])


def descendants(pid: int) -> set[int]:
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def x_server(display: str | None) -> set[int]:
    """The X server of `display` (':99' → an Xvfb/Xorg/X process with ':99' among its arguments)."""
    if not display or not display.startswith(":"):
        return set()
    number = display.split(".")[0]
    found = set()
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] in ("Xvfb", "Xorg", "X", "Xwayland") and (number in cmdline or
                                                                       (number == ":0" and len(cmdline) <= 1)):
            found.add(proc.pid)
    return found


# ---------------------------------------------------------------------------------------------------- the guard


class Guard:
    """Checks before and during measurement windows; `refuse` raises Unclean at the first unclean window.

    `within` limits every check to some processes (tests use it to judge only processes they started).
    """

    def __init__(self, *, root: int | None = None, display: str | None = None, refuse: bool = True,
                 max_other_cpu: float = MAX_OTHER_CPU, max_load: float | None = None,
                 within: Callable[[int], bool] | None = None, scan_every: float = SCAN_EVERY) -> None:
        self.root = os.getpid() if root is None else root
        self.display = os.environ.get("DISPLAY") if display is None else display
        self.refuse = refuse
        self.max_other_cpu = max_other_cpu
        self.max_load = (os.cpu_count() or 1) * LOAD_PER_CORE if max_load is None else max_load
        self.within = within
        self.scan_every = scan_every
        self._xserver = x_server(self.display)
        self.verdicts: list[Verdict] = []

    def thresholds(self) -> dict:
        return {"max_other_cpu_percent_of_one_core": self.max_other_cpu, "max_load1": self.max_load,
                "named_above_percent_of_one_core": MIN_NAMED_CPU, "library_pattern": LIBRARIES.pattern}

    def _ours_for_cpu(self) -> set[int]:
        return {self.root} | descendants(self.root) | self._xserver

    def _scan(self, verdict: Verdict) -> None:
        for offender in library_offenders(descendants(self.root), self.within):
            if not any(o.pid == offender.pid for o in verdict.offenders if o.why.startswith("maps ")):
                verdict.add(offender)
        if any(o.why.startswith("maps ") for o in verdict.offenders):
            problem = "another process maps QtWebEngine's or Chromium's libraries (PSS would be shared with it)"
            if problem not in verdict.problems:
                verdict.problems.append(problem)

    @contextmanager
    def window(self, name: str, load1: float | None = None) -> Iterator[Verdict]:
        """Check the libraries at the start, every `scan_every` s and at the end; the others' CPU over the window;
        and `load1` (a 1-minute load average taken before it) when given."""
        verdict = Verdict(name, load1=None if load1 is None else round(load1, 2))
        start = time.monotonic()
        before = cpu_ticks()
        ours = self._ours_for_cpu()
        self._scan(verdict)
        stop = threading.Event()

        def scanner() -> None:
            while not stop.wait(self.scan_every):
                self._scan(verdict)

        thread = threading.Thread(target=scanner, daemon=True)
        thread.start()
        try:
            yield verdict
        finally:
            stop.set()
            thread.join()
        after = cpu_ticks()
        verdict.seconds = round(time.monotonic() - start, 2)
        self._scan(verdict)
        ours |= self._ours_for_cpu()
        share, per = other_cpu(before, after, ours, max(verdict.seconds, 0.01), self.within)
        verdict.other_cpu = round(share, 1)
        if share > self.max_other_cpu:
            verdict.problems.append(f"other processes used {share:.1f} % of one core over {verdict.seconds:g} s "
                                    f"(at most {self.max_other_cpu:g} %)")
            for pid, pname, percent in per[:8]:
                if percent >= MIN_NAMED_CPU:
                    verdict.add(Offender(pid, pname, f"{percent:.1f} % of one core"))
        if load1 is not None and load1 > self.max_load:
            verdict.problems.append(f"1-minute load average {load1:.2f} (at most {self.max_load:g}; wait until "
                                    f"the machine has been idle for a minute)")
        self.verdicts.append(verdict)
        if self.refuse and not verdict.clean:
            raise Unclean(verdict)

    def precheck(self, seconds: float = 3.0) -> Verdict:
        """Before the first run: the 1-minute load average, then a short window of doing nothing."""
        with self.window("before the first run", load1=os.getloadavg()[0]) as verdict:
            time.sleep(seconds)
        return verdict
