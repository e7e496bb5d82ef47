"""Donated-hardware triage; over 400 lines because it reads nine parts of a machine, each with its own files.

It reads a machine's /proc, /sys and /dev and says whether it can be a Palim kiosk (memory, CPU, disk, camera,
microphone, speaker, battery, screen, touch). Everything is read below a root directory, so a tree captured from a
real machine can be checked anywhere.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

GIB = 1024 ** 3
GB = 1000 ** 3

# The thresholds, in one place: --help and README print them from here.
# Memory: a call in QtWebEngine takes about 0.5 GiB for the kiosk (docs/qtwebengine.md) on top of
# Debian, cage and PipeWire; MemTotal of a "2 GB" machine is about 1.9 GiB.
MEMORY_MIN_GIB = 1.75
MEMORY_GOOD_GIB = 3.5
# CPU: without a GPU a call takes 1.6 cores of a modern CPU (docs/qtwebengine.md); one core cannot keep up.
CORES_MIN = 2
CORES_GOOD = 4
FIRMWARE_OLD_YEARS = 12
# Disk: Debian 12 with the kiosk's packages and venv needs about 6 GB, updates need room to unpack.
DISK_MIN_GB = 16
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
  CPU          not 64-bit x86 with SSE3 (Chromium needs it), or fewer than {CORES_MIN} cores /
               {CORES_MIN}-{CORES_GOOD - 1} cores, or firmware older than {FIRMWARE_OLD_YEARS} years / {CORES_GOOD}+ cores
  disk         internal disk below {DISK_MIN_GB} GB / below {DISK_GOOD_GB} GB, spinning disk, or less than
               {FREE_MIN_GIB:g} GiB free where --sysfs-root points / more
  camera       no video capture device (add a USB webcam) / - / one found
  microphone   no ALSA capture device / - / one found
  speaker      no ALSA playback device / only HDMI output / one found
  battery      never unsuitable / no battery, below {BATTERY_WORN_PERCENT} % of design capacity (below
               {BATTERY_BAD_PERCENT} %: replace it), or more than {BATTERY_CYCLES_HIGH} cycles / fine
  screen       built-in screen below {SCREEN_MIN_INCH}" or below {RES_MIN[0]}x{RES_MIN[1]} / below
               {SCREEN_GOOD_INCH}", or no built-in screen / more
  touch        never unsuitable / no touch screen (the resident taps with a mouse or touchpad) / found
"""

VERDICTS = {"ok": "suitable", "note": "suitable with notes", "fail": "unsuitable"}


@dataclass
class Finding:
    """One checked property."""

    name: str
    status: str  # "ok", "note", "fail"
    value: str
    reason: str = ""


@dataclass
class Result:
    """The whole check."""

    root: str
    machine: dict
    findings: list[Finding] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        worst = "fail" if any(f.status == "fail" for f in self.findings) else \
            "note" if any(f.status == "note" for f in self.findings) else "ok"
        return VERDICTS[worst]

    def as_json(self) -> dict:
        return {"root": self.root, "machine": self.machine, "verdict": self.verdict,
                "checks": [asdict(f) for f in self.findings]}

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


def check(root: Path, *, today: date | None = None, free_bytes: int | None = None) -> Result:
    """Check the machine below root. free_bytes overrides the free space measured at root (for tests)."""
    tree = Tree(Path(root))
    today = today or date.today()
    machine = _machine(tree)
    result = Result(str(root), machine)
    result.findings += [
        _memory(tree),
        _cpu(tree, machine, today),
        _disk(tree, root, free_bytes),
        _camera(tree, Path(root)),
        *_audio(tree),
        _battery(tree),
        _screen(tree),
        _touch(tree),
    ]
    return result


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
        return Finding("memory", "fail", "unknown", "cannot read MemTotal from /proc/meminfo")
    gib = int(m.group(1)) * 1024 / GIB
    value = f"{gib:.1f} GiB"
    if gib < MEMORY_MIN_GIB:
        return Finding("memory", "fail", value, f"a video call needs at least {MEMORY_MIN_GIB} GiB (2 GB installed)")
    if gib < MEMORY_GOOD_GIB:
        return Finding("memory", "note", value, f"enough for calls; {MEMORY_GOOD_GIB} GiB or more (4 GB installed) "
                                                f"leaves room for updates during a call")
    return Finding("memory", "ok", value)


def _cpu(tree: Tree, machine: dict, today: date) -> Finding:
    info = tree.text("proc/cpuinfo") or ""
    model = next(iter(re.findall(r"^model name\s*:\s*(.+)$", info, re.M)), None)
    flags = set(next(iter(re.findall(r"^flags\s*:\s*(.+)$", info, re.M)), "").split())
    cores = _online_cpus(tree.text("sys/devices/system/cpu/online")) or len(re.findall(r"^processor\s*:", info, re.M))
    model = re.sub(r"\s+", " ", model) if model else None
    value = f"{cores or '?'} cores" + (f", {model}" if model else "")
    notes = []
    if flags and "lm" not in flags:
        return Finding("cpu", "fail", value, "32-bit only: the kiosk needs a 64-bit (x86-64) processor")
    if flags and "pni" not in flags:
        return Finding("cpu", "fail", value, "no SSE3: Chromium, and so QtWebEngine, does not run on it")
    if not flags and not info:
        return Finding("cpu", "fail", "unknown", "cannot read /proc/cpuinfo")
    if not cores:
        return Finding("cpu", "fail", value, "cannot count the processor cores")
    if cores < CORES_MIN:
        return Finding("cpu", "fail", value, f"a video call needs at least {CORES_MIN} cores")
    if cores < CORES_GOOD:
        notes.append(f"{cores} cores: calls work, but keep video at 360p or lower (jitsi.resolution)")
    if machine.get("firmware_date"):
        age = today.year - int(machine["firmware_date"][:4])
        value += f", firmware {age} years old"
        if age > FIRMWARE_OLD_YEARS:
            notes.append(f"firmware from {machine['firmware_date'][:4]} (over {FIRMWARE_OLD_YEARS} years): "
                         f"expect a slow start and choppy video; try a call before handing it out")
    return Finding("cpu", "note" if notes else "ok", value, "; ".join(notes))


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
        return Finding("disk", "fail", "no internal disk found", "no fixed disk in /sys/block")
    size, name, rotational = max(disks)
    value = f"{name} {size / GB:.0f} GB{' (spinning)' if rotational else ''}"
    if free_bytes is not None:
        value += f", {free_bytes / GIB:.1f} GiB free"
    if size < DISK_MIN_GB * GB:
        return Finding("disk", "fail", value, f"Debian and the kiosk need a disk of at least {DISK_MIN_GB} GB")
    notes = []
    if size < DISK_GOOD_GB * GB:
        notes.append(f"below {DISK_GOOD_GB} GB: little room for updates over the years")
    if rotational:
        notes.append("a spinning disk: the kiosk starts slowly; an SSD helps most")
    if free_bytes is not None and free_bytes < FREE_MIN_GIB * GIB:
        notes.append(f"less than {FREE_MIN_GIB:g} GiB free: reinstall or free space before provisioning")
    return Finding("disk", "note" if notes else "ok", value, "; ".join(notes))


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
        return Finding("camera", "fail", "none", "no video capture device: add a USB webcam (UVC) and check again")
    return Finding("camera", "ok", ", ".join(dict.fromkeys(cameras)))


def _audio(tree: Tree) -> list[Finding]:
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
    mic = Finding("microphone", "ok", ", ".join(dict.fromkeys(capture))) if capture else \
        Finding("microphone", "fail", "none", "no ALSA capture device: a USB webcam with a microphone helps")
    speakers = [n for n in playback if not re.search(r"hdmi|displayport|\bdp\b", n, re.I)]
    if speakers:
        speaker = Finding("speaker", "ok", ", ".join(dict.fromkeys(speakers)))
    elif playback:
        speaker = Finding("speaker", "note", ", ".join(dict.fromkeys(playback)),
                          "only HDMI/DisplayPort sound: needs a monitor with speakers or USB speakers")
    else:
        speaker = Finding("speaker", "fail", "none", "no ALSA playback device: add USB speakers")
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
                           "the battery does not report its capacity; try an hour off the mains")
        health = 100 * full / design
        value = f"{supply.name} holds {health:.0f} % of its design capacity" + \
            (f", {cycles} cycles" if cycles else "")
        notes = []
        if health < BATTERY_BAD_PERCENT:
            notes.append(f"below {BATTERY_BAD_PERCENT} %: replace the battery or run on mains only; "
                         f"check it is not swollen")
        elif health < BATTERY_WORN_PERCENT:
            notes.append(f"worn (below {BATTERY_WORN_PERCENT} %): keep it plugged in; a call away from the "
                         f"socket may end early")
        if cycles and cycles > BATTERY_CYCLES_HIGH:
            notes.append(f"more than {BATTERY_CYCLES_HIGH} charge cycles")
        return Finding("battery", "note" if notes else "ok", value, "; ".join(notes))
    return Finding("battery", "note", "none", "no battery: a power cut or a pulled plug switches it off")


INTERNAL = re.compile(r"-(eDP|LVDS|DSI)-", re.I)


def edid_size_cm(edid: bytes) -> tuple[int, int] | None:
    """Width and height of the picture in cm from an EDID block; None when absent or not given."""
    if len(edid) < 128 or edid[:8] != b"\x00\xff\xff\xff\xff\xff\xff\x00":
        return None
    width, height = edid[21], edid[22]
    return (width, height) if width and height else None


def _screen(tree: Tree) -> Finding:
    panels = [c for c in tree.glob("sys/class/drm", "card*-*")
              if INTERNAL.search(c.name) and (tree.text(c / "status") or "connected") == "connected"]
    if not panels:
        return Finding("screen", "note", "no built-in screen", "needs a monitor (and speakers and a camera)")
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
    value = (f'{diagonal:.1f}"' if diagonal else "size unknown") + \
        (f", {resolution[0]}x{resolution[1]}" if resolution else "")
    if resolution and (resolution[0] < RES_MIN[0] or resolution[1] < RES_MIN[1]):
        return Finding("screen", "fail", value, f"below {RES_MIN[0]}x{RES_MIN[1]}: the kiosk's screens do not fit")
    if diagonal is not None and diagonal < SCREEN_MIN_INCH:
        return Finding("screen", "fail", value, f'below {SCREEN_MIN_INCH}": too small for residents to see the '
                                                f"family")
    if diagonal is not None and diagonal < SCREEN_GOOD_INCH:
        return Finding("screen", "note", value, f'below {SCREEN_GOOD_INCH}": fine for a bedside table, small '
                                                f"for poor sight")
    if diagonal is None:
        return Finding("screen", "note", value, "the panel does not report its size; measure it")
    return Finding("screen", "ok", value)


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
                                            "or staff start the call")
