"""Donated-hardware triage; over 400 lines because it reads eleven parts of a machine, each in its own files.

It reads a machine's /proc, /sys and /dev and says whether it can be a Palim kiosk (memory, CPU, disk, Wi-Fi, camera,
microphone, speaker, battery, graphics, screen, touch). Everything is read below a root directory, so a tree captured
from a real machine can be checked anywhere.

`palim-provision check` speaks English (for the city's IT); the installer stick shows the same triage in plain German
for the staff at the device (`Result.lines_de`): each finding carries its German value and reason beside the English,
and the words around them are in the tables below.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from .firmware import declared_firmware, firmware_present

GIB = 1024 ** 3
GB = 1000 ** 3

# The thresholds, in one place: --help and README print them from here.
# Memory: a call in QtWebEngine takes about 0.5 GiB for the kiosk (docs/qtwebengine.md) on top of
# Debian, cage and PipeWire; MemTotal of a "2 GB" machine is about 1.9 GiB.
MEMORY_MIN_GIB = 1.75
MEMORY_GOOD_GIB = 3.5
# CPU: without a GPU a call takes 1.6 cores of a modern CPU (docs/qtwebengine.md); one core cannot keep up.
# The kiosk's Qt (the PyQt6-Qt6 wheel the stick ships) is built for x86-64-v2: on a processor without these
# /proc/cpuinfo flags it aborts at start ("Incompatible processor. This Qt build requires the following features:
# sse3 ssse3 sse4.1 sse4.2 popcnt", as the wheel says under qemu-user with those features taken away; pni is
# the kernel's name for SSE3). tests/unit/provisioning/test_check_hardware.py runs the wheel so and keeps this
# list equal to what Qt names. It rules out Core 2, Atom N/D/Z5xx (before 2013), Athlon II, Phenom II and AMD E-350.
CPU_FLAGS_REQUIRED = ("pni", "ssse3", "sse4_1", "sse4_2", "popcnt")
CPU_FLAG_NAMES = {"pni": "SSE3", "ssse3": "SSSE3", "sse4_1": "SSE4.1", "sse4_2": "SSE4.2", "popcnt": "POPCNT"}
CORES_MIN = 2
CORES_GOOD = 4
FIRMWARE_OLD_YEARS = 12
# Disk: Debian 12 with the kiosk, its packages, firmware and venv takes about 3 GB, updates need room to unpack. 14,
# not 16: a tablet's "16 GB" eMMC holds 15.6 GB, and those tablets are among the donated devices.
DISK_MIN_GB = 14
DISK_GOOD_GB = 32
FREE_MIN_GIB = 3.0
# Screen: residents with poor sight need a big button; the kiosk's smallest tested layout is 1024x600.
SCREEN_MIN_INCH = 9.5
SCREEN_GOOD_INCH = 11.5
RES_MIN = (1024, 600)
# Battery: a kiosk mostly sits on mains power; a worn battery only shortens a call away from the socket.
BATTERY_WORN_PERCENT = 60
BATTERY_BAD_PERCENT = 30
BATTERY_CYCLES_HIGH = 800

THRESHOLDS_TEXT = f"""\
thresholds (unsuitable / note / fine):
  memory       below {MEMORY_MIN_GIB} GiB / below {MEMORY_GOOD_GIB} GiB / more
  CPU          not 64-bit x86 with {", ".join(CPU_FLAG_NAMES[f] for f in CPU_FLAGS_REQUIRED)} (x86-64-v2: the
               kiosk's Qt needs it), or fewer than {CORES_MIN} cores / {CORES_MIN}-{CORES_GOOD - 1} cores, or firmware
               older than {FIRMWARE_OLD_YEARS} years / {CORES_GOOD}+ cores
  disk         internal disk below {DISK_MIN_GB} GB / below {DISK_GOOD_GB} GB, spinning disk, or less than
               {FREE_MIN_GIB:g} GiB free where --sysfs-root points / more
  Wi-Fi        no network device at all, or a Wi-Fi chip without driver or firmware and no Ethernet /
               Ethernet only, a Wi-Fi chip that does not work beside Ethernet, or Wi-Fi switched off by its
               switch / a working Wi-Fi interface
  camera       no video capture device (add a USB webcam) / - / one found
  microphone   no ALSA capture device / - / one found
  speaker      no ALSA playback device / only HDMI output / one found
  battery      never unsuitable / no battery, below {BATTERY_WORN_PERCENT} % of design capacity (below
               {BATTERY_BAD_PERCENT} %: replace it), or more than {BATTERY_CYCLES_HIGH} cycles / fine
  graphics     a graphics chip without a working driver (none, or its firmware is missing), or none found /
               only the firmware's frame buffer / a graphics driver with a screen connector
  screen       built-in screen below {SCREEN_MIN_INCH}" or below {RES_MIN[0]}x{RES_MIN[1]} (a portrait panel: measured
               turned by --rotate 90 or 270) / below {SCREEN_GOOD_INCH}", or no built-in screen / more
  touch        never unsuitable / no touch screen (the resident taps with a mouse or touchpad) / found
"""

VERDICTS = {"ok": "suitable", "note": "suitable with notes", "fail": "unsuitable"}
# The installer stick's German (Result.lines_de).
VERDICTS_DE = {"ok": "geeignet", "note": "geeignet, mit Hinweisen", "fail": "ungeeignet"}
STATUS_DE = {"ok": "gut", "note": "Hinweis", "fail": "ungeeignet"}
NAMES_DE = {"memory": "Arbeitsspeicher", "cpu": "Prozessor", "disk": "Festplatte", "wifi": "WLAN",
            "camera": "Kamera", "microphone": "Mikrofon", "speaker": "Lautsprecher", "battery": "Akku",
            "graphics": "Grafik", "screen": "Bildschirm", "touch": "Touchscreen"}
NONE_DE = "nicht gefunden"


def _de_number(value: float, spec: str = "g") -> str:
    """A number as German writes it, with a decimal comma: 1,75; 9,5; with spec ".1f": 1,9."""
    return format(value, spec).replace(".", ",")


@dataclass
class Finding:
    """One checked property."""

    name: str
    status: str  # "ok", "note", "fail"
    value: str
    reason: str = ""
    # German for the installer stick's screen; an empty value_de means the value reads the same in German (a name).
    value_de: str = ""
    reason_de: str = ""


@dataclass
class Result:
    """The whole check."""

    root: str
    machine: dict
    findings: list[Finding] = field(default_factory=list)

    @property
    def worst(self) -> str:
        return "fail" if any(f.status == "fail" for f in self.findings) else \
            "note" if any(f.status == "note" for f in self.findings) else "ok"

    @property
    def verdict(self) -> str:
        return VERDICTS[self.worst]

    def as_json(self) -> dict:
        return {"root": self.root, "machine": self.machine, "verdict": self.verdict,
                "checks": [{k: v for k, v in asdict(f).items() if not k.endswith("_de")} for f in self.findings]}

    def lines(self) -> list[str]:
        m = self.machine
        title = " ".join(v for v in (m.get("vendor"), m.get("product")) if v) or "unknown machine"
        firmware = f", firmware from {m['firmware_date']}" if m.get("firmware_date") else ""
        out = [f"{title}{firmware} (read from {self.root})"]
        for f in self.findings:
            out.append(f"  {f.status:<5} {f.name:<11} {f.value}")
        out.append(f"verdict: {self.verdict.upper()}")
        for f in self.findings:
            if f.status != "ok" and f.reason:
                out.append(f"  - {f.name}: {f.reason}")
        return out

    def lines_de(self) -> list[str]:
        """The same in German, for the installer stick's screen (an English text only where a German one is missing,
        which tests/unit/provisioning/test_check.py does not let happen)."""
        m = self.machine
        title = " ".join(v for v in (m.get("vendor"), m.get("product")) if v) or "unbekanntes Gerät"
        if m.get("firmware_date"):
            year, month, day = m["firmware_date"].split("-")
            title += f", Firmware vom {day}.{month}.{year}"
        out = [title]
        for f in self.findings:
            out.append(f"  {STATUS_DE[f.status]:<10} {NAMES_DE.get(f.name, f.name):<15} {f.value_de or f.value}")
        out.append(f"Ergebnis: {VERDICTS_DE[self.worst].upper()}")
        for f in self.findings:
            if f.status != "ok" and (f.reason_de or f.reason):
                out.append(f"  - {reason_line_de(f)}")
        return out


def reason_line_de(finding: Finding) -> str:
    """"Kamera: kein Videogerät …": a finding's German name and reason."""
    return f"{NAMES_DE.get(finding.name, finding.name)}: {finding.reason_de or finding.reason}"


class Tree:
    """Reads files below the root; a missing or unreadable file is None, never an exception."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel.lstrip("/")

    def text(self, rel: str | Path) -> str | None:
        path = rel if isinstance(rel, Path) else self.path(rel)
        try:
            return path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None

    def number(self, rel: str | Path) -> int | None:
        value = self.text(rel)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def glob(self, rel_dir: str, pattern: str) -> list[Path]:
        try:
            return sorted(self.path(rel_dir).glob(pattern))
        except OSError:
            return []


ROTATIONS = (0, 90, 180, 270)


def check(root: Path, *, today: date | None = None, free_bytes: int | None = None, rotation: int = 0,
          firmware_names: Mapping[str, Sequence[str]] | None = None) -> Result:
    """Check the machine below root. free_bytes overrides the free space measured at root (for tests). rotation is
    how the kiosk will turn the screen (the device list's display rotate; 0, 90, 180 or 270): at 90 or 270 a portrait
    panel is measured as the landscape screen it becomes. firmware_names maps a kernel module to the firmware files it
    names, as `modinfo -F firmware MODULE` prints them (for tests and captured trees; by default modinfo is asked when
    root is this machine, and a captured tree's firmware is not judged)."""
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {', '.join(map(str, ROTATIONS))}, not {rotation}")
    tree = Tree(Path(root))
    today = today or date.today()
    machine = _machine(tree)
    drivers = Drivers(tree, live=Path(root).resolve() == Path("/"), firmware_names=firmware_names)
    result = Result(str(root), machine)
    result.findings += [
        _memory(tree),
        _cpu(tree, machine, today),
        _disk(tree, root, free_bytes),
        _wifi(tree, drivers),
        _camera(tree, Path(root)),
        *_audio(tree, drivers),
        _battery(tree),
        _graphics(tree, drivers),
        _screen(tree, rotation),
        _touch(tree),
    ]
    return result


# --------------------------------------------------------------------------- chips, drivers and firmware

PCI_WIFI = "0x0280"  # network controller, other: every PCI Wi-Fi card
PCI_DISPLAY = "0x03"  # VGA, XGA, 3D and other display controllers
PCI_AUDIO = ("0x0401", "0x0403")  # multimedia audio controller (Intel's sound DSPs), HD Audio
SDIO_CLASS_WLAN = 0x07
# Drivers of Wi-Fi chips, for chips whose bus does not say Wi-Fi (USB adapters, most SDIO chips of tablets).
WIRELESS_DRIVER = re.compile(r"^(iwl|ath\d|ath9k|ar5523|carl9170|brcm|b43|rtw|rtl8(18|19|72|8|xxxu)|r8(188|723)|rt2|"
                             r"rt61|rt73|mt7|mwifiex|mwl8k|zd1211|wcn|wl$)", re.I)
# What draws the picture when no graphics driver does: the firmware's frame buffer, one mode, no acceleration.
FRAMEBUFFER_DRIVERS = {"simpledrm", "simple-framebuffer", "simplefb", "efifb", "vesafb", "vesa-framebuffer"}


@dataclass
class Chip:
    """One device on a bus (PCI, SDIO, USB interface), as sysfs shows it."""

    path: Path
    bus: str
    ident: str  # vendor:device, e.g. 8086:24fd
    klass: str  # the bus's class, e.g. 0x028000 (PCI), 0x07 (SDIO); "" for USB
    driver: str | None
    module: str | None

    def label(self) -> str:
        return f"{self.bus} {self.ident}" + (f" ({self.driver})" if self.driver else "")


class Drivers:
    """Which driver a device has, and whether that driver's firmware is below the root's lib/firmware."""

    def __init__(self, tree: Tree, *, live: bool, firmware_names: Mapping[str, Sequence[str]] | None):
        self.tree = tree
        self.live = live
        self.firmware_names = {k.replace("-", "_"): list(v) for k, v in (firmware_names or {}).items()}
        self.injected = firmware_names is not None

    def driver(self, device: Path) -> str | None:
        """The driver bound to a device: the name its driver link points to, or DRIVER= of its uevent (a copied tree
        has the link's target as a folder)."""
        try:
            return Path(os.readlink(device / "driver")).name
        except OSError:
            pass
        m = re.search(r"^DRIVER=(.+)$", self.tree.text(device / "uevent") or "", re.M)
        return m.group(1).strip() if m else None

    def module(self, device: Path, driver: str | None) -> str | None:
        """The kernel module of the bound driver (often named as the driver, not always: rtl8723bs is r8723bs)."""
        try:
            return Path(os.readlink(device / "driver" / "module")).name
        except OSError:
            return driver.replace("-", "_") if driver else None

    def chip(self, path: Path, bus: str) -> Chip:
        ident = ""
        vendor, device = self.tree.text(path / "vendor"), self.tree.text(path / "device")
        if vendor and device:
            ident = f"{vendor.removeprefix('0x')}:{device.removeprefix('0x')}"
        elif m := re.match(r"^usb:v([0-9A-F]{4})p([0-9A-F]{4})", self.tree.text(path / "modalias") or "", re.I):
            ident = f"{m.group(1).lower()}:{m.group(2).lower()}"
        driver = self.driver(path)
        return Chip(path, bus, ident or path.name, self.tree.text(path / "class") or "", driver,
                    self.module(path, driver))

    def chips(self) -> list[Chip]:
        """PCI devices, SDIO functions and USB interfaces."""
        out = [self.chip(p, "PCI") for p in self.tree.glob("sys/bus/pci/devices", "*")]
        out += [self.chip(p, "SDIO") for p in self.tree.glob("sys/bus/sdio/devices", "*")]
        out += [self.chip(p, "USB") for p in self.tree.glob("sys/bus/usb/devices", "*:*")]
        return out

    def firmware_missing(self, module: str | None) -> bool | None:
        """True when the module names firmware and none of those files is below lib/firmware; None when unknown (no
        modinfo, a captured tree without lib/firmware or without firmware_names, a module that names none)."""
        if not module:
            return None
        firmware = self.tree.path("lib/firmware")
        if not firmware.is_dir():
            return None
        if self.injected:
            names = self.firmware_names.get(module.replace("-", "_"))
        else:
            names = declared_firmware(module) if self.live else None
        if not names:
            return None
        return not any(firmware_present(firmware, name) for name in names)

    def why_not(self, chip: Chip, what: str, what_de: str) -> tuple[str, str]:
        """Why a chip gives no `what` (e.g. "network interface"), in English and German, for in brackets."""
        if not chip.driver:
            return "no driver", "kein Treiber"
        if self.firmware_missing(chip.module):
            return (f"its driver {chip.driver} has no firmware in /lib/firmware",
                    f"dem Treiber {chip.driver} fehlt seine Firmware")
        return (f"driver {chip.driver} loaded, but no {what}; firmware missing or too old?",
                f"Treiber {chip.driver} geladen, aber keine {what_de}; Firmware fehlt oder ist zu alt?")


def _below(path: Path, devices: list[Path]) -> bool:
    """Whether one of `devices` (resolved paths) is the device at `path` or one of its children."""
    own = path.resolve()
    return any(d == own or d.is_relative_to(own) for d in devices)


# --------------------------------------------------------------------------- the parts


def _machine(tree: Tree) -> dict:
    dmi = "sys/class/dmi/id"
    out = {"vendor": tree.text(f"{dmi}/sys_vendor"), "product": tree.text(f"{dmi}/product_name"),
           "firmware_date": None}
    raw = tree.text(f"{dmi}/bios_date")  # mm/dd/yyyy
    if raw and (m := re.match(r"^(\d{2})/(\d{2})/(\d{4})$", raw)):
        out["firmware_date"] = f"{m.group(3)}-{m.group(1)}-{m.group(2)}"
    return out


def _memory(tree: Tree) -> Finding:
    meminfo = tree.text("proc/meminfo") or ""
    m = re.search(r"^MemTotal:\s+(\d+)\s*kB", meminfo, re.M)
    if not m:
        return Finding("memory", "fail", "unknown", "cannot read MemTotal from /proc/meminfo",
                       "unbekannt", "MemTotal in /proc/meminfo ist nicht lesbar")
    gib = int(m.group(1)) * 1024 / GIB
    value, value_de = f"{gib:.1f} GiB", f"{_de_number(gib, '.1f')} GiB"
    if gib < MEMORY_MIN_GIB:
        return Finding("memory", "fail", value, f"a video call needs at least {MEMORY_MIN_GIB} GiB (2 GB installed)",
                       value_de, f"ein Videoanruf braucht mindestens {_de_number(MEMORY_MIN_GIB)} GiB "
                                 f"(2 GB eingebaut)")
    if gib < MEMORY_GOOD_GIB:
        return Finding("memory", "note", value, f"enough for calls; {MEMORY_GOOD_GIB} GiB or more (4 GB installed) "
                                                f"leaves room for updates during a call",
                       value_de, f"reicht für Anrufe; mit {_de_number(MEMORY_GOOD_GIB)} GiB oder mehr (4 GB eingebaut) "
                                 f"bleibt Platz für Updates während eines Anrufs")
    return Finding("memory", "ok", value, value_de=value_de)


def _cpu(tree: Tree, machine: dict, today: date) -> Finding:
    info = tree.text("proc/cpuinfo") or ""
    model = next(iter(re.findall(r"^model name\s*:\s*(.+)$", info, re.M)), None)
    flags = set(next(iter(re.findall(r"^flags\s*:\s*(.+)$", info, re.M)), "").split())
    cores = _online_cpus(tree.text("sys/devices/system/cpu/online")) or len(re.findall(r"^processor\s*:", info, re.M))
    model = re.sub(r"\s+", " ", model) if model else None
    value = f"{cores or '?'} cores" + (f", {model}" if model else "")
    value_de = f"{cores or '?'} Kerne" + (f", {model}" if model else "")
    notes, notes_de = [], []
    if flags and "lm" not in flags:
        return Finding("cpu", "fail", value, "32-bit only: the kiosk needs a 64-bit (x86-64) processor",
                       value_de, "nur 32 Bit: der Kiosk braucht einen 64-Bit-Prozessor (x86-64)")
    if missing := [flag for flag in CPU_FLAGS_REQUIRED if flags and flag not in flags]:
        names = ", ".join(CPU_FLAG_NAMES[flag] for flag in missing)
        return Finding("cpu", "fail", value, f"lacks {names}: the kiosk's Qt is built for x86-64-v2 (Intel Core i; "
                                             f"Atom, Celeron and AMD from about 2013) and will not start on it",
                       value_de, f"Prozessor zu alt: der Kiosk startet darauf nicht (ihm fehlt: {names})")
    if not flags and not info:
        return Finding("cpu", "fail", "unknown", "cannot read /proc/cpuinfo",
                       "unbekannt", "/proc/cpuinfo ist nicht lesbar")
    if not cores:
        return Finding("cpu", "fail", value, "cannot count the processor cores",
                       value_de, "die Prozessorkerne lassen sich nicht zählen")
    if cores < CORES_MIN:
        return Finding("cpu", "fail", value, f"a video call needs at least {CORES_MIN} cores",
                       value_de, f"ein Videoanruf braucht mindestens {CORES_MIN} Kerne")
    if cores < CORES_GOOD:
        notes.append(f"{cores} cores: calls work, but keep video at 360p or lower (jitsi.resolution)")
        notes_de.append(f"{cores} Kerne: Anrufe gehen, aber Video besser bei 360p oder weniger (jitsi.resolution)")
    if machine.get("firmware_date"):
        age = today.year - int(machine["firmware_date"][:4])
        value += f", firmware {age} years old"
        value_de += f", Firmware {age} Jahre alt"
        if age > FIRMWARE_OLD_YEARS:
            notes.append(f"firmware from {machine['firmware_date'][:4]} (over {FIRMWARE_OLD_YEARS} years): "
                         f"expect a slow start and choppy video; try a call before handing it out")
            notes_de.append(f"Firmware von {machine['firmware_date'][:4]} (über {FIRMWARE_OLD_YEARS} Jahre): "
                            f"langsamer Start und ruckelndes Video zu erwarten; vor der Übergabe einen Anruf "
                            f"ausprobieren")
    return Finding("cpu", "note" if notes else "ok", value, "; ".join(notes), value_de, "; ".join(notes_de))


def _online_cpus(text: str | None) -> int:
    total = 0
    for part in (text or "").split(","):
        if "-" in part:
            low, _, high = part.partition("-")
            if low.isdigit() and high.isdigit():
                total += int(high) - int(low) + 1
        elif part.strip().isdigit():
            total += 1
    return total


def _disk(tree: Tree, root: Path, free_bytes: int | None) -> Finding:
    disks = []
    for block in tree.glob("sys/block", "*"):
        if re.match(r"^(loop|ram|zram|sr|fd|dm-|md)", block.name) or tree.number(block / "removable") == 1:
            continue
        sectors = tree.number(block / "size")
        if sectors:
            disks.append((sectors * 512, block.name, tree.number(block / "queue" / "rotational") == 1))
    if free_bytes is None:
        try:
            st = os.statvfs(root)
            free_bytes = st.f_bavail * st.f_frsize
        except OSError:
            free_bytes = None
    if not disks:
        return Finding("disk", "fail", "no internal disk found", "no fixed disk in /sys/block",
                       "keine eingebaute Festplatte gefunden", "keine feste Platte in /sys/block")
    size, name, rotational = max(disks)
    value = f"{name} {size / GB:.0f} GB{' (spinning)' if rotational else ''}"
    value_de = f"{name} {size / GB:.0f} GB{' (drehend)' if rotational else ''}"
    if free_bytes is not None:
        value += f", {free_bytes / GIB:.1f} GiB free"
        value_de += f", {_de_number(free_bytes / GIB, '.1f')} GiB frei"
    if size < DISK_MIN_GB * GB:
        return Finding("disk", "fail", value, f"Debian and the kiosk need a disk of at least {DISK_MIN_GB} GB",
                       value_de, DISK_TOO_SMALL_DE)
    notes, notes_de = disk_notes(size, rotational)
    if free_bytes is not None and free_bytes < FREE_MIN_GIB * GIB:
        notes.append(f"less than {FREE_MIN_GIB:g} GiB free: reinstall or free space before provisioning")
        notes_de.append(f"weniger als {_de_number(FREE_MIN_GIB)} GiB frei: vor dem Einrichten neu installieren oder "
                        f"Platz schaffen")
    return Finding("disk", "note" if notes else "ok", value, "; ".join(notes), value_de, "; ".join(notes_de))


DISK_TOO_SMALL_DE = f"Debian und der Kiosk brauchen eine Festplatte mit mindestens {DISK_MIN_GB} GB"


def disk_notes(size: int, rotational: bool) -> tuple[list[str], list[str]]:
    """What a disk of this size and kind is worth noting, in English and German (here and on the installer stick)."""
    notes, notes_de = [], []
    if size < DISK_GOOD_GB * GB:
        notes.append(f"below {DISK_GOOD_GB} GB: little room for updates over the years")
        notes_de.append(f"unter {DISK_GOOD_GB} GB: wenig Platz für Updates über die Jahre")
    if rotational:
        notes.append("a spinning disk: the kiosk starts slowly; an SSD helps most")
        notes_de.append("eine drehende Festplatte: der Kiosk startet langsam; eine SSD hilft am meisten")
    return notes, notes_de


def _wifi(tree: Tree, drivers: Drivers) -> Finding:
    """A working Wi-Fi interface; else why the Wi-Fi chip gives none, or that there is only Ethernet, or nothing."""
    wireless, ethernet, netdevs = [], [], []
    for net in tree.glob("sys/class/net", "*"):
        device = net / "device"
        if not device.exists():  # lo, bridges, tunnels: no hardware
            continue
        netdevs.append(device.resolve())
        label = f"{net.name} ({driver})" if (driver := drivers.driver(device)) else net.name
        if (net / "wireless").exists() or (net / "phy80211").exists() or \
                re.search(r"^DEVTYPE=wlan$", tree.text(net / "uevent") or "", re.M):
            wireless.append(label)
        elif tree.number(net / "type") in (1, None):  # ARPHRD_ETHER
            ethernet.append(label)
    if wireless:
        blocked = [r for r in tree.glob("sys/class/rfkill", "rfkill*")
                   if tree.text(r / "type") == "wlan" and tree.text(r / "hard") == "1"]
        if blocked:
            return Finding("wifi", "note", ", ".join(wireless), "switched off by the laptop's Wi-Fi switch or key: "
                                                                "switch it on",
                           reason_de="mit dem WLAN-Schalter oder der Funktionstaste des Geräts ausgeschaltet: "
                                     "einschalten")
        return Finding("wifi", "ok", ", ".join(wireless))
    chips = [c for c in drivers.chips()
             if (c.bus == "PCI" and c.klass.startswith(PCI_WIFI))
             or (c.bus == "SDIO" and _hex(c.klass) == SDIO_CLASS_WLAN)
             or (c.driver is not None and WIRELESS_DRIVER.match(c.driver))]
    broken = [c for c in chips if not any((c.path / "net").glob("*")) and not _below(c.path, netdevs)]
    wired, wired_de = (f", Ethernet {', '.join(ethernet)}", f", Netzwerkkabel {', '.join(ethernet)}") if ethernet \
        else ("", "")
    if broken:
        chip = broken[0]
        why, why_de = drivers.why_not(chip, "network interface", "Netzwerkschnittstelle")
        value, value_de = f"{chip.label()}, not working{wired}", f"{chip.label()}, funktioniert nicht{wired_de}"
        if ethernet:
            return Finding("wifi", "note", value, f"the Wi-Fi chip does not work ({why}): only Ethernet works (a "
                                                  f"cable to the bed), or add a USB Wi-Fi adapter",
                           value_de, f"der WLAN-Chip funktioniert nicht ({why_de}): nur das Netzwerkkabel geht (ein "
                                     f"Kabel bis ans Bett), oder einen USB-WLAN-Stick anschließen")
        return Finding("wifi", "fail", value, f"the Wi-Fi chip does not work ({why}): the kiosk gets no network; add "
                                              f"a USB Wi-Fi adapter and check again",
                       value_de, f"der WLAN-Chip funktioniert nicht ({why_de}): der Kiosk bekommt kein Netz; einen "
                                 f"USB-WLAN-Stick anschließen und erneut prüfen")
    if ethernet:
        return Finding("wifi", "note", f"none{wired}", "no Wi-Fi, only Ethernet: needs a network cable to the bed, "
                                                       "or a USB Wi-Fi adapter",
                       f"{NONE_DE}{wired_de}", "kein WLAN, nur Netzwerkkabel: braucht ein Kabel bis ans Bett oder "
                                               "einen USB-WLAN-Stick")
    return Finding("wifi", "fail", "none", "no network device: add a USB Wi-Fi adapter and check again",
                   NONE_DE, "kein Netzwerkgerät: einen USB-WLAN-Stick anschließen und erneut prüfen")


def _hex(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None


VIDIOC_QUERYCAP = 0x80685600
V4L2_CAP_VIDEO_CAPTURE = 0x1
V4L2_CAP_DEVICE_CAPS = 0x80000000


def _can_capture(device: Path) -> bool | None:
    """Ask the driver (live system only); None when it cannot be asked."""
    import fcntl

    try:
        fd = os.open(device, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        buf = bytearray(104)
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, buf)
    except OSError:
        return None
    finally:
        os.close(fd)
    caps = int.from_bytes(buf[84:88], "little")
    device_caps = int.from_bytes(buf[88:92], "little")
    return bool((device_caps if caps & V4L2_CAP_DEVICE_CAPS else caps) & V4L2_CAP_VIDEO_CAPTURE)


def _camera(tree: Tree, root: Path) -> Finding:
    live = root.resolve() == Path("/")
    cameras = []
    for node in tree.glob("sys/class/video4linux", "video*"):
        name = tree.text(node / "name") or node.name
        capture = _can_capture(Path("/dev") / node.name) if live else None
        if capture is None:
            # A captured tree cannot be asked; UVC cameras register the capture node as index 0 and a
            # metadata node as index 1.
            capture = tree.number(node / "index") in (0, None)
        if capture:
            cameras.append(name)
    if not cameras:
        return Finding("camera", "fail", "none", "no video capture device: add a USB webcam (UVC) and check again",
                       NONE_DE, "keine Videoaufnahme möglich: eine USB-Webcam (UVC) anschließen und erneut prüfen")
    return Finding("camera", "ok", ", ".join(dict.fromkeys(cameras)))


def _audio(tree: Tree, drivers: Drivers) -> list[Finding]:
    playback, capture = [], []
    for line in (tree.text("proc/asound/pcm") or "").splitlines():
        # 00-00: ALC3246 Analog : ALC3246 Analog : playback 1 : capture 1
        parts = [p.strip() for p in line.split(":")]
        if len(parts) < 3:
            continue
        name = parts[1]
        if any(p.startswith("playback") for p in parts[3:]):
            playback.append(name)
        if any(p.startswith("capture") for p in parts[3:]):
            capture.append(name)
    # The same devices as the kernel's sysfs has them (pcmC0D0p: card 0, device 0, playback), for a tree without
    # /proc/asound; named by the card's id (PCH, HDMI, sofhdadsp).
    sysfs: dict[str, list[str]] = {"p": [], "c": []}
    for pcm in tree.glob("sys/class/sound", "pcmC*D*"):
        if m := re.match(r"^pcmC(\d+)D\d+([pc])$", pcm.name):
            card = m.group(1)
            sysfs[m.group(2)].append(tree.text(f"sys/class/sound/card{card}/id")
                                     or tree.text(f"proc/asound/card{card}/id") or f"card {card}")
    playback, capture = playback or sysfs["p"], capture or sysfs["c"]
    mic = Finding("microphone", "ok", ", ".join(dict.fromkeys(capture))) if capture else \
        Finding("microphone", "fail", "none", "no ALSA capture device: a USB webcam with a microphone helps",
                NONE_DE, "kein ALSA-Aufnahmegerät: eine USB-Webcam mit Mikrofon hilft")
    speakers = [n for n in playback if not re.search(r"hdmi|displayport|\bdp\b", n, re.I)]
    if speakers:
        speaker = Finding("speaker", "ok", ", ".join(dict.fromkeys(speakers)))
    elif playback:
        speaker = Finding("speaker", "note", ", ".join(dict.fromkeys(playback)),
                          "only HDMI/DisplayPort sound: needs a monitor with speakers or USB speakers",
                          reason_de="Ton nur über HDMI/DisplayPort: braucht einen Monitor mit Lautsprechern oder "
                                    "USB-Lautsprecher")
    else:
        reason, reason_de = "no ALSA playback device: add USB speakers", \
            "kein ALSA-Wiedergabegerät: USB-Lautsprecher anschließen"
        # A sound chip that gives no sound: say why, for whoever can put the firmware on.
        for chip in (c for c in drivers.chips() if c.bus == "PCI" and c.klass.startswith(PCI_AUDIO)):
            why, why_de = drivers.why_not(chip, "sound device", "Soundkarte")
            reason += f"; the sound chip {chip.bus} {chip.ident} gives no sound ({why})"
            reason_de += f"; der Soundchip {chip.bus} {chip.ident} gibt keinen Ton ({why_de})"
            break
        speaker = Finding("speaker", "fail", "none", reason, NONE_DE, reason_de)
    return [mic, speaker]


def _battery(tree: Tree) -> Finding:
    for supply in tree.glob("sys/class/power_supply", "*"):
        if (tree.text(supply / "type") or "").lower() != "battery":
            continue
        design = tree.number(supply / "energy_full_design") or tree.number(supply / "charge_full_design")
        full = tree.number(supply / "energy_full") or tree.number(supply / "charge_full")
        cycles = tree.number(supply / "cycle_count")
        if not design or full is None:
            return Finding("battery", "note", f"{supply.name}, capacity unknown",
                           "the battery does not report its capacity; try an hour off the mains",
                           f"{supply.name}, Kapazität unbekannt",
                           "der Akku meldet seine Kapazität nicht; eine Stunde ohne Netzteil ausprobieren")
        health = 100 * full / design
        value = f"{supply.name} holds {health:.0f} % of its design capacity" + \
            (f", {cycles} cycles" if cycles else "")
        value_de = f"{supply.name} hält {health:.0f} % seiner Nennkapazität" + \
            (f", {cycles} Ladezyklen" if cycles else "")
        notes, notes_de = [], []
        if health < BATTERY_BAD_PERCENT:
            notes.append(f"below {BATTERY_BAD_PERCENT} %: replace the battery or run on mains only; "
                         f"check it is not swollen")
            notes_de.append(f"unter {BATTERY_BAD_PERCENT} %: den Akku ersetzen oder nur am Netz betreiben; prüfen, "
                            f"dass er nicht aufgebläht ist")
        elif health < BATTERY_WORN_PERCENT:
            notes.append(f"worn (below {BATTERY_WORN_PERCENT} %): keep it plugged in; a call away from the "
                         f"socket may end early")
            notes_de.append(f"verschlissen (unter {BATTERY_WORN_PERCENT} %): eingesteckt lassen; ein Anruf fern der "
                            f"Steckdose endet vielleicht früher")
        if cycles and cycles > BATTERY_CYCLES_HIGH:
            notes.append(f"more than {BATTERY_CYCLES_HIGH} charge cycles")
            notes_de.append(f"mehr als {BATTERY_CYCLES_HIGH} Ladezyklen")
        return Finding("battery", "note" if notes else "ok", value, "; ".join(notes), value_de, "; ".join(notes_de))
    return Finding("battery", "note", "none", "no battery: a power cut or a pulled plug switches it off",
                   NONE_DE, "kein Akku: ein Stromausfall oder ein gezogener Stecker schaltet das Gerät aus")


def _graphics(tree: Tree, drivers: Drivers) -> Finding:
    """A graphics driver with a screen connector (card0-eDP-1 ...); else the graphics chip it lacks, and why."""
    cards: dict[str, list[str]] = {}
    for entry in tree.glob("sys/class/drm", "card*"):
        if m := re.match(r"^(card\d+)(?:-(.+))?$", entry.name):
            cards.setdefault(m.group(1), []).extend([m.group(2)] if m.group(2) else [])
    working, framebuffer, driven = [], [], []
    for card, connectors in cards.items():
        device = tree.path(f"sys/class/drm/{card}/device")
        driver = drivers.driver(device) if device.exists() else None
        if device.exists():
            driven.append(device.resolve())
        if connectors:
            connectors.sort(key=lambda c: (not INTERNAL.search(f"-{c}"), c))  # the built-in panel first
            label = f"{driver or card} ({', '.join(connectors)})"
            (framebuffer if driver in FRAMEBUFFER_DRIVERS else working).append(label)
    if working:
        return Finding("graphics", "ok", ", ".join(working))
    undriven = [c for c in drivers.chips() if c.bus == "PCI" and c.klass.startswith(PCI_DISPLAY)
                and not any((c.path / "drm").glob("card*")) and not _below(c.path, driven)]
    if undriven:
        chip = undriven[0]
        why, why_de = drivers.why_not(chip, "display device", "Anzeige")
        return Finding("graphics", "fail", f"{chip.label()}, no picture",
                       f"graphics chip without a working driver ({why}): the kiosk cannot show anything",
                       f"{chip.label()}, kein Bild",
                       f"Grafikkarte ohne Treiber: der Kiosk kann nichts anzeigen ({why_de})")
    if framebuffer:
        return Finding("graphics", "note", ", ".join(framebuffer),
                       "only the firmware's frame buffer: one resolution, slow, no brightness control",
                       reason_de="nur der Bildspeicher der Firmware: eine Auflösung, langsam, Helligkeit nicht "
                                 "einstellbar")
    return Finding("graphics", "fail", "none", "no graphics with a screen connector in /sys/class/drm: the kiosk "
                                               "cannot show anything",
                   NONE_DE, "keine Grafik mit Bildschirmanschluss gefunden: der Kiosk kann nichts anzeigen")


INTERNAL = re.compile(r"-(eDP|LVDS|DSI)-", re.I)


def edid_size_cm(edid: bytes) -> tuple[int, int] | None:
    """Width and height of the picture in cm from an EDID block; None when absent or not given."""
    if len(edid) < 128 or edid[:8] != b"\x00\xff\xff\xff\xff\xff\xff\x00":
        return None
    width, height = edid[21], edid[22]
    return (width, height) if width and height else None


def _screen(tree: Tree, rotation: int = 0) -> Finding:
    panels = [c for c in tree.glob("sys/class/drm", "card*-*")
              if INTERNAL.search(c.name) and (tree.text(c / "status") or "connected") == "connected"]
    if not panels:
        return Finding("screen", "note", "no built-in screen", "needs a monitor (and speakers and a camera)",
                       "kein eingebauter Bildschirm", "braucht einen Monitor (und Lautsprecher und eine Kamera)")
    panel = panels[0]
    modes = (tree.text(panel / "modes") or "").split()
    resolution = None
    if modes and (m := re.match(r"^(\d+)x(\d+)", modes[0])):
        resolution = (int(m.group(1)), int(m.group(2)))
    try:
        size = edid_size_cm((panel / "edid").read_bytes())
    except OSError:
        size = None
    diagonal = (size[0] ** 2 + size[1] ** 2) ** 0.5 / 2.54 if size else None
    pixels = f", {resolution[0]}x{resolution[1]}" if resolution else ""
    value = (f'{diagonal:.1f}"' if diagonal else "size unknown") + pixels
    value_de = (f"{_de_number(diagonal, '.1f')} Zoll" if diagonal else "Größe unbekannt") + pixels
    # What the kiosk shows: the panel turned by the device list's display rotate.
    shown = resolution[::-1] if resolution and rotation in (90, 270) else resolution
    if rotation:
        turned = f" ({shown[0]}x{shown[1]})" if shown and shown != resolution else ""
        value += f", turned {rotation}°{turned}"
        value_de += f", um {rotation}° gedreht{turned}"
    if shown and (shown[0] < RES_MIN[0] or shown[1] < RES_MIN[1]):
        reason = f"below {RES_MIN[0]}x{RES_MIN[1]}: the kiosk's screens do not fit"
        reason_de = f"unter {RES_MIN[0]}x{RES_MIN[1]}: die Bildschirme des Kiosks passen nicht darauf"
        if rotation in (0, 180) and shown[1] >= RES_MIN[0] and shown[0] >= RES_MIN[1]:
            reason += "; a portrait panel: give the device display: {rotate: 90} (or 270) in the device list and " \
                      "check with --rotate 90"
            reason_de += "; ein Bildschirm im Hochformat: in der Geräteliste display: {rotate: 90} (oder 270) " \
                         "eintragen"
        return Finding("screen", "fail", value, reason, value_de, reason_de)
    if diagonal is not None and diagonal < SCREEN_MIN_INCH:
        return Finding("screen", "fail", value, f'below {SCREEN_MIN_INCH}": too small for residents to see the '
                                                f"family",
                       value_de, f"unter {_de_number(SCREEN_MIN_INCH)} Zoll: zu klein, um die Familie zu erkennen")
    if diagonal is not None and diagonal < SCREEN_GOOD_INCH:
        return Finding("screen", "note", value, f'below {SCREEN_GOOD_INCH}": fine for a bedside table, small '
                                                f"for poor sight",
                       value_de, f"unter {_de_number(SCREEN_GOOD_INCH)} Zoll: gut für den Nachttisch, klein für "
                                 f"schlechte Augen")
    if diagonal is None:
        return Finding("screen", "note", value, "the panel does not report its size; measure it",
                       value_de, "der Bildschirm meldet seine Größe nicht; bitte nachmessen")
    return Finding("screen", "ok", value, value_de=value_de)


def bitmap_bits(hexwords: str) -> set[int]:
    """Bit numbers set in a /proc/bus/input bitmap (space-separated hex words, most significant first)."""
    out = set()
    for index, word in enumerate(reversed(hexwords.split())):
        value = int(word, 16)
        out |= {index * 64 + b for b in range(64) if value >> b & 1}
    return out


INPUT_PROP_DIRECT = 1
ABS_MT_POSITION_X = 0x35


def _touch(tree: Tree) -> Finding:
    for block in (tree.text("proc/bus/input/devices") or "").split("\n\n"):
        name = next(iter(re.findall(r'^N: Name="(.*)"$', block, re.M)), "")
        prop = next(iter(re.findall(r"^B: PROP=(.*)$", block, re.M)), "0")
        axes = next(iter(re.findall(r"^B: ABS=(.*)$", block, re.M)), "0")
        try:
            direct = INPUT_PROP_DIRECT in bitmap_bits(prop)
            multitouch = ABS_MT_POSITION_X in bitmap_bits(axes) or {0, 1} <= bitmap_bits(axes)
        except ValueError:
            continue
        if direct and multitouch:
            return Finding("touch", "ok", name or "touch screen")
    return Finding("touch", "note", "none", "no touch screen: the resident taps with a mouse or touchpad, "
                                            "or staff start the call",
                   NONE_DE, "kein Touchscreen: Bewohner tippen mit Maus oder Touchpad, oder das Personal startet "
                            "den Anruf")
