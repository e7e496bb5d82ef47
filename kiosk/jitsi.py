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
    """The configOverwrite that makes Jitsi a one-button kiosk: no pre-join, no prompts, no chrome."""
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
        "prejoinPageEnabled": False,  # older servers
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
        "disableDeepLinking": True,  # older servers
        "enableWelcomePage": False,
        "enableClosePage": False,
        # Old hardware: modest video, no audio level meters.
        "resolution": height,
        "constraints": {"video": video},
        "channelLastN": jitsi.channel_last_n,
        "startLastN": jitsi.channel_last_n,
        "disableAudioLevels": True,
        "maxFullResolutionParticipants": 1,
    }
    if low:
        overwrite.update({
            # One encoding instead of three simulcast layers: a 1:1 family call needs no layers to choose from.
            "disableSimulcast": True,
            # Stop encoding layers nobody receives; no analysis of the microphone for "no audio" / "noisy" hints.
            "enableLayerSuspension": True,
            "enableNoAudioDetection": False,
            "enableNoisyMicDetection": False,
        })
    return overwrite


def interface_config_overwrite() -> dict:
    """Interface settings that keep Jitsi's own chrome out of the resident's way."""
    return {
        "SHOW_JITSI_WATERMARK": False,
        "SHOW_WATERMARK_FOR_GUESTS": False,
        "SHOW_BRAND_WATERMARK": False,
        "SHOW_POWERED_BY": False,
        "DISABLE_JOIN_LEAVE_NOTIFICATIONS": True,
        "MOBILE_APP_PROMO": False,
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
