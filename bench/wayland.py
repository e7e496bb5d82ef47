"""The device's display path for the benchmark: Debian's cage on wlroots' headless backend with the pixman renderer.

A device runs cage on tty1 with the kiosk as its one client (provisioning/templates/palim-kiosk.service); the bench
runs the same cage with `WLR_BACKENDS=headless` (no screen, no input devices) and `WLR_RENDERER=pixman` (wlroots'
software renderer, what a device without a usable GPU driver gets). Around it:

- **taps** go through wlroots' virtual-pointer protocol, which bench/cage_shim.c (preloaded into cage only) offers
  cage 0.1.4 as a new input device of its backend: the events pass cage's seat and cursor like a touchscreen's or a
  mouse's from libinput and reach the browser as wl_pointer events. This machine's kernel has no uinput, so ydotool
  cannot be used, and Debian 12 has no wlrctl. The client side is `VirtualPointer` below: the four requests it needs,
  written on the Wayland socket (Debian 12 packages no Python binding with this protocol's description).
- **pixels** come from the compositor's own output through wlr-screencopy (grim).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
UNIT = ROOT / "provisioning" / "templates" / "palim-kiosk.service"
BTN_LEFT = 0x110  # linux/input-event-codes.h


def unit_environment(unit: Path = UNIT) -> dict[str, str]:
    """The Environment= settings of the device's kiosk unit (QT_QPA_PLATFORM=wayland, ...): the kiosk gets them here
    exactly as on a device."""
    environment = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.startswith("Environment="):
            key, _, value = line[len("Environment="):].partition("=")
            environment[key] = value
    return environment


def build_shim(work: Path) -> Path:
    """Compile bench/cage_shim.c for this machine's wlroots (a few hundred ms); a clear error when a tool is missing."""
    for tool, package in (("cc", "gcc"), ("pkg-config", "pkg-config")):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing (apt-get install {package}): bench/cage_shim.c is built with it")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "wlroots"], capture_output=True, text=True)
    if flags.returncode != 0:
        raise RuntimeError("wlroots' headers are missing (apt-get install libwlroots-dev): bench/cage_shim.c is "
                           f"built against them ({flags.stderr.strip()})")
    target = work / "cage_shim.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-DWLR_USE_UNSTABLE", "-o", str(target),
                    str(HERE / "cage_shim.c"), *flags.stdout.split(), "-ldl"], check=True, capture_output=True)
    return target


# ---------------------------------------------------------------------------------------------------- the wire


def _u32(value: int) -> bytes:
    return struct.pack("=I", value & 0xFFFFFFFF)


def _string(text: str) -> bytes:
    data = text.encode() + b"\0"
    return _u32(len(data)) + data + b"\0" * (-len(data) % 4)


class VirtualPointer:
    """One zwlr_virtual_pointer_v1 on a compositor's socket: move to a point, press and release the left button.

    The Wayland wire format: each message is the object id, (size << 16 | opcode), then the arguments in 32-bit words
    (strings length-prefixed, NUL-terminated, padded to 4 bytes), in the machine's byte order.
    """

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.settimeout(timeout)
        self._socket.connect(str(path))
        self._received = b""
        self._next = 2
        registry = self._new()
        self._send(1, 1, _u32(registry))  # wl_display.get_registry
        globals_ = {}
        for obj, opcode, body in self._roundtrip():
            if obj == registry and opcode == 0:  # wl_registry.global(name, interface, version)
                name, length = struct.unpack_from("=II", body)
                globals_[body[8:8 + length - 1].decode()] = name
        interface = "zwlr_virtual_pointer_manager_v1"
        if interface not in globals_:
            raise RuntimeError(f"the compositor offers no {interface} (is bench/cage_shim.c preloaded into cage?)")
        manager = self._new()
        self._send(registry, 0, _u32(globals_[interface]) + _string(interface) + _u32(1) + _u32(manager))  # bind
        self._pointer = self._new()
        self._send(manager, 0, _u32(0) + _u32(self._pointer))  # create_virtual_pointer(seat: none, id)
        list(self._roundtrip())
        self._start = time.monotonic()

    def _new(self) -> int:
        self._next += 1
        return self._next - 1

    def _send(self, obj: int, opcode: int, body: bytes = b"") -> None:
        self._socket.sendall(_u32(obj) + _u32((8 + len(body)) << 16 | opcode) + body)

    def _roundtrip(self):
        """Send wl_display.sync and yield every event until its callback is done; a protocol error raises."""
        callback = self._new()
        self._send(1, 0, _u32(callback))
        while True:
            while len(self._received) < 8 or len(self._received) < struct.unpack_from("=I", self._received, 4)[0] >> 16:
                chunk = self._socket.recv(65536)
                if not chunk:
                    raise ConnectionError("the compositor closed the connection")
                self._received += chunk
            obj, word = struct.unpack_from("=II", self._received)
            size, opcode = word >> 16, word & 0xFFFF
            body, self._received = self._received[8:size], self._received[size:]
            if obj == 1 and opcode == 0:  # wl_display.error(object, code, message)
                message = body[12:].rstrip(b"\0").decode(errors="replace")
                raise RuntimeError(f"Wayland protocol error: {message}")
            if obj == callback and opcode == 0:  # wl_callback.done
                return
            yield obj, opcode, body

    def _time(self) -> int:
        return int((time.monotonic() - self._start) * 1000)

    def move(self, x: int, y: int, width: int, height: int) -> None:
        self._send(self._pointer, 1, b"".join(_u32(v) for v in (self._time(), x, y, width, height)))  # motion_absolute
        self._send(self._pointer, 4, _u32(self._time()))  # frame
        list(self._roundtrip())

    def press(self, x: int, y: int, width: int, height: int) -> None:
        self.move(x, y, width, height)
        self._send(self._pointer, 2, _u32(self._time()) + _u32(BTN_LEFT) + _u32(1))  # button pressed
        self._send(self._pointer, 4, _u32(self._time()))
        list(self._roundtrip())

    def release(self) -> None:
        self._send(self._pointer, 2, _u32(self._time()) + _u32(BTN_LEFT) + _u32(0))  # button released
        self._send(self._pointer, 4, _u32(self._time()))
        list(self._roundtrip())

    def close(self) -> None:
        self._socket.close()


# ---------------------------------------------------------------------------------------------------- cage


class Cage:
    """Starts programs the way the device's unit does: as cage's one client, on a fresh headless cage each time."""

    name = "wayland"

    def __init__(self, work: Path, width: int, height: int) -> None:
        if not shutil.which("cage"):
            raise RuntimeError("cage is missing (apt-get install cage): it is the device's compositor")
        if not shutil.which("grim"):
            raise RuntimeError("grim is missing (apt-get install grim): it reads the compositor's screen")
        self.width, self.height = width, height
        self._work = work
        # cage's working directory, inherited by Xwayland, which cage starts with -core when an X client connects:
        # a core dump of it lands in the run's folder, not in the repository.
        self.cwd = work
        self._shim = build_shim(work)
        self._count = 0
        self._runtime: Path | None = None
        self._pointer: VirtualPointer | None = None

    def facts(self) -> dict:
        version = subprocess.run(["cage", "-v"], capture_output=True, text=True).stdout.strip() or "?"
        return {"display": f"cage (wlroots headless backend, pixman renderer): {version}",
                "window": f"{self.width}x{self.height}"}

    def wrap(self, argv: list[str], env: dict) -> tuple[list[str], dict]:
        """cage's command line and environment for `argv` as its client (the shim stays out of the client)."""
        self._close_pointer()
        self._count += 1
        self._runtime = self._work / f"runtime-{self._count}"
        self._runtime.mkdir(mode=0o700)
        cage_env = dict(env)
        for key in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY"):
            cage_env.pop(key, None)
        cage_env.update({"XDG_RUNTIME_DIR": str(self._runtime), "WLR_BACKENDS": "headless",
                         "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1",
                         "PALIM_BENCH_OUTPUT": f"{self.width}x{self.height}", "LD_PRELOAD": str(self._shim),
                         "PALIM_BENCH_FRAMES": str(self._runtime / "frames")})
        from provisioning.bundle import cage_options  # the unit's own options (rotation 0)

        return ["cage", *cage_options(0).split(), "--", "env", "-u", "LD_PRELOAD", "-u", "PALIM_BENCH_OUTPUT",
                "-u", "PALIM_BENCH_FRAMES", *argv], cage_env

    def client(self, proc: subprocess.Popen, timeout: float = 30.0) -> int:
        """The pid of cage's client (the browser), once cage has started it; the virtual pointer joins cage then."""
        deadline = time.monotonic() + timeout
        while True:
            children = psutil.Process(proc.pid).children() if proc.poll() is None else []
            socket_path = self._runtime / "wayland-0"
            if children and socket_path.exists():
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cage did not start its client (exit status {proc.poll()})")
            time.sleep(0.002)
        self._pointer = VirtualPointer(socket_path)
        self._park()
        return children[0].pid

    def _park(self) -> None:
        """The pointer out of the way in the bottom right corner: cage draws its cursor into the output (no hardware
        cursor plane on the headless backend), and at the screen's middle, where it starts, it would be the pixel that
        tells when the browser painted. A finger leaves no cursor; after a tap the pointer goes back there."""
        self._pointer.move(self.width - 1, self.height - 1, self.width, self.height)

    def _env(self) -> dict:
        return {**os.environ, "XDG_RUNTIME_DIR": str(self._runtime), "WAYLAND_DISPLAY": "wayland-0"}

    def pixel(self, x: int, y: int) -> int:
        """One pixel of cage's output as 0xRRGGBB (black before cage runs: its empty screen)."""
        if self._runtime is None or not (self._runtime / "wayland-0").exists():
            return 0
        done = subprocess.run(["grim", "-g", f"{x},{y} 1x1", "-t", "ppm", "-"], env=self._env(), capture_output=True,
                              timeout=10)
        if done.returncode != 0 or len(done.stdout) < 3:
            return 0  # cage is just starting or stopping: nothing shown
        red, green, blue = done.stdout[-3:]
        return red << 16 | green << 8 | blue

    def frames(self) -> tuple[int, int] | None:
        """What the browser has committed to cage so far: frames that damaged its buffer, and the damaged pixels
        (counted by bench/cage_shim.c); None before cage made its counter."""
        try:
            data = (self._runtime / "frames").read_bytes()
        except (OSError, TypeError):
            return None
        return struct.unpack("=QQ", data[:16]) if len(data) >= 16 else None

    def screenshot(self, path: Path) -> None:
        subprocess.run(["grim", str(path)], env=self._env(), check=True, capture_output=True, timeout=20)

    def tap(self, x: int, y: int, hold: float) -> None:
        self._pointer.press(x, y, self.width, self.height)
        time.sleep(hold)
        self._pointer.release()
        self._park()

    def _close_pointer(self) -> None:
        if self._pointer is not None:
            self._pointer.close()
            self._pointer = None

    def close(self) -> None:
        self._close_pointer()
