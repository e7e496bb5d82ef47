"""The Chromium switches the kiosk runs QtWebEngine with."""

from __future__ import annotations

# Chromium switches the kiosk adds to whatever operators and tests already pass.
KIOSK_SWITCHES = (
    "--disable-pinch",  # no zooming the video away with two fingers
    "--overscroll-history-navigation=0",  # no swipe-back
    "--autoplay-policy=no-user-gesture-required",  # the family's voice plays; the tap was on a native button
)

def add_chromium_switches(environ: dict) -> None:
    """Append the kiosk's switches to QTWEBENGINE_CHROMIUM_FLAGS, keeping what is there."""
    current = environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    names = {flag.split("=", 1)[0] for flag in current}
    extra = [flag for flag in KIOSK_SWITCHES if flag.split("=", 1)[0] not in names]
    environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(current + extra)
