"""Benchmark: the Palim kiosk against Debian's `chromium --kiosk` on the same page, media and screen.

Run on a virtual screen of the device's size (the README's command):

    xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" .venv/bin/python bench/run.py

Both browsers join the same loopback stand-in room (jitsi_standin/ plus bench/standin.py: the camera goes through
a real WebRTC peer connection and comes back as the "family") with Chromium's fake 640x480 camera and microphone, and
the kiosk's own IFrame API options (kiosk/jitsi.py). Each run starts the kiosk twice (a cold start with a tap as soon as
the home screen shows, then a session: idle at home, tap, call) and Chromium once (idle page, tap, call), one after the
other on the same machine. The table shows medians over the runs with min-max, and our/Chromium ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import measure  # noqa: E402
import xpixel  # noqa: E402
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
    home_s: float | None = None
    home_logged_s: float | None = None
    ready_s: float | None = None
    cold_join_s: float | None = None
    tap_join_s: float | None = None
    idle_cpu: float | None = None
    idle_wakeups: float | None = None
    idle_pss: float | None = None
    idle_uss: float | None = None
    idle_procs: int | None = None
    call_cpu: float | None = None
    call_wakeups: float | None = None
    call_pss: float | None = None
    call_uss: float | None = None
    call_procs: int | None = None
    video: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------- helpers


class Browser:
    """A browser process we started; copies its output to the log and timestamps the kiosk's home-screen line."""

    def __init__(self, argv: list[str], env: dict, log) -> None:
        self.home_logged: float | None = None
        self.spawned = time.monotonic()
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.PIPE)
        self._log = log
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            if self.home_logged is None and b"home screen shown" in line:
                self.home_logged = time.monotonic()
            self._log.write(line)
        self._log.flush()

    @property
    def pid(self) -> int:
        return self.proc.pid


def wait_painted(screen: xpixel.Screen, baseline: int, timeout: float) -> float:
    """Time when the middle of the screen first changed from the empty screen's colour: the first frame shown."""
    deadline = time.monotonic() + timeout
    while screen.pixel(WIDTH // 2, HEIGHT // 2) == baseline:
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing painted within {timeout} s")
        time.sleep(0.002)
    return time.monotonic()


def empty_screen(screen: xpixel.Screen) -> int:
    """The colour of the middle of the screen once the last browser's window is gone."""
    first = screen.pixel(WIDTH // 2, HEIGHT // 2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = screen.pixel(WIDTH // 2, HEIGHT // 2)
        if now == first:
            return now
        first = now
    return first


def tap(env: dict) -> float:
    """Click the middle of the screen (the call button in both kiosks); returns the time just before the click."""
    when = time.monotonic()
    subprocess.run(["xdotool", "mousemove", str(WIDTH // 2), str(HEIGHT // 2), "click", "1"], env=env, check=True,
                   timeout=10)
    return when


def stop(browser: Browser) -> None:
    """End a browser we started and everything it started."""
    proc = browser.proc
    family = measure.tree(proc.pid)
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    for child in family[1:]:
        try:
            child.kill()
        except Exception:  # noqa: BLE001 (gone already)
            pass


def phase_idle(pid: int, windows: Windows, result: Result) -> None:
    start = time.monotonic()
    before = measure.snapshot(pid, start)
    time.sleep(windows.idle)
    after = measure.snapshot(pid, time.monotonic())
    result.idle_cpu, result.idle_wakeups = measure.usage(before, after, time.time() - windows.idle)
    result.idle_pss, result.idle_uss, result.idle_procs = measure.memory(pid)


def phase_call(pid: int, server: BenchStandin, env: dict, windows: Windows, result: Result) -> None:
    mark = time.monotonic()
    tapped = tap(env)
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
    start = time.monotonic()
    before = measure.snapshot(pid, start)
    time.sleep(windows.cpu)
    after = measure.snapshot(pid, time.monotonic())
    result.call_cpu, result.call_wakeups = measure.usage(before, after, time.time() - windows.cpu)
    time.sleep(max(0.0, windows.call - (time.monotonic() - joined)))
    result.call_pss, result.call_uss, result.call_procs = measure.memory(pid)


# ---------------------------------------------------------------------------------------------------- the kiosk


def kiosk_env(base: dict, extra_flags: list[str], extra_env: dict) -> dict:
    env = dict(base)
    flags = env.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    for flag in ["--use-fake-device-for-media-stream", "--log-level=3", *extra_flags]:
        if flag not in flags:
            flags.append(flag)
    env["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(flags)
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    env.update(extra_env)
    return env


def start_kiosk(config: Path, env: dict, log) -> Browser:
    return Browser([sys.executable, "-m", "kiosk", "--config", str(config), "--windowed", "--size",
                    f"{WIDTH}x{HEIGHT}"], env, log)


def kiosk_cold(config: Path, server: BenchStandin, screen: xpixel.Screen, env: dict, log) -> Result:
    """Spawn → home painted → tap at once → page ready (the queued join leaves it) → joined."""
    result = Result("palim")
    server.reset()
    baseline = empty_screen(screen)
    browser = start_kiosk(config, env, log)
    try:
        painted = wait_painted(screen, baseline, 60)
        result.home_s = painted - browser.spawned
        tapped = tap(env)
        ready = server.wait_first("request", "/external_api.js", browser.spawned, 60)
        result.ready_s = ready - browser.spawned
        joined = server.wait_first("report", "joined", browser.spawned, 60)
        result.cold_join_s = joined - tapped
        if browser.home_logged:
            result.home_logged_s = browser.home_logged - browser.spawned
    finally:
        stop(browser)
    return result


def kiosk_session(config: Path, server: BenchStandin, screen: xpixel.Screen, env: dict, windows: Windows, log,
                  result: Result) -> None:
    server.reset()
    baseline = empty_screen(screen)
    browser = start_kiosk(config, env, log)
    try:
        wait_painted(screen, baseline, 60)
        time.sleep(windows.settle)
        phase_idle(browser.pid, windows, result)
        phase_call(browser.pid, server, env, windows, result)
    finally:
        stop(browser)


# ---------------------------------------------------------------------------------------------------- chromium


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_session(binary: str, server: BenchStandin, screen: xpixel.Screen, env: dict, windows: Windows, extra_flags: list[str], log,
                     profile_root: Path) -> Result:
    result = Result("chromium")
    server.reset()
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=profile_root))
    flags = [
        "--kiosk", *CHROMIUM_QUIET, f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
        "--window-position=0,0", "--use-fake-device-for-media-stream",
        # A Chromium kiosk grants camera and microphone by policy (VideoCaptureAllowedUrls); this switch does the same
        # without writing to /etc/chromium/policies. The prompt UI is never drawn in either case.
        "--use-fake-ui-for-media-stream",
        f"--ignore-certificate-errors-spki-list={server.spki_sha256_b64}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")
    flags += extra_flags
    baseline = empty_screen(screen)
    browser = Browser([binary, *flags, server.bench_host_url(ROOM)], env, log)
    try:
        painted = wait_painted(screen, baseline, 60)
        result.home_s = painted - browser.spawned
        ready = server.wait_first("request", "/_bench/options.json", browser.spawned, 60)
        result.ready_s = ready - browser.spawned
        time.sleep(windows.settle)
        phase_idle(browser.pid, windows, result)
        phase_call(browser.pid, server, env, windows, result)
    finally:
        stop(browser)
        shutil.rmtree(profile, ignore_errors=True)
    return result


# ---------------------------------------------------------------------------------------------------- report


ROWS = [  # (key, label, unit, digits, target ratio or None, absolute target text)
    ("home_s", "start → home painted (first frame on screen; Chromium: its idle page)", "s", 2, None, "≤ 1 s"),
    ("home_logged_s", "start → 'home screen shown' logged", "s", 2, None, ""),
    ("ready_s", "start → ready for a tap (Palim: queued join leaves the page; Chromium: page script ran)", "s", 2,
     None, ""),
    ("cold_join_s", "tap at home shown → joined (cold)", "s", 2, None, ""),
    ("tap_join_s", "tap → videoConferenceJoined (warm)", "s", 2, None, "≤ 1.5 s"),
    ("idle_cpu", "idle at home: CPU % of one core", "%", 2, None, "≤ 0.5 %"),
    ("idle_wakeups", "idle at home: wake-ups/s (context switches)", "/s", 0, None, ""),
    ("idle_pss", "idle at home: tree PSS", "MiB", 0, 0.6, ""),
    ("idle_procs", "idle at home: processes", "", 0, None, ""),
    ("call_cpu", "in call: CPU % of one core", "%", 1, 1.0, ""),
    ("call_wakeups", "in call: wake-ups/s", "/s", 0, None, ""),
    ("call_pss", "in call: tree PSS", "MiB", 0, 0.8, ""),
    ("call_procs", "in call: processes", "", 0, None, ""),
]


def summary(values: list[float | None]) -> tuple[float, float, float] | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def fmt(stats: tuple[float, float, float] | None, digits: int, unit: str) -> str:
    if stats is None:
        return "—"
    med, lo, hi = stats
    unit = f" {unit}" if unit and unit not in ("%", "/s") else unit
    return f"{med:.{digits}f}{unit} ({lo:.{digits}f}–{hi:.{digits}f})"


def machine_info(chromium: str | None) -> list[str]:
    from PyQt6.QtCore import QLibraryInfo
    from PyQt6.QtWebEngineCore import qWebEngineChromiumVersion

    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    chromium_version = "not installed"
    if chromium:
        out = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        chromium_version = out.split(" built")[0] or "?"
    gpu = "none (/dev/dri absent)" if not os.path.exists("/dev/dri") else "/dev/dri present"
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; memory {memory:.1f} GiB; GPU: {gpu}",
        f"OS: {platform.platform()}; display {os.environ.get('DISPLAY', '?')} (Xvfb expected), window {WIDTH}x{HEIGHT}",
        f"Palim: Qt {QLibraryInfo.version().toString()}, QtWebEngine's Chromium {qWebEngineChromiumVersion()}; Debian {chromium_version}",
    ]


def table(results: list[Result], runs: int, windows: Windows, info: list[str], label: str) -> str:
    ours = [r for r in results if r.browser == "palim"]
    theirs = [r for r in results if r.browser == "chromium"]
    lines = [f"### {label}" if label else "### Results", ""]
    lines += [f"- {line}" for line in info]
    lines.append(f"- {runs} run(s); windows: idle {windows.idle:g} s, in-call CPU {windows.cpu:g} s after "
                 f"{windows.call_settle:g} s settling, PSS after {windows.call:g} s in the call")
    video = next((r.video for r in ours if r.video), None)
    cvideo = next((r.video for r in theirs if r.video), None)
    lines.append(f"- sent video (getSettings): Palim {video or '—'}, Chromium {cvideo or '—'}")
    lines += ["", "| figure | Palim kiosk median (min–max) | chromium --kiosk median (min–max) | ours/Chromium | target |",
              "| --- | --- | --- | --- | --- |"]
    for key, name, unit, digits, target_ratio, target_text in ROWS:
        mine = summary([getattr(r, key) for r in ours])
        other = summary([getattr(r, key) for r in theirs])
        ratio = "—"
        if mine and other and other[0]:
            ratio = f"{mine[0] / other[0]:.2f}"
        target = target_text or (f"ratio ≤ {target_ratio}" if target_ratio else "")
        if key == "call_cpu":
            target = "ratio ≤ 1.0"
        lines.append(f"| {name} | {fmt(mine, digits, unit)} | {fmt(other, digits, unit)} | {ratio} | {target} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per browser (default 5)")
    parser.add_argument("--quick", action="store_true", help="CI smoke: one run, windows of a few seconds")
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
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--log", type=Path, help="browsers' output (default: a temporary file, kept on failure)")
    args = parser.parse_args(argv)
    windows = QUICK if args.quick else Windows()
    if args.quick:
        args.runs = 1
    windows = Windows(settle=windows.settle, idle=args.idle or windows.idle, call_settle=windows.call_settle,
                      cpu=args.cpu or windows.cpu, call=args.call or max(windows.call, (args.cpu or 0) + 10))
    args.windows = windows
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.environ.get("DISPLAY"):
        print("bench: no DISPLAY: run it under xvfb-run (see docs/benchmarks.md)", file=sys.stderr)
        return 2
    if not shutil.which("xdotool"):
        print("bench: xdotool is missing (apt-get install xdotool): it taps the call button", file=sys.stderr)
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
    log_path = args.log or work / "browsers.log"
    results: list[Result] = []
    ok = False
    screen = xpixel.Screen()
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
        env = kiosk_env(base_env, args.kiosk_flag, extra_env)
        try:
            for run in range(1, args.runs + 1):
                print(f"bench: run {run}/{args.runs}", file=sys.stderr, flush=True)
                ours = kiosk_cold(config, server, screen, env, log) if not args.no_cold else Result("palim")
                kiosk_session(config, server, screen, env, args.windows, log, ours)
                results.append(ours)
                print(f"bench:   palim    {json.dumps(ours.__dict__)}", file=sys.stderr, flush=True)
                if chromium:
                    theirs = chromium_session(chromium, server, screen, base_env, args.windows, args.chromium_flag, log, work)
                    results.append(theirs)
                    print(f"bench:   chromium {json.dumps(theirs.__dict__)}", file=sys.stderr, flush=True)
            ok = True
        finally:
            screen.close()
            if not ok:
                print(f"bench: failed; browsers' output is in {log_path}", file=sys.stderr)
    info = machine_info(chromium)
    info.append(f"kiosk config jitsi: {args.jitsi or 'defaults'}; extra kiosk flags: "
                f"{' '.join(args.kiosk_flag) or 'none'}; extra kiosk env: {' '.join(args.kiosk_env) or 'none'}; "
                f"extra Chromium flags: {' '.join(args.chromium_flag) or 'none'}; Chromium page jitsi: "
                f"{args.chromium_jitsi or 'same as the kiosk'}; remote peer: {not args.no_peer}")
    text = table(results, args.runs, args.windows, info, args.label)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1), encoding="utf-8")
    if args.log is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
