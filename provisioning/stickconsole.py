"""The installer's console on tty1: the screen (also the log on the stick and the serial console), key presses one
at a time, the install's progress redrawn, the font and keymap, the wait for the stick to be pulled. The texts and
decisions are stickscreen.py's; this module only shows and reads.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import termios
import threading
import time
import tty
from pathlib import Path

from .rootfs import CONSOLE_FONT, Log
from .stickscreen import ESC, Key, key, overall, progress_lines

CONSOLE_KEYMAP = "/etc/console-setup/cached_UTF-8_del.kmap.gz"  # console-setup's German keymap (rootfs.py)
PULL_WAIT_S = 60


class NoKeyboard(Exception):
    """The installer's input ended (no terminal, no keys to come)."""


class Screen:
    """What the helper reads: tty1 (stdout), the log on the stick, and the serial console when one is active."""

    def __init__(self, log: Log):
        self.log = log
        try:
            active = Path("/sys/class/tty/console/active").read_text().split()
        except OSError:
            active = []
        self.serial = "/dev/ttyS0" if "ttyS0" in active else None

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.note(text)

    def note(self, text: str) -> None:
        """Into the log and onto the serial console only (a progress line redrawn on the screen)."""
        try:
            self.log.write(f"[{time.strftime('%H:%M:%S')}] {text}")
        except OSError:  # the stick was pulled
            pass
        if self.serial:
            try:  # never wait for a serial line nobody reads
                fd = os.open(self.serial, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
                try:
                    os.write(fd, f"palim-installer: {text}\r\n".encode())
                finally:
                    os.close(fd)
            except OSError:
                pass

    def page(self, lines: list[str]) -> None:
        """A new screen: cleared, the lines from the top (on a terminal; a test's stdout gets the lines only)."""
        if sys.stdout.isatty():  # cleared; the cursor shown again (the progress hid it)
            print("\x1b[2J\x1b[H\x1b[?25h", end="")
        for line in lines:
            self.say(line)


class Keys:
    """Key presses from tty1, one at a time (no line editing by the terminal: Esc and a letter count at once)."""

    def read(self) -> str:
        if not sys.stdin.isatty():
            char = sys.stdin.read(1)
            if not char:
                raise NoKeyboard("Keine Tastatur: die Eingabe des Installers ist zu Ende.")
            return char
        fd = sys.stdin.fileno()
        char = os.read(fd, 1).decode(errors="replace")
        if char == ESC:  # an arrow or function key sends Esc and more: all of it is one key
            while select.select([fd], [], [], 0.05)[0]:
                os.read(fd, 16)
        return char

    def entry(self, screen: Screen) -> Key:
        """Digits until Enter, Esc or another key; the digits are shown as they are typed."""
        terminal = sys.stdin.isatty()
        old = termios.tcgetattr(sys.stdin.fileno()) if terminal else None
        if terminal:
            tty.setcbreak(sys.stdin.fileno())  # keys one by one, not echoed by the terminal (shown below)
        try:
            digits = ""
            while True:
                pressed = key(digits, self.read())
                if pressed.event:
                    if terminal:
                        print(flush=True)
                    screen.note(f"getippt: {pressed.digits!r} {pressed.event}")
                    return pressed
                if terminal:  # the digit, or Backspace's erase
                    print(pressed.digits[len(digits):] if len(pressed.digits) > len(digits) else "\b \b", end="",
                          flush=True)
                digits = pressed.digits
        finally:
            if terminal:
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, old)


def console(log: Log) -> None:
    """tty1 readable from a metre and typed on a German keyboard: Terminus 16x32, the German keymap, NumLock on for
    the number pad. A failure is logged: the install goes on in the kernel's font and layout (digits are the same)."""
    for argv in (["setfont", "-C", "/dev/tty1", CONSOLE_FONT], ["loadkeys", "-q", CONSOLE_KEYMAP],
                 ["setleds", "-D", "+num"]):
        try:  # setleds sets the console on its standard input: tty1, the installer's own
            done = subprocess.run(argv, stdin=sys.stdin if sys.stdin.isatty() else subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=30)
            log.write(f"$ {' '.join(argv)}: exit {done.returncode} {(done.stdout + done.stderr).strip()}")
        except (OSError, subprocess.SubprocessError) as exc:
            log.write(f"{argv[0]}: {exc}")


class Progress:
    """The install screen, redrawn every two seconds while a step runs; each step and each tenth into the log."""

    def __init__(self, screen: Screen):
        self.screen, self.started, self.logged = screen, time.monotonic(), (-1, -1)

    def show(self, step: int, within: float) -> None:
        lines = progress_lines(step, within, time.monotonic() - self.started)
        if sys.stdout.isatty():  # the screen anew, without the cursor blinking under it
            print("\x1b[2J\x1b[H\x1b[?25l" + "\n".join(lines), flush=True)
        percent = int(overall(step, within) * 100)
        if (step, percent // 10) != self.logged:  # each step and each tenth, into the log
            self.logged = (step, percent // 10)
            self.screen.note(f"{lines[0]} – {percent} % – {lines[4]}")

    def during(self, step: int, work, measure) -> None:
        """Run `work` in a thread and show `measure()` (0..1 of the step) until it ends; its exception is raised."""
        failed: list[BaseException] = []

        def runner():
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - raised again below, in the installer's thread
                failed.append(exc)

        thread = threading.Thread(target=runner, daemon=True)
        thread.start()
        while thread.is_alive():
            self.show(step, measure())
            thread.join(2)
        if failed:
            raise failed[0]
        self.show(step, 1.0)


def wait_for_staff(screen: Screen) -> int:
    screen.say("Zum Ausschalten die Eingabetaste drücken.")
    try:
        sys.stdin.readline()
    except OSError:
        pass
    subprocess.run(["systemctl", "poweroff"], check=False)
    return 1


def reboot_when_pulled(screen: Screen, stick: str | None) -> None:
    """Beep, then reboot as soon as the stick is pulled (the kiosk starts from the disk), or after PULL_WAIT_S."""
    print("\a", end="", flush=True)
    deadline = time.monotonic() + PULL_WAIT_S
    while time.monotonic() < deadline:
        if stick and not Path(f"/sys/block/{stick}").exists():
            # Its root is gone: no program can be started from it. The disk is synced and unmounted: reboot at once.
            Path("/proc/sysrq-trigger").write_text("b")
        time.sleep(0.5)
    screen.note("the stick is still in: rebooting anyway")
    subprocess.run(["systemctl", "reboot"], check=False)
