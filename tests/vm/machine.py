"""A QEMU virtual machine under TCG (no KVM here) for the installer-stick test: serial log, QMP, screendump, taps.

The machine has 2 GiB, two CPUs, a virtio VGA at 1280x800 (virtio-gpu DRM in the guest: bochs has no PRIME import,
without which cage's wlroots finds no usable GPU), an absolute USB pointer, HDA sound without a host backend, and a
NIC whose user-mode network is restricted (no route anywhere; its MAC matters, the installer recognises the
device by it; a test may forward SSH to it from the host's 127.0.0.1). Everything it does is logged in the run's
folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
# What a Windows 8+ laptop ships: Secure Boot on, Microsoft's keys enrolled (Debian's OVMF with the "ms" variables;
# the code needs SMM and a secure flash, or the variables could be changed from the guest).
OVMF_SECURE_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.ms.fd")
OVMF_SECURE_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.ms.fd")
# A Bay Trail tablet: 32-bit UEFI on a 64-bit CPU (Debian's package ovmf-ia32; its code is built with SMM).
OVMF32_CODE = Path("/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd")
OVMF32_VARS = Path("/usr/share/OVMF/OVMF32_VARS_4M.fd")
FIRMWARE = {"uefi": (OVMF_CODE, OVMF_VARS), "secure-boot": (OVMF_SECURE_CODE, OVMF_SECURE_VARS),
            "uefi-ia32": (OVMF32_CODE, OVMF32_VARS), "bios": None}
WIDTH, HEIGHT = 1280, 800
QEMU = "qemu-system-x86_64"
STICK_DEVICE = "stick-usb"  # the stick's QEMU device id: device_del pulls it


@dataclass
class Machine:
    """One running QEMU: its process, serial log and QMP socket."""

    name: str
    proc: subprocess.Popen
    serial: Path
    qmp_path: Path
    started: float
    _qmp: socket.socket | None = None
    _buffer: bytes = b""
    events: list = field(default_factory=list)

    def serial_text(self) -> str:
        return self.serial.read_text(errors="replace") if self.serial.exists() else ""

    def wait_serial(self, pattern: str, timeout: float, *, after: int = 0) -> tuple[re.Match, float]:
        """The first match of `pattern` in the serial log (from offset `after`) and the seconds since start."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            text = self.serial_text()
            found = regex.search(text, after)
            if found:
                return found, time.monotonic() - self.started
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name}: QEMU ended (exit {self.proc.returncode}) before {pattern!r}; "
                                     f"serial log {self.serial}:\n{text[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {pattern!r} on the serial console within {timeout:.0f} s; "
                                     f"serial log {self.serial}:\n{text[-3000:]}")
            time.sleep(1)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name}: QEMU still runs after {timeout:.0f} s; serial log {self.serial}:\n"
                                 f"{self.serial_text()[-3000:]}") from None

    # ------------------------------------------------------------------ QMP

    def qmp(self, command: str, **arguments) -> dict:
        if self._qmp is None:
            self._qmp = socket.socket(socket.AF_UNIX)
            self._qmp.settimeout(60)
            self._qmp.connect(str(self.qmp_path))
            self._read()  # greeting
            self._send("qmp_capabilities")
        return self._send(command, **arguments)

    def _send(self, command: str, **arguments) -> dict:
        message = {"execute": command, **({"arguments": arguments} if arguments else {})}
        self._qmp.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise AssertionError(f"QMP {command}: {reply['error']}")
            return reply.get("return", {})

    def _read(self) -> dict:
        while b"\n" not in self._buffer:
            chunk = self._qmp.recv(65536)
            if not chunk:
                raise AssertionError("QMP connection closed")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def screendump(self, path: Path) -> Path:
        self.qmp("screendump", filename=str(path), format="png")
        return path

    def tap(self, x: int, y: int) -> None:
        """A tap of the absolute USB pointer (usb-tablet) at screen pixel x, y: move there, press, release."""
        ax, ay = x * 0x7FFF // (WIDTH - 1), y * 0x7FFF // (HEIGHT - 1)
        move = [{"type": "abs", "data": {"axis": "x", "value": ax}}, {"type": "abs", "data": {"axis": "y", "value": ay}}]
        self.qmp("input-send-event", events=move)
        time.sleep(0.3)
        self.qmp("input-send-event", events=[{"type": "btn", "data": {"down": True, "button": "left"}}])
        time.sleep(0.15)
        self.qmp("input-send-event", events=[{"type": "btn", "data": {"down": False, "button": "left"}}])

    def keys(self, *qcodes: str) -> int:
        """Key presses on the VM's keyboard, one after the other (QEMU's key codes name the key, not the character:
        "y" is the key labelled Z on a German keyboard); returns how many."""
        for qcode in qcodes:
            self.qmp("send-key", keys=[{"type": "qcode", "data": qcode}])
            time.sleep(0.3)  # a person's pace; under TCG the guest needs the time to read each key
        return len(qcodes)

    def pull_stick(self) -> None:
        """The stick pulled out of its USB port."""
        self.qmp("device_del", id=STICK_DEVICE)

    def stop(self, timeout: float = 15) -> int:
        """Power off through ACPI, then quit if the guest does not (a kiosk ignores the power key: logind.conf.d)."""
        if self.proc.poll() is None:
            try:
                self.qmp("system_powerdown")
                self.proc.wait(timeout)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                try:
                    self.qmp("quit")
                except (AssertionError, OSError):
                    pass
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
        if self._qmp is not None:
            self._qmp.close()
        return self.proc.returncode


def start(name: str, run_dir: Path, *, disk: Path, stick: Path | None = None, firmware: str = "uefi",
          cpu: str = "Nehalem", disk_bus: str = "virtio", mac: str = "3c:52:82:1a:2b:3c",
          serial_number: str = "PALIM-VM-0001", memory_mib: int = 2048, ssh_port: int | None = None) -> Machine:
    """Boot a machine: the stick first (as a removable USB disk) when given, then the internal disk.

    `firmware`: a key of FIRMWARE (uefi, secure-boot, uefi-ia32, bios: SeaBIOS). `cpu`: a QEMU CPU model (Nehalem
    is the oldest the shipped Qt runs on; Penryn a Core 2). `disk_bus`: virtio or nvme.
    `ssh_port`: the guest's SSH reachable on the host's 127.0.0.1:ssh_port (restrict=on keeps explicit forwards).
    """
    netdev = "user,id=n0,restrict=on" + (f",hostfwd=tcp:127.0.0.1:{ssh_port}-:22" if ssh_port else "")
    serial = run_dir / f"{name}.serial.log"
    qmp_path = run_dir / f"{name}.qmp"
    qmp_path.unlink(missing_ok=True)
    smm = "on" if firmware in ("secure-boot", "uefi-ia32") else "off"
    internal = {"virtio": "virtio-blk-pci,drive=disk,bootindex=1",
                "nvme": "nvme,drive=disk,serial=PALIMNVME0001,bootindex=1"}[disk_bus]
    argv = [QEMU, "-accel", "tcg", "-machine", f"q35,smm={smm}", "-cpu", cpu, "-smp", "2", "-m", str(memory_mib),
            "-display", "none", "-vga", "none", "-device", f"virtio-vga,xres={WIDTH},yres={HEIGHT},edid=on",
            "-serial", f"file:{serial}", "-qmp", f"unix:{qmp_path},server=on,wait=off", "-no-reboot",
            "-smbios", f"type=1,manufacturer=Palim,product=Test VM,serial={serial_number}",
            # no route anywhere: the NIC is there for its MAC (the installer recognises it) and, when asked, SSH in
            "-netdev", netdev, "-device", f"virtio-net-pci,netdev=n0,mac={mac}",
            "-audiodev", "none,id=snd0", "-device", "ich9-intel-hda", "-device", "hda-duplex,audiodev=snd0",
            "-device", "qemu-xhci,id=xhci", "-device", "usb-tablet,bus=xhci.0",
            "-drive", f"if=none,id=disk,format=raw,file={disk}", "-device", internal]
    if stick is not None:
        argv += ["-drive", f"if=none,id=stick,format=raw,file={stick}",
                 "-device", f"usb-storage,bus=xhci.0,drive=stick,removable=on,bootindex=0,id={STICK_DEVICE}"]
    if FIRMWARE[firmware] is not None:
        code, variables = FIRMWARE[firmware]
        vars_copy = run_dir / f"{name}.{variables.name}"
        shutil.copy(variables, vars_copy)
        if smm == "on":
            argv += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
        argv += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                 "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
    (run_dir / f"{name}.argv").write_text(" ".join(argv) + "\n")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(run_dir / f"{name}.qemu.log", "w"),
                            stderr=subprocess.STDOUT)
    machine = Machine(name, proc, serial, qmp_path, time.monotonic())
    deadline = time.monotonic() + 30
    while not qmp_path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"QEMU did not start: {(run_dir / f'{name}.qemu.log').read_text()[-2000:]}")
        time.sleep(0.2)
    return machine


def free_port() -> int:
    """A TCP port free on the host's loopback right now (for a forward to the guest)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sparse_disk(path: Path, size_gb: int = 20) -> Path:
    """An empty internal disk (a sparse raw file: nothing of it is on the host's disk until written)."""
    with open(path, "wb") as handle:
        handle.truncate(size_gb * 1000 ** 3)
    return path


def has_data(path: Path) -> bool:
    """Whether anything was ever written into a sparse file (SEEK_DATA finds no data in an untouched one)."""
    with open(path, "rb") as handle:
        try:
            os.lseek(handle.fileno(), 0, os.SEEK_DATA)
        except OSError:
            return False
    return True
