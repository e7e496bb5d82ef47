"""Benchmark: the Palim kiosk against Debian's `chromium --kiosk` on the same page, media and screen.

The device's path (the result in docs/benchmarks.md): each browser as the one client of Debian's cage on wlroots'
headless backend with the pixman renderer (bench/wayland.py), the kiosk started as the device's unit starts it:

    .venv/bin/python bench/run.py

The earlier path, kept for comparison: windows on an X server (bench/x11.py):

    xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" .venv/bin/python bench/run.py --display x11

Both browsers join the same loopback stand-in room (jitsi_standin/ plus bench/standin.py: the camera goes through
a real WebRTC peer connection and comes back as the "family") with Chromium's fake 640x480 camera and microphone, and
the kiosk's own IFrame API options (kiosk/jitsi.py). Each run starts the kiosk twice (a cold start with a tap as soon as
the home screen shows, then a session: idle at home, tap, call) and Chromium once (idle page, tap, call), one after the
other on the same machine. Before each browser starts, the page cache is dropped (as after a device's boot, its files
are then read from disk); where the harness may not (not root), the run is marked "warm cache". The table shows
medians over the runs with min-max, and our/Chromium ratios.

Before the first run and during every measurement window, bench/clean.py checks that the machine is clean: no other
process maps QtWebEngine's or Chromium's libraries (PSS would be shared with it) and the machine is otherwise idle.
An unclean run is refused (exit status 3, naming the processes); with --allow-unclean it is kept, marked invalid in the
table and the JSON, and left out of the statistics. bench/report.py makes the table from the JSON (--json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import clean  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402
import wayland  # noqa: E402
import x11  # noqa: E402
from standin import BenchStandin  # noqa: E402

ROOM = "palim-bench-7q2m4k9x3c8v5b1n6z0r4t7w"
WIDTH, HEIGHT = 1280, 800
CHROMIUM_QUIET = ("--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-quic", "--no-default-browser-check", "--password-store=basic", "--noerrdialogs")


@dataclass
class Windows:
    """How long each phase lasts, in seconds."""

    settle: float = 3.0  # after the page is ready, before idle is measured
    idle: float = 60.0  # idle CPU window
    call_settle: float = 5.0  # after the remote peer is connected, before in-call CPU is measured
    cpu: float = 30.0  # in-call CPU window
    call: float = 60.0  # time in the call when PSS is taken


QUICK = Windows(settle=1.0, idle=3.0, call_settle=2.0, cpu=3.0, call=7.0)


@dataclass
class Result:
    """One browser's figures of one run; None where not measured."""

    browser: str
    run: int = 0
    clean: bool = True  # every check of this run's windows passed
    cache: str = "cold"  # "cold": the page cache was dropped before each start of this browser; else "warm"
    checks: list = field(default_factory=list)  # bench/clean.py's verdicts, one per window
    home_s: float | None = None
    home_logged_s: float | None = None
    ready_s: float | None = None
    cold_join_s: float | None = None
    tap_join_s: float | None = None
    idle_cpu: float | None = None
    idle_wakeups: float | None = None
    idle_frames: float | None = None  # frames per second the browser committed to the compositor (cage only)
    idle_pss: float | None = None
    idle_uss: float | None = None
    idle_rss: float | None = None
    idle_pss_anon: float | None = None  # smaps_rollup's split of the tree's PSS
    idle_pss_file: float | None = None
    idle_pss_shmem: float | None = None
    idle_roles: dict = field(default_factory=dict)
    idle_procs: int | None = None
    call_cpu: float | None = None
    call_display_cpu: float | None = None  # the compositor (cage) over the same window, not part of the tree's figure
    call_wakeups: float | None = None
    call_frames: float | None = None  # frames per second committed to cage, and the damaged megapixels per second
    call_damage_mpx: float | None = None
    call_threads: list | None = None  # the busiest threads over the in-call CPU window (measure.thread_usage)
    call_pss: float | None = None
    call_uss: float | None = None
    call_rss: float | None = None
    call_pss_anon: float | None = None  # smaps_rollup's split of the tree's PSS
    call_pss_file: float | None = None
    call_pss_shmem: float | None = None
    call_roles: dict = field(default_factory=dict)
    call_procs: int | None = None
    video: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------- helpers


class Browser:
    """A browser process we started on the display (under cage: as its client); copies its output to the log and
    timestamps the kiosk's home-screen line. `proc` is what was started (cage, or the browser on X11), `pid` the
    browser's own process: the root of the measured tree."""

    def __init__(self, argv: list[str], env: dict, log, display) -> None:
        self.home_logged: float | None = None
        argv, env = display.wrap(argv, env)
        self.spawned = time.monotonic()
        self.proc = subprocess.Popen(argv, cwd=display.cwd, env=env, stdout=log, stderr=subprocess.PIPE)
        self._log = log
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.pid = display.client(self.proc)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise

    def _read(self) -> None:
        for line in self.proc.stderr:
            if self.home_logged is None and b"home screen shown" in line:
                self.home_logged = time.monotonic()
            if b"Basic output test failed" in line:
                continue  # cage 0.1.4 on the headless backend, on every frame it tries direct scan-out: noise
            self._log.write(line)
        self._log.flush()


def wait_painted(display, baseline: int, timeout: float) -> float:
    """Time when the middle of the screen first changed from the empty screen's colour: the first frame shown."""
    deadline = time.monotonic() + timeout
    while display.pixel(WIDTH // 2, HEIGHT // 2) == baseline:
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing painted within {timeout} s")
        time.sleep(0.002)
    return time.monotonic()


def empty_screen(display) -> int:
    """The colour of the middle of the screen once the last browser's window is gone."""
    first = display.pixel(WIDTH // 2, HEIGHT // 2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = display.pixel(WIDTH // 2, HEIGHT // 2)
        if now == first:
            return now
        first = now
    return first


# How long a finger rests on the button in a tap (a quick tap is about 0.1 s; residents often hold longer).
TAP_HOLD_S = 0.1


def tap(display) -> float:
    """Tap the middle of the screen (the call button in both kiosks): press, hold, release; returns the time just
    before the press, so "tap -> joined" runs from the finger touching the button."""
    when = time.monotonic()
    display.tap(WIDTH // 2, HEIGHT // 2, TAP_HOLD_S)
    return when


def stop(browser: Browser) -> None:
    """End a browser we started and everything it started: the browser first (cage then ends with its client, as on a
    device), then whatever is left."""
    proc = browser.proc
    family = measure.tree(proc.pid)
    try:
        if browser.pid != proc.pid:
            os.kill(browser.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    except ProcessLookupError:
        proc.wait(15)
    for child in family[1:]:
        try:
            child.kill()
        except Exception:  # noqa: BLE001 (gone already)
            pass
    measure.psutil.wait_procs(family[1:], timeout=10)  # gone before the next window's library check


@contextmanager
def checked(guard: clean.Guard, result: Result, name: str):
    """A measurement window under the cleanliness check; its verdict goes into the result (or Unclean is raised)."""
    verdict = None
    try:
        with guard.window(f"run {result.run}: {result.browser} {name}") as verdict:
            yield verdict
    finally:
        if verdict is not None and verdict.seconds:
            result.checks.append(verdict.to_json())
            result.clean = result.clean and verdict.clean


def drop_page_cache() -> bool:
    """Write back and drop the page cache, so the browser's files are read from disk as after a device's boot.
    False where the harness may not (not root, or /proc/sys read-only): the run is then marked "warm cache"."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as control:
            control.write("3\n")
        return True
    except OSError:
        return False


def cold_start(result: Result, cold: bool) -> None:
    """Before a browser starts: drop the page cache when asked to; a run where it could not be dropped is warm."""
    if not (cold and drop_page_cache()):
        result.cache = "warm"


def take_memory(pid: int, result: Result, phase: str) -> None:
    tree = measure.tree_memory(pid)
    for key in ("pss", "uss", "rss", "procs", "pss_anon", "pss_file", "pss_shmem"):
        setattr(result, f"{phase}_{key}", tree[key])
    setattr(result, f"{phase}_roles", measure.roles_memory(pid))


SHOTS: Path | None = None  # --screenshots: where the compositor's pictures of each browser at home and in a call go


def shoot(display, result: Result, what: str) -> None:
    """A picture of the whole screen from the compositor (cage only), to look at what was measured."""
    if SHOTS is not None and hasattr(display, "screenshot"):
        display.screenshot(SHOTS / f"run{result.run}-{result.browser}-{what}.png")


def frame_rates(display, before: tuple[int, int] | None, seconds: float) -> tuple[float | None, float | None]:
    """Frames per second and damaged megapixels per second since `before` (display.frames()); None on X11."""
    after = display.frames()
    if before is None or after is None:
        return None, None
    return (after[0] - before[0]) / seconds, (after[1] - before[1]) / seconds / 1e6


def phase_idle(pid: int, display, windows: Windows, result: Result) -> None:
    start = time.monotonic()
    before = measure.snapshot(pid, start)
    frames = display.frames()
    time.sleep(windows.idle)
    after = measure.snapshot(pid, time.monotonic())
    result.idle_frames = frame_rates(display, frames, after.when - before.when)[0]
    result.idle_cpu, result.idle_wakeups = measure.usage(before, after, time.time() - windows.idle)
    take_memory(pid, result, "idle")


def _cpu_seconds(pid: int) -> float:
    try:
        times = measure.psutil.Process(pid).cpu_times()
        return times.user + times.system
    except measure.psutil.NoSuchProcess:
        return 0.0


def phase_call(browser: Browser, server: BenchStandin, display, windows: Windows, result: Result) -> None:
    pid = browser.pid
    mark = time.monotonic()
    tapped = tap(display)
    joined = server.wait_first("report", "joined", mark, 30)
    result.tap_join_s = joined - tapped
    try:
        server.wait_first("report", "bench-peer", mark, 30)
    except TimeoutError:
        pass  # measured without the remote peer; shows as missing video figures
    for report in server.reports:
        if report.get("type") == "bench-peer":
            result.video = {k: report.get(k) for k in ("width", "height", "frameRate")}
    time.sleep(windows.call_settle)
    shoot(display, result, "call")
    start = time.monotonic()
    before = measure.snapshot(pid, start)
    compositor = _cpu_seconds(browser.proc.pid) if browser.proc.pid != pid else None
    frames = display.frames()
    time.sleep(windows.cpu)
    after = measure.snapshot(pid, time.monotonic())
    result.call_frames, result.call_damage_mpx = frame_rates(display, frames, after.when - before.when)
    result.call_cpu, result.call_wakeups = measure.usage(before, after, time.time() - windows.cpu)
    if compositor is not None:
        result.call_display_cpu = 100.0 * (_cpu_seconds(browser.proc.pid) - compositor) / (after.when - before.when)
    result.call_threads = measure.thread_usage(before, after)
    time.sleep(max(0.0, windows.call - (time.monotonic() - joined)))
    take_memory(pid, result, "call")


# ---------------------------------------------------------------------------------------------------- the kiosk


def kiosk_env(base: dict, extra_flags: list[str], extra_env: dict, display) -> dict:
    """The kiosk's environment: on the device's path the unit's own Environment= (QT_QPA_PLATFORM=wayland, ...)."""
    env = dict(base)
    if display.name == "wayland":
        env.update(wayland.unit_environment())
    flags = env.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    for flag in ["--use-fake-device-for-media-stream", "--log-level=3", *extra_flags]:
        if flag not in flags:
            flags.append(flag)
    env["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(flags)
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    env.update(extra_env)
    return env


def start_kiosk(config: Path, env: dict, log, display) -> Browser:
    if display.name == "wayland":
        # As the unit starts it: the installed console script, fullscreen on cage's output.
        return Browser([str(Path(sys.executable).parent / "palim-kiosk"), "--config", str(config)], env, log, display)
    return Browser([sys.executable, "-m", "kiosk", "--config", str(config), "--windowed", "--size",
                    f"{WIDTH}x{HEIGHT}"], env, log, display)


def kiosk_cold(config: Path, server: BenchStandin, display, env: dict, log, guard: clean.Guard,
               result: Result, cold: bool) -> None:
    """Spawn → home painted → tap at once → page ready (the queued join leaves it) → joined."""
    server.reset()
    baseline = empty_screen(display)
    cold_start(result, cold)
    with checked(guard, result, "cold start"):
        browser = start_kiosk(config, env, log, display)
        try:
            _cold(browser, server, display, baseline, result)
        finally:
            stop(browser)


def _cold(browser: Browser, server: BenchStandin, display, baseline: int, result: Result) -> None:
    painted = wait_painted(display, baseline, 60)
    result.home_s = painted - browser.spawned
    tapped = tap(display)
    ready = server.wait_first("request", "/external_api.js", browser.spawned, 60)
    result.ready_s = ready - browser.spawned
    joined = server.wait_first("report", "joined", browser.spawned, 60)
    result.cold_join_s = joined - tapped
    if browser.home_logged:
        result.home_logged_s = browser.home_logged - browser.spawned


def kiosk_session(config: Path, server: BenchStandin, display, env: dict, windows: Windows, log,
                  result: Result, guard: clean.Guard, cold: bool) -> None:
    server.reset()
    baseline = empty_screen(display)
    cold_start(result, cold)
    browser = None
    try:
        with checked(guard, result, "idle"):
            browser = start_kiosk(config, env, log, display)
            wait_painted(display, baseline, 60)
            time.sleep(windows.settle)
            shoot(display, result, "home")
            phase_idle(browser.pid, display, windows, result)
        with checked(guard, result, "call"):
            phase_call(browser, server, display, windows, result)
    finally:
        if browser is not None:
            stop(browser)


# ---------------------------------------------------------------------------------------------------- both


def trusting_home(server: BenchStandin, work: Path) -> Path:
    """A HOME whose NSS database trusts the stand-in's certificate, as both browsers trust a city's public one.

    Chromium and QtWebEngine read $HOME/.pki/nssdb. Without it every new connection would first fail its handshake and
    be let through afterwards (the kiosk's pin check, Chromium's --ignore-certificate-errors-spki-list), costing the
    kiosk about 30 ms per tap that a device talking to a server with a public certificate never pays.
    """
    database = work / "home" / ".pki" / "nssdb"
    database.mkdir(parents=True)
    for argv in (["certutil", "-N", "-d", f"sql:{database}", "--empty-password"],
                 ["certutil", "-A", "-d", f"sql:{database}", "-n", "palim-bench-standin", "-t", "P,,",
                  "-i", str(server.cert_path)]):
        subprocess.run(argv, check=True, capture_output=True)
    return work / "home"


# ---------------------------------------------------------------------------------------------------- chromium


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_session(binary: str, server: BenchStandin, display, env: dict, windows: Windows,
                     extra_flags: list[str], log, profile_root: Path, guard: clean.Guard, result: Result,
                     cold: bool) -> None:
    server.reset()
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=profile_root))
    flags = [
        "--kiosk", *CHROMIUM_QUIET, f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
        "--window-position=0,0", "--use-fake-device-for-media-stream",
        # A Chromium kiosk grants camera and microphone by policy (VideoCaptureAllowedUrls); this switch does the same
        # without writing to /etc/chromium/policies. The prompt UI is never drawn in either case.
        "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")
    if display.name == "wayland":
        flags.append("--ozone-platform=wayland")  # a Wayland client of cage, like the kiosk
    flags += extra_flags
    baseline = empty_screen(display)
    cold_start(result, cold)
    browser = None
    try:
        with checked(guard, result, "idle"):
            browser = Browser([binary, *flags, server.bench_host_url(ROOM)], env, log, display)
            painted = wait_painted(display, baseline, 60)
            result.home_s = painted - browser.spawned
            ready = server.wait_first("request", "/_bench/options.json", browser.spawned, 60)
            result.ready_s = ready - browser.spawned
            time.sleep(windows.settle)
            shoot(display, result, "home")
            phase_idle(browser.pid, display, windows, result)
        with checked(guard, result, "call"):
            phase_call(browser, server, display, windows, result)
    finally:
        if browser is not None:
            stop(browser)
        shutil.rmtree(profile, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- machine facts


VERSIONS = """\
import json, sys
from PyQt6.QtCore import PYQT_VERSION_STR, QLibraryInfo
from PyQt6.QtWebEngineCore import qWebEngineChromiumVersion
print(json.dumps({"python": sys.version.split()[0], "qt": QLibraryInfo.version().toString(),
                  "pyqt": PYQT_VERSION_STR, "qtwebengine_chromium": qWebEngineChromiumVersion()}))
"""


def machine_facts(chromium: str | None, display) -> dict:
    """CPU, cores, memory, kernel and the browsers' versions. Qt's are read in a child process that ends at once:
    the harness itself must not map QtWebEngine (bench/clean.py would name it)."""
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = json.loads(subprocess.run([sys.executable, "-c", VERSIONS], capture_output=True, text=True,
                                         check=True, timeout=60).stdout)
    chromium_version = "not installed"
    if chromium:
        out = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        chromium_version = out.split(" built")[0] or "?"
    return {
        "cpu": cpu, "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "gpu": "none (/dev/dri absent)" if not os.path.exists("/dev/dri") else "/dev/dri present",
        "kernel": platform.release(), "os": platform.platform(), **display.facts(), **versions,
        "chromium": chromium_version,
    }


# ---------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per browser (default 5)")
    parser.add_argument("--quick", action="store_true", help="CI smoke: one run, windows of a few seconds")
    parser.add_argument("--display", choices=("wayland", "x11"), default="wayland",
                        help="wayland (default): each browser as cage's client on wlroots' headless backend, as on a "
                             "device; x11: windows on $DISPLAY (Xvfb), the earlier path")
    parser.add_argument("--warm-cache", action="store_true",
                        help="do not drop the page cache before each browser's start (runs marked warm cache)")
    parser.add_argument("--idle", type=float, help="idle CPU window in s (default 60)")
    parser.add_argument("--cpu", type=float, help="in-call CPU window in s (default 30)")
    parser.add_argument("--call", type=float, help="seconds in the call before PSS is taken (default 60)")
    parser.add_argument("--no-chromium", action="store_true", help="measure the kiosk only")
    parser.add_argument("--no-cold", action="store_true", help="skip the kiosk's cold-start launches")
    parser.add_argument("--no-peer", action="store_true", help="no WebRTC peer: the stand-in's plain mirrored tile")
    parser.add_argument("--kiosk-flag", action="append", default=[], help="extra QTWEBENGINE_CHROMIUM_FLAGS (experiments)")
    parser.add_argument("--kiosk-env", action="append", default=[], help="extra KEY=VALUE for the kiosk (experiments)")
    parser.add_argument("--chromium-flag", action="append", default=[], help="extra Chromium switch (experiments)")
    parser.add_argument("--jitsi", default="", help="YAML flow mapping for the config's jitsi key, e.g. '{profile: normal}'")
    parser.add_argument("--chromium-jitsi", default=None,
                        help="jitsi mapping for the Chromium page's options only (default: the kiosk's)")
    parser.add_argument("--label", default="", help="heading of the table")
    parser.add_argument("--json", type=Path, help="also write every run's figures and the machine facts here "
                                                  "(bench/report.py makes the table from it)")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--screenshots", type=Path, help="save the compositor's picture of each browser at home and "
                                                         "in the call in this folder (--display wayland)")
    parser.add_argument("--log", type=Path, help="browsers' output (default: a temporary file, kept on failure)")
    parser.add_argument("--allow-unclean", action="store_true",
                        help="keep a run that fails the cleanliness check, marked invalid and left out of the "
                             "statistics (default: refuse it, exit status 3)")
    parser.add_argument("--max-other-cpu", type=float, default=clean.MAX_OTHER_CPU,
                        help="CPU %% of one core all other processes may use together in a window (default %(default)s)")
    parser.add_argument("--max-load", type=float, default=None,
                        help="1-minute load average allowed before the first run (default 0.25 per core)")
    args = parser.parse_args(argv)
    windows = QUICK if args.quick else Windows()
    if args.quick:
        args.runs = 1
    windows = Windows(settle=windows.settle, idle=args.idle or windows.idle, call_settle=windows.call_settle,
                      cpu=args.cpu or windows.cpu, call=args.call or max(windows.call, (args.cpu or 0) + 10))
    args.windows = windows
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    global SHOTS
    SHOTS = args.screenshots
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
    if args.display == "x11" and not os.environ.get("DISPLAY"):
        print("bench: no DISPLAY: run --display x11 under xvfb-run (see docs/benchmarks.md)", file=sys.stderr)
        return 2
    if args.display == "x11" and not shutil.which("xdotool"):
        print("bench: xdotool is missing (apt-get install xdotool): it taps the call button", file=sys.stderr)
        return 2
    if not shutil.which("certutil"):
        print("bench: certutil is missing (apt-get install libnss3-tools): the browsers trust the stand-in through it",
              file=sys.stderr)
        return 2
    chromium = None if args.no_chromium else chromium_binary()
    if not args.no_chromium and chromium is None:
        print("bench: chromium is missing (apt-get install chromium); use --no-chromium for the kiosk alone",
              file=sys.stderr)
        return 2

    from kiosk.config import config_from_text
    from kiosk.jitsi import join_options
    from kiosk.staff import hash_pin

    work = Path(tempfile.mkdtemp(prefix="palim-bench-"))
    try:
        display = wayland.Cage(work, WIDTH, HEIGHT) if args.display == "wayland" else x11.X11(WIDTH, HEIGHT)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as missing:
        print(f"bench: cannot use the {args.display} display: {missing}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        return 2
    facts = machine_facts(chromium, display)
    guard = clean.Guard(refuse=not args.allow_unclean, max_other_cpu=args.max_other_cpu, max_load=args.max_load)
    try:
        precheck = guard.precheck(2.0 if args.quick else 5.0)
    except clean.Unclean as refused:
        print(f"bench: refused, the machine is not clean: {refused}\n(--allow-unclean keeps such a run, marked "
              f"invalid)", file=sys.stderr)
        display.close()
        shutil.rmtree(work, ignore_errors=True)
        return 3
    print(f"bench: {precheck.message()}", file=sys.stderr, flush=True)
    log_path = args.log or work / "browsers.log"
    results: list[Result] = []
    ok = False
    cold = not args.warm_cache
    extra_env = dict(item.split("=", 1) for item in args.kiosk_env)
    base_env = dict(os.environ)
    with open(log_path, "ab") as log, BenchStandin(remote_peer=not args.no_peer) as server:
        config = work / "kiosk.yaml"
        text = (f"server: {server.url}\nroom: {ROOM}\nresident: Erna Müller\nlanguage: de\n"
                f"tls_pins: ['{server.cert_sha256}']\nadmin_pin_hash: '{hash_pin('2468', force=True)}'\n"
                f"health: {{usage_log: {work / 'usage.jsonl'}}}\n")
        if args.jitsi:
            text += f"jitsi: {args.jitsi}\n"
        config.write_text(text, encoding="utf-8")
        chromium_text = text
        if args.chromium_jitsi is not None:
            chromium_text = text.split("jitsi: ")[0] + f"jitsi: {args.chromium_jitsi}\n"
        # The Chromium kiosk's page uses exactly the kiosk's options, judged on this machine like the kiosk does.
        server.join_options = join_options(config_from_text(chromium_text))
        base_env["HOME"] = str(trusting_home(server, work))
        env = kiosk_env(base_env, args.kiosk_flag, extra_env, display)
        try:
            for run in range(1, args.runs + 1):
                print(f"bench: run {run}/{args.runs}", file=sys.stderr, flush=True)
                ours = Result("palim", run=run)
                if not args.no_cold:
                    kiosk_cold(config, server, display, env, log, guard, ours, cold)
                kiosk_session(config, server, display, env, args.windows, log, ours, guard, cold)
                results.append(ours)
                print(f"bench:   palim    {json.dumps(ours.__dict__)}", file=sys.stderr, flush=True)
                if chromium:
                    theirs = Result("chromium", run=run)
                    chromium_session(chromium, server, display, base_env, args.windows, args.chromium_flag, log,
                                     work, guard, theirs, cold)
                    results.append(theirs)
                    print(f"bench:   chromium {json.dumps(theirs.__dict__)}", file=sys.stderr, flush=True)
            ok = True
        except clean.Unclean as refused:
            print(f"bench: refused, the machine is not clean: {refused}\n(--allow-unclean keeps such a run, marked "
                  f"invalid; the browsers' output is in {log_path})", file=sys.stderr)
            return 3
        finally:
            display.close()
            if not ok:
                print(f"bench: failed; browsers' output is in {log_path}", file=sys.stderr)
    for result in results:
        for verdict in result.checks:
            if not verdict["clean"]:
                print(f"bench: INVALID {verdict['window']}: {'; '.join(verdict['problems'])}; offenders: "
                      + ", ".join(f"{o['name']} (pid {o['pid']}): {o['why']}" for o in verdict["offenders"]),
                      file=sys.stderr)
    data = {
        "format": 1,
        "label": args.label,
        "command": "bench/run.py " + " ".join(argv),
        "machine": facts,
        "settings": {"runs": args.runs, "display": args.display, "cache": "warm" if args.warm_cache else "cold",
                     "windows": args.windows.__dict__, "jitsi": args.jitsi,
                     "kiosk_flags": args.kiosk_flag, "kiosk_env": args.kiosk_env, "chromium_flags": args.chromium_flag,
                     "chromium_jitsi": args.chromium_jitsi, "remote_peer": not args.no_peer},
        "cleanliness": {"mode": "allow-unclean" if args.allow_unclean else "refuse", "thresholds": guard.thresholds(),
                        "precheck": precheck.to_json()},
        "clean": precheck.clean and all(r.clean for r in results),
        "runs": [r.__dict__ for r in results],
    }
    text = report.table(data)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.log is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
