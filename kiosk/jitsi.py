"""What the kiosk asks of Jitsi: the IFrame API options for one call."""

from __future__ import annotations

from kiosk.config import KioskConfig


def config_overwrite(config: KioskConfig) -> dict:
    """The configOverwrite that makes Jitsi a one-button kiosk: no pre-join, no prompts, no chrome."""
    jitsi = config.jitsi
    height = jitsi.resolution
    return {
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
        "constraints": {"video": {"height": {"ideal": height, "max": height, "min": min(180, height)}}},
        "channelLastN": jitsi.channel_last_n,
        "startLastN": jitsi.channel_last_n,
        "disableAudioLevels": True,
        "maxFullResolutionParticipants": 1,
    }


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


def join_options(config: KioskConfig) -> dict:
    """Everything the call page passes to `new JitsiMeetExternalAPI(domain, options)`, plus the domain."""
    return {
        "domain": config.domain,
        "roomName": config.room,
        "lang": config.language,
        "userInfo": {"displayName": config.resident},
        "configOverwrite": config_overwrite(config),
        "interfaceConfigOverwrite": interface_config_overwrite(),
    }
