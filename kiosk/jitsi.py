"""What the kiosk asks of Jitsi: the IFrame API options for one call."""

from __future__ import annotations

from kiosk.config import KioskConfig

# The low-power call profile for old hardware: what it caps, and why, is in docs/benchmarks.md.
LOW_POWER_MAX_RESOLUTION = 360
LOW_POWER_FRAME_RATE = 15


def low_power(config: KioskConfig, weak: bool | None = None) -> bool:
    """Whether calls use the low-power profile: set in the config, or "auto" on a weak device (weak None: detect)."""
    profile = config.jitsi.profile
    if profile != "auto":
        return profile == "low"
    if weak is None:
        from kiosk.chromium import device_is_weak

        weak = device_is_weak()
    return weak


def config_overwrite(config: KioskConfig, weak: bool | None = None) -> dict:
    """The configOverwrite that makes Jitsi a one-button kiosk: no pre-join, no prompts, no chrome.

    Only keys on jitsi-meet's override whitelists: a real server drops every other key without a word
    (tests/unit/kiosk/test_jitsi.py holds them against the whitelists; the stand-in drops the rest too).
    """
    jitsi = config.jitsi
    low = low_power(config, weak)
    height = min(jitsi.resolution, LOW_POWER_MAX_RESOLUTION) if low else jitsi.resolution
    frame_rate = jitsi.frame_rate or (LOW_POWER_FRAME_RATE if low else None)
    video: dict = {"height": {"ideal": height, "max": height, "min": min(180, height)}}
    if frame_rate:
        video["frameRate"] = {"ideal": frame_rate, "max": frame_rate}
    overwrite = {
        # Straight in: no pre-join page, no name prompt, media on.
        "prejoinConfig": {"enabled": False},
        "readOnlyName": True,
        "disableProfile": True,
        "startWithAudioMuted": jitsi.start_audio_muted,
        "startWithVideoMuted": jitsi.start_video_muted,
        # The kiosk owns its buttons; nothing in the page may be tapped by accident.
        "toolbarButtons": [],
        "disableShortcuts": True,
        "disableInviteFunctions": True,
        "disableReactions": True,
        "disablePolls": True,
        "hideConferenceSubject": True,
        "hideConferenceTimer": True,
        "notifications": [],
        "feedbackPercentage": 0,
        "deeplinking": {"disabled": True},
        "disableDeepLinking": True,  # the older name, still applied
        # Jitsi's close and welcome pages never show: the kiosk disposes the iframe on readyToClose (callflow.py).
        # Old hardware: modest video, no audio level meters.
        "resolution": height,
        "constraints": {"video": video},
        "channelLastN": jitsi.channel_last_n,
        "startLastN": jitsi.channel_last_n,
        "disableAudioLevels": True,
        "maxFullResolutionParticipants": 1,
        "disableSelfView": not jitsi.self_view,
    }
    if low:
        overwrite.update({
            # One encoding instead of three simulcast layers: a 1:1 family call needs no layers to choose from
            # (and with one layer there is none left to suspend).
            "disableSimulcast": True,
            # No analysis of the microphone for "no audio" / "noisy" hints.
            "enableNoAudioDetection": False,
            "enableNoisyMicDetection": False,
        })
    return overwrite


def interface_config_overwrite() -> dict:
    """Interface settings that keep Jitsi's own chrome out of the resident's way.

    Watermarks and the app promotion are not overridable: the city's interface_config.js sets them.
    """
    return {
        "SHOW_POWERED_BY": False,
        "DISABLE_JOIN_LEAVE_NOTIFICATIONS": True,
        "SHOW_CHROME_EXTENSION_BANNER": False,
        "TOOLBAR_ALWAYS_VISIBLE": False,
        "FILM_STRIP_MAX_HEIGHT": 160,
    }


def join_options(config: KioskConfig, weak: bool | None = None) -> dict:
    """Everything the call page passes to `new JitsiMeetExternalAPI(domain, options)`, plus the domain."""
    return {
        "domain": config.domain,
        "roomName": config.room,
        "lang": config.language,
        "userInfo": {"displayName": config.resident},
        "configOverwrite": config_overwrite(config, weak),
        "interfaceConfigOverwrite": interface_config_overwrite(),
    }


def with_jwt(options: dict, token: str | None) -> dict:
    """The join options with the server's login token as the IFrame API's jwt option (none: unchanged)."""
    return {**options, "jwt": token} if token else options
