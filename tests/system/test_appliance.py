"""Whole-appliance test: a fresh Debian 12, the project installed and `palim-provision apply` run the way city staff do
it, then booted with systemd-nspawn; the kiosk must come up on its own, as the unprivileged user, sandboxed.

Proves that package list, user, PAM, logind, cage, unit, environment, config path and permissions fit together on a
real Debian boot. Cannot prove: real DRM/KMS and input (cage runs headless here), real Wi-Fi (the keyfile is checked,
no radio joins), a real camera, or tty1 (a container has none). See README, "The whole-appliance test".
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from tests.requirements import need
from tests.system import appliance as ap

pytestmark = pytest.mark.system

HOME_TIMEOUT_S = 240  # the unit's own TimeoutStartSec is 180
GREEN, PAPER = 0x17592F, 0xF7F3EA  # the call button and the background (kiosk/ui/style.py)


@dataclass
class Appliance:
    booted: ap.Booted  # a test that reboots the container boots it again and puts the new one here
    boot_to_home_s: float
    cached_base: bool
    standin: ap.Standin | None = None
    active_at: float | None = None
    facts: dict = field(default_factory=dict)

    @property
    def run(self) -> ap.Run:
        return self.booted.run

    def systemctl(self, *args: str) -> str:
        return self.booted.sh(["systemctl", *args]).stdout.strip()

    def journal(self, unit: str = ap.UNIT) -> str:
        return self.booted.sh(["journalctl", "--no-pager", "-o", "cat", "-u", unit]).stdout

    def kiosk_uid(self) -> int:
        for line in self.run.path("/etc/passwd").read_text().splitlines():
            name, _, uid, *_ = line.split(":")
            if name == "kiosk":
                return int(uid)
        raise AssertionError("no kiosk user in /etc/passwd")


def _wait_for_home(booted: ap.Booted) -> float:
    """Seconds from launching the container until the kiosk's journal says the home screen is shown."""
    deadline = booted.started + HOME_TIMEOUT_S
    line = f"home screen shown for {ap.RESIDENT}"
    while time.monotonic() < deadline:
        if booted.nspawn.poll() is not None:
            raise AssertionError(f"the container stopped (exit {booted.nspawn.returncode}); console:\n"
                                 + booted.console.read_text()[-3000:])
        journal = booted.sh(["journalctl", "--no-pager", "-b", "-o", "json", "-u", ap.UNIT,
                             "--output-fields=MESSAGE,__MONOTONIC_TIMESTAMP"], timeout=15).stdout
        for entry in map(json.loads, journal.splitlines()):
            if line in str(entry.get("MESSAGE")):
                # The container shares the host's kernel, so its monotonic clock is ours: no polling error.
                return int(entry["__MONOTONIC_TIMESTAMP"]) / 1e6 - booted.started
        time.sleep(0.5)
    journal = booted.sh(["journalctl", "--no-pager", "-b", "-n", "150"], timeout=30).stdout
    raise AssertionError(f"no '{line}' in the journal of {ap.UNIT} {HOME_TIMEOUT_S} s after boot; last of the "
                         f"journal:\n{journal}")


def _wait_active(appliance: "Appliance", timeout: float) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = appliance.systemctl("is-active", ap.UNIT)
        if state == "active":
            if appliance.active_at is None:
                appliance.active_at = time.monotonic()
            break
        time.sleep(0.5)
    return state


@pytest.fixture(scope="module")
def appliance() -> Iterator[Appliance]:
    problem = ap.host_problem()
    need(problem is None, f"whole-appliance test not possible on this host: {problem}")

    def say(text: str) -> None:
        ap.REPORT.append(text)
        log.write(f"[system] {text}")

    started = time.monotonic()
    ap.WORK.mkdir(parents=True, exist_ok=True)
    run_dir = ap.WORK / time.strftime("run-%Y%m%dT%H%M%S")
    run_dir.mkdir()
    log = ap.Log(run_dir / "steps.log")
    say(f"log of every step: {log.path}")
    standin = run = booted = result = None
    boot_to_home = cached = None
    try:
        with log.phase("base"):
            base, cached = ap.ensure_base(log)
        with log.phase("stand-in"):
            standin = ap.start_standin(run_dir)
        with log.phase("provision"):
            run = ap.new_run(base, log)
            ap.provision(run, standin.pin)
            sandbox = ap.unprivileged_userns_works(run.root, log)
            ap.add_test_dropins(run, sandbox)
        if run.sandbox_disabled:
            say("NOTE: this container cannot give an unprivileged user the namespaces Chromium's sandbox needs, so "
                "a test-only drop-in sets QTWEBENGINE_DISABLE_SANDBOX=1: the sandbox is NOT tested here")
        with log.phase("boot to home"):
            booted = ap.boot(run, standin)
            boot_to_home = _wait_for_home(booted)
        result = Appliance(booted, boot_to_home, cached, standin)
        yield result
    finally:
        if result is not None:
            booted = result.booted  # the last boot
        with log.phase("power off"):
            exit_code = ap.poweroff(booted) if booted is not None else None
        if standin is not None:
            standin.stop()
        if run is not None:
            ap.teardown(run)
        phases = ", ".join(f"{name} {seconds} s" for name, seconds in log.phases.items())
        say(f"phases: {phases}; total {time.monotonic() - started:.0f} s")
        if booted is not None:
            say(f"boot to home screen: {boot_to_home:.1f} s (base {'cached' if cached else 'built now'}); "
                f"systemd-nspawn exit code at power off: {exit_code}")
        for key, value in (result.facts.items() if result is not None else ()):
            say(f"{key}: {value}")


def test_the_kiosk_unit_is_active_because_the_kiosk_said_ready(appliance):
    assert appliance.systemctl("show", "-p", "Type", "--value", ap.UNIT) == "notify"
    assert appliance.systemctl("is-enabled", ap.UNIT) == "enabled"
    assert appliance.systemctl("get-default") == "graphical.target"
    assert _wait_active(appliance, 20) == "active"
    assert appliance.systemctl("show", "-p", "StatusText", "--value", ap.UNIT) == "home screen shown"
    assert appliance.systemctl("show", "-p", "NRestarts", "--value", ap.UNIT) == "0"


def test_the_journal_shows_the_home_screen_for_the_resident(appliance):
    journal = appliance.journal()
    assert f"home screen shown for {ap.RESIDENT}" in journal, journal[-3000:]
    assert "Traceback" not in journal, journal[-3000:]


def test_the_kiosk_runs_as_the_unprivileged_user_with_the_sandbox_on(appliance):
    uid = appliance.kiosk_uid()
    assert uid != 0
    processes = appliance.booted.processes()
    kiosk = [p for p in processes if len(p["cmdline"]) > 1 and p["cmdline"][1].endswith("/bin/palim-kiosk")]
    assert len(kiosk) == 1, processes
    cage = [p for p in processes if p["cmdline"] and p["cmdline"][0].endswith("cage")]
    assert cage and all(p["uid"] == uid for p in cage), cage
    assert kiosk[0]["uid"] == uid
    web = [p for p in processes if p["cmdline"] and p["cmdline"][0].endswith("QtWebEngineProcess")]
    assert all(p["uid"] == uid for p in web), web
    need(not appliance.run.sandbox_disabled,
         "the container cannot give Chromium its namespaces, so a test-only drop-in disabled the sandbox: allow "
         "unprivileged user namespaces on the host (sysctl user.max_user_namespaces > 0; "
         "kernel.unprivileged_userns_clone=1 where that exists)")
    assert not [p for p in processes if "--no-sandbox" in p["cmdline"]], processes
    environ = appliance.booted.sh(["cat", f"/proc/{_ns_pid(appliance, kiosk[0]['pid'])}/environ"]).stdout
    assert "QTWEBENGINE_DISABLE_SANDBOX" not in environ
    # The proof that the sandbox is really on: the renderers Chromium forks from its sandboxed zygote run under a
    # seccomp-bpf filter (Seccomp: 2), and in PID and network namespaces of their own when the kernel allows it.
    assert web, "no QtWebEngineProcess runs at the home screen, so the sandbox cannot be seen"
    filtered = [p for p in web if p["seccomp"] == 2]
    assert filtered, web
    isolated = [p for p in filtered if p["userns"] != kiosk[0]["userns"] and p["netns"] != kiosk[0]["netns"]
                and p["pid_depth"] > kiosk[0]["pid_depth"]]
    appliance.facts["sandbox"] = (f"{len(filtered)} of {len(web)} QtWebEngine processes under seccomp-bpf, "
                                  f"{len(isolated)} of them in user, PID and network namespaces of their own")
    assert isolated, web


def _ns_pid(appliance: Appliance, host_pid: int) -> int:
    status = open(f"/proc/{host_pid}/status").read()
    return int(next(line.split()[-1] for line in status.splitlines() if line.startswith("NSpid:")))


def test_the_kiosk_user_has_its_sound_service_without_a_login(appliance):
    uid = appliance.kiosk_uid()
    assert appliance.systemctl("is-active", f"user@{uid}.service") == "active"
    names = {p["cmdline"][0].rsplit("/", 1)[-1] for p in appliance.booted.processes()
             if p["uid"] == uid and p["cmdline"]}
    assert {"pipewire", "pipewire-pulse", "wireplumber"} <= names, names


def test_the_wifi_keyfile_is_private_and_network_manager_took_it(appliance):
    keyfile = appliance.run.path("/etc/NetworkManager/system-connections/palim-erich-burger-heim.nmconnection")
    st = keyfile.stat()
    assert (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid) == (oct(0o600), 0, 0)
    assert appliance.run.psk in keyfile.read_text()
    names = appliance.booted.sh(["nmcli", "-t", "-f", "NAME", "connection", "show"]).stdout.split()
    assert "palim-erich-burger-heim" in names  # NetworkManager ignores keyfiles others can read


def test_logind_will_not_suspend_on_lid_close(appliance):
    for prop in ("HandleLidSwitch", "HandleLidSwitchExternalPower", "HandleSuspendKey"):
        out = appliance.booted.sh(["busctl", "get-property", "org.freedesktop.login1", "/org/freedesktop/login1",
                                   "org.freedesktop.login1.Manager", prop]).stdout.strip()
        assert out == 's "ignore"', (prop, out)


def test_no_unit_failed_at_boot(appliance):
    failed = appliance.systemctl("--failed", "--no-legend", "--plain")
    assert failed == "", failed


def support_screenshot(appliance):
    """SIGUSR1 to the kiosk, then its new support screenshot as a QImage."""
    import os
    import signal

    from PyQt6.QtGui import QImage

    shot = appliance.run.path("/var/lib/palim-kiosk/screenshot.png")
    before = shot.stat().st_mtime_ns if shot.exists() else None
    kiosk = [p for p in appliance.booted.processes()
             if len(p["cmdline"]) > 1 and p["cmdline"][1].endswith("/bin/palim-kiosk")]
    os.kill(kiosk[0]["pid"], signal.SIGUSR1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (shot.exists() and shot.stat().st_mtime_ns != before):
        time.sleep(0.2)
    assert shot.exists(), appliance.journal()[-2000:]
    time.sleep(0.5)  # written atomically, but give the rename a moment on the overlay
    image = QImage(str(shot))
    assert not image.isNull()
    return image


def test_the_support_screenshot_shows_the_home_screen(appliance):
    image = support_screenshot(appliance)
    w, h = image.width(), image.height()
    assert w >= 640 and h >= 480, (w, h)
    assert image.pixel(w // 2, h // 2) & 0xFFFFFF == GREEN, hex(image.pixel(w // 2, h // 2))
    for x, y in ((2, 2), (w - 3, 2), (2, h - 3), (w - 3, h - 3)):
        assert image.pixel(x, y) & 0xFFFFFF == PAPER, (x, y, hex(image.pixel(x, y)))
    colours = {image.pixel(x, y) for x in range(0, w, 16) for y in range(0, h, 16)}
    assert len(colours) > 8, "the screenshot is nearly blank"
    assert appliance.run.path("/var/lib/palim-kiosk").stat().st_uid == appliance.kiosk_uid()
    appliance.facts["screenshot"] = f"{w}x{h}"


def test_at_night_the_screen_goes_black_under_cage(appliance):
    """night.dark_hours over the whole day: the kiosk reloads its config and its idle home screen goes black under
    cage. The container has no /sys/class/backlight and cage 0.1.4 no output power protocol, so the kiosk says the
    screen only shows black; the support screenshot is black. The config goes back afterwards (issue 29)."""
    config = appliance.run.path("/etc/palim-kiosk/kiosk.yaml")
    original = config.read_bytes()
    try:
        config.write_bytes(original + b"night: {dark_hours: ['00:00-23:59']}\n")  # same inode: owner and mode stay
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "night: screen dark" not in appliance.journal():
            time.sleep(1)
        journal = appliance.journal()
        assert "night: the screen goes dark (night.dark_hours)" in journal, journal[-3000:]
        assert "night: screen dark (none)" in journal, journal[-3000:]  # no backlight, no compositor tool here
        image = support_screenshot(appliance)
        colours = {image.pixel(x, y) & 0xFFFFFF for x in range(0, image.width(), 16)
                   for y in range(0, image.height(), 16)}
        assert colours == {0}, f"not black: {sorted(map(hex, colours))[:5]}"
    finally:
        shown = appliance.journal().count("home screen shown for")
        config.write_bytes(original)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and appliance.journal().count("home screen shown for") <= shown:
            time.sleep(1)
    assert appliance.systemctl("is-active", ap.UNIT) == "active"


def test_the_watchdog_is_fed_from_the_kiosk(appliance):
    watchdog_s = int(appliance.systemctl("show", "-p", "WatchdogUSec", "--value", ap.UNIT).removesuffix("s") or 0)
    assert watchdog_s > 0
    assert _wait_active(appliance, 5) == "active", "the unit never became active (no READY=1)"
    time.sleep(max(0.0, appliance.active_at + watchdog_s + 5 - time.monotonic()))
    assert appliance.systemctl("is-active", ap.UNIT) == "active"
    assert appliance.systemctl("show", "-p", "NRestarts", "--value", ap.UNIT) == "0"
    assert "watchdog timeout" not in appliance.journal().lower()


def _clock_dropin(seconds_to_window: float, window_start: str = "03:30") -> tuple[str, str]:
    """A test-only drop-in whose time zone makes the device's local time `seconds_to_window` before its nightly
    window opens (a container shares the host's clock, so the zone moves instead: a POSIX TZ with seconds)."""
    hours, minutes = map(int, window_start.split(":"))
    now = datetime.now(timezone.utc)
    utc_seconds = now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6
    offset = round((hours * 3600 + minutes * 60 - seconds_to_window - utc_seconds) % 86400)
    offset = offset - 86400 if offset > 43200 else offset  # UTC-12 to UTC+12
    sign = "-" if offset >= 0 else "+"  # POSIX: positive is west of Greenwich
    value = abs(offset)
    zone = f"PAL{sign}{value // 3600:02d}:{value % 3600 // 60:02d}:{value % 60:02d}"
    return zone, f"# palim system test only: the device's local time just before its nightly window.\n[Service]\n" \
                 f"Environment=TZ={zone}\n"


def test_an_update_that_needs_a_reboot_reboots_the_device_in_its_nightly_window(appliance):
    """The whole way: the kiosk unit's RuntimeDirectory reaches the kiosk through cage, the kiosk quits for the
    reboot at its nightly restart, the unit's root ExecStopPost sees the marker before systemd removes the folder,
    and the container reboots; the device comes back to the home screen with nothing left asking for a reboot."""
    booted = appliance.booted
    uid = appliance.kiosk_uid()
    kiosk = [p for p in booted.processes() if len(p["cmdline"]) > 1 and p["cmdline"][1].endswith("/bin/palim-kiosk")]
    environ = booted.sh(["cat", f"/proc/{_ns_pid(appliance, kiosk[0]['pid'])}/environ"]).stdout.split("\0")
    assert "RUNTIME_DIRECTORY=/run/palim-kiosk" in environ
    assert booted.sh(["stat", "-c", "%u %a", "/run/palim-kiosk"]).stdout.split() == [str(uid), "755"]
    # Keep the journal across the reboot (a container's is in /run otherwise), to read it from outside afterwards.
    booted.sh(["mkdir", "-p", "/var/log/journal"], check=True)
    booted.sh(["journalctl", "--flush"], check=True)
    # The device's window is 03:30-04:30 (the example list's reboot_time); its local time 25 s before 03:30.
    zone, dropin = _clock_dropin(25)
    (appliance.run.path(f"/etc/systemd/system/{ap.UNIT}.d") / "zz-system-test-clock.conf").write_text(dropin)
    booted.sh(["systemctl", "daemon-reload"], check=True)
    booted.sh(["systemctl", "restart", ap.UNIT], check=True, timeout=60)
    homes = "home screen shown for"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and booted.sh(["journalctl", "--no-pager", "-b", "-o", "cat", "-u", ap.UNIT]
                                                     ).stdout.count(homes) < 2:
        time.sleep(0.5)
    local = booted.sh(["env", f"TZ={zone}", "date", "+%H:%M:%S"]).stdout.strip()
    # A kernel's package asks for the reboot so (unattended-upgrades' /etc/kernel/postinst.d hook).
    booted.sh(["sh", "-c", "echo linux-image-6.1.0-99-amd64 > /run/reboot-required.pkgs; touch /run/reboot-required"],
              check=True)
    try:
        code = booted.nspawn.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no reboot 2 min after {local} local time; journal:\n{appliance.journal()[-3000:]}")
    assert code == 133, booted.console.read_text()[-3000:]  # systemd-nspawn's exit code for a container's reboot
    journal = subprocess.run(["journalctl", "--no-pager", "-o", "cat", "-u", ap.UNIT,
                              f"--directory={appliance.run.path('/var/log/journal')}"],
                             capture_output=True, text=True).stdout
    assert "reboot for updates: /run/reboot-required is there (window 03:30-04:30)" in journal, journal[-3000:]
    assert "kiosk stopped (exit code 75)" in journal, journal[-3000:]
    assert "rebooting for updates: linux-image-6.1.0-99-amd64" in journal, journal[-3000:]
    assert "not rebooting" not in journal and "nightly restart (window" not in journal, journal[-3000:]
    # It comes back, and inside the window with nothing asking it stays.
    appliance.booted = again = ap.boot(appliance.run, appliance.standin)
    back = _wait_for_home(again)
    assert again.sh(["test", "-e", "/run/reboot-required"]).returncode == 1
    appliance.facts["reboot for updates"] = (f"the kiosk, restarted at {local} local time, quit for the reboot when "
                                             f"its window 03:30-04:30 opened; the container rebooted (exit 133) and "
                                             f"was home again {back:.1f} s after its new boot")


def test_the_appliance_powers_off_cleanly(appliance):
    assert ap.poweroff(appliance.booted) == 0
