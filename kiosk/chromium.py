"""The Chromium switches the kiosk runs QtWebEngine with."""

from __future__ import annotations

import glob
import os

# Chromium switches the kiosk adds to whatever operators and tests already pass.
KIOSK_SWITCHES = (
    "--disable-pinch",  # no zooming the video away with two fingers
    "--overscroll-history-navigation=0",  # no swipe-back
    "--autoplay-policy=no-user-gesture-required",  # the family's voice plays; the tap was on a native button
    # The call page, loaded afresh after each call, collects the last call's garbage (bench/soak.py: +71 % tree PSS
    # over 200 calls without, +1.5 % with); only the local page and the configured server run scripts, so the
    # exposed gc() is not reachable by anyone else.
    "--js-flags=--expose-gc",
)

# Without a GPU, Qt and Chromium would "accelerate" through Mesa's llvmpipe: every video frame is then composited by
# OpenGL emulated on the CPU, twice (Chromium's compositor, then Qt Quick's). Software compositing on both sides does
# the same work directly: in a call on a 2-core machine without GPU it took the kiosk from about 80 % to about 50 % of
# one core (docs/benchmarks.md).
NO_GPU_SWITCHES = (
    "--disable-gpu",  # Chromium composites in software; no GL context on llvmpipe at all
)
NO_GPU_ENVIRONMENT = {
    "QT_QUICK_BACKEND": "software",  # QWebEngineView draws Chromium's frames with Qt Quick's software renderer
}
# Operators may force the choice: PALIM_KIOSK_GPU=yes (a GPU driver Mesa names) or no; anything else: detect.
GPU_OVERRIDE = "PALIM_KIOSK_GPU"
# The kiosk unit exports WLR_RENDERER=pixman to cage (and so to the kiosk, cage's child) once cage crashed on a GPU
# that mesa cannot drive. A render node is there all the same (virtio-gpu without 3D, kms_swrast), but OpenGL on it
# is Mesa's llvmpipe: under cage that cost 27 more points of one core and 112 MiB more in a call (docs/benchmarks.md).
COMPOSITOR_RENDERER = "WLR_RENDERER"
WEAK_CORES = 2
WEAK_MEMORY_BYTES = 4 * 2**30


def gpu_available(environ: dict | None = None) -> bool:
    """True when the device has a GPU render node (a real driver) and its compositor renders on it; operators can
    force it with PALIM_KIOSK_GPU."""
    environ = environ or {}
    override = environ.get(GPU_OVERRIDE, "").strip().lower()
    if override in ("yes", "1", "true", "on"):
        return True
    if override in ("no", "0", "false", "off"):
        return False
    if environ.get(COMPOSITOR_RENDERER, "").strip().lower() == "pixman":
        return False  # cage found no GPU it can use: neither can the kiosk
    return bool(glob.glob("/dev/dri/renderD*"))


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def device_is_weak(environ: dict | None = None) -> bool:
    """True on the donated laptops the low-power call profile is for: no GPU, two cores or fewer, or under 4 GiB."""
    environ = os.environ if environ is None else environ
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    memory = _memory_bytes()
    return not gpu_available(environ) or cores <= WEAK_CORES or (0 < memory < WEAK_MEMORY_BYTES)


def add_chromium_switches(environ: dict, gpu: bool | None = None) -> None:
    """Append the kiosk's switches to QTWEBENGINE_CHROMIUM_FLAGS, keeping what is there.

    Without a GPU (gpu None: detect) also switch Chromium and Qt Quick to software compositing; a value the operator
    already set (a switch of the same name, or QT_QUICK_BACKEND) wins.
    """
    if gpu is None:
        gpu = gpu_available(environ)
    current = environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    names = {flag.split("=", 1)[0] for flag in current}
    wanted = KIOSK_SWITCHES + (() if gpu else NO_GPU_SWITCHES)
    extra = [flag for flag in wanted if flag.split("=", 1)[0] not in names]
    environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(current + extra)
    if not gpu:
        for key, value in NO_GPU_ENVIRONMENT.items():
            environ.setdefault(key, value)
