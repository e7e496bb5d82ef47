"""The kiosk adds its Chromium switches to what operators and tests pass, never replacing them."""

import pytest

from kiosk import chromium
from kiosk.chromium import KIOSK_SWITCHES, NO_GPU_SWITCHES, add_chromium_switches, device_is_weak, gpu_available


def test_switches_are_added_to_existing_ones():
    env = {"QTWEBENGINE_CHROMIUM_FLAGS": "--use-fake-device-for-media-stream --disable-pinch"}
    add_chromium_switches(env, gpu=True)
    flags = env["QTWEBENGINE_CHROMIUM_FLAGS"].split()
    assert flags[0] == "--use-fake-device-for-media-stream"
    assert flags.count("--disable-pinch") == 1
    assert set(KIOSK_SWITCHES) <= set(flags)


def test_an_operator_value_wins_over_the_kiosk_default():
    env = {"QTWEBENGINE_CHROMIUM_FLAGS": "--autoplay-policy=user-gesture-required"}
    add_chromium_switches(env, gpu=True)
    assert "--autoplay-policy=no-user-gesture-required" not in env["QTWEBENGINE_CHROMIUM_FLAGS"]


def test_no_variable_yet():
    env = {}
    add_chromium_switches(env, gpu=True)
    assert env["QTWEBENGINE_CHROMIUM_FLAGS"].split() == list(KIOSK_SWITCHES)
    assert "QT_QUICK_BACKEND" not in env  # with a GPU, Qt keeps its accelerated scene graph


def test_without_a_gpu_both_sides_composite_in_software():
    env = {"QTWEBENGINE_CHROMIUM_FLAGS": "--use-fake-device-for-media-stream"}
    add_chromium_switches(env, gpu=False)
    flags = env["QTWEBENGINE_CHROMIUM_FLAGS"].split()
    assert set(NO_GPU_SWITCHES) <= set(flags) and flags[0] == "--use-fake-device-for-media-stream"
    assert env["QT_QUICK_BACKEND"] == "software"


def test_an_operator_choice_of_scene_graph_wins():
    env = {"QT_QUICK_BACKEND": "opengl"}
    add_chromium_switches(env, gpu=False)
    assert env["QT_QUICK_BACKEND"] == "opengl"


@pytest.mark.parametrize("value, expected", [("yes", True), ("on", True), ("no", False), ("0", False)])
def test_operators_can_force_the_gpu_choice(value, expected, monkeypatch):
    monkeypatch.setattr(chromium.glob, "glob", lambda pattern: [] if expected else ["/dev/dri/renderD128"])
    assert gpu_available({"PALIM_KIOSK_GPU": value}) is expected


def test_the_gpu_is_detected_by_its_render_node(monkeypatch):
    monkeypatch.setattr(chromium.glob, "glob", lambda pattern: ["/dev/dri/renderD128"])
    assert gpu_available({}) is True
    monkeypatch.setattr(chromium.glob, "glob", lambda pattern: [])
    assert gpu_available({}) is False
    env = {}
    add_chromium_switches(env)  # detected: no GPU
    assert "--disable-gpu" in env["QTWEBENGINE_CHROMIUM_FLAGS"].split()


def test_a_compositor_on_software_rendering_means_no_gpu_for_the_kiosk_either(monkeypatch):
    """cage switched to pixman (the unit exports WLR_RENDERER=pixman after cage crashed on the GPU): the render node is
    there, but GL on it would be llvmpipe, so the kiosk composites in software too; an operator's choice still wins."""
    monkeypatch.setattr(chromium.glob, "glob", lambda pattern: ["/dev/dri/renderD128"])
    assert gpu_available({"WLR_RENDERER": "gles2"}) is True
    assert gpu_available({"WLR_RENDERER": "pixman"}) is False
    assert gpu_available({"WLR_RENDERER": "pixman", "PALIM_KIOSK_GPU": "yes"}) is True
    env = {"WLR_RENDERER": "pixman"}
    add_chromium_switches(env)
    assert "--disable-gpu" in env["QTWEBENGINE_CHROMIUM_FLAGS"].split() and env["QT_QUICK_BACKEND"] == "software"


@pytest.mark.parametrize("gpu, cores, memory, weak", [
    (True, 4, 8 * 2**30, False),
    (False, 4, 8 * 2**30, True),  # no GPU driver
    (True, 2, 8 * 2**30, True),  # two cores
    (True, 4, 3 * 2**30, True),  # under 4 GiB
])
def test_weak_devices(gpu, cores, memory, weak, monkeypatch):
    monkeypatch.setattr(chromium.glob, "glob", lambda pattern: ["/dev/dri/renderD128"] if gpu else [])
    monkeypatch.setattr(chromium.os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(chromium, "_memory_bytes", lambda: memory)
    assert device_is_weak({}) is weak
