"""Which overrides the stand-in applies: the key names of jitsi-meet's override whitelists, nothing else.

A real Jitsi applies a key of `configOverwrite` / `interfaceConfigOverwrite` (which reach it as `#config.x=` and
`#interfaceConfig.y=` in the iframe's URL) only when the key is on its whitelist, and drops the rest without a
word. The stand-in does the same (room.js, with these lists), and reports what it dropped.

Key names read on 2026-11-29 from jitsi/jitsi-meet, react/features/base/config/: configWhitelist.ts,
isEmbeddedConfigWhitelist.ts (added when Jitsi is embedded, as in the kiosk), interfaceConfigWhitelist.ts,
isEmbeddedInterfaceConfigWhitelist.ts (empty) and extra*Whitelist.ts (empty); the filtering is lodash `pick` in
functions.any.ts (getWhitelistedJSON). tests/unit/kiosk/test_jitsi.py records the same names and checks that these
lists equal them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

CONFIG = (
    "_desktopSharingSourceDevice", "_peerConnStatusOutOfLastNTimeout", "_peerConnStatusRtcMuteTimeout",
    "analytics.disabled", "analytics.rtcstatsEnabled", "analytics.watchRTCEnabled", "audioLevelsInterval",
    "audioQuality", "autoKnockLobby", "apiLogLevels", "avgRtpStatsN", "backgroundAlpha", "brandingRoomAlias",
    "breakoutRooms", "bridgeChannel", "buttonsWithNotifyClick", "callDisplayName", "callFlowsEnabled", "callHandle",
    "callUUID", "cameraFacingMode", "conferenceInfo", "channelLastN", "connectionIndicators", "constraints",
    "deeplinking.disabled", "deeplinking.desktop.enabled", "defaultLocalDisplayName", "defaultRemoteDisplayName",
    "desktopSharingFrameRate", "desktopSharingSources", "disable1On1Mode", "disableAEC", "disableAGC", "disableAP",
    "disableAddingBackgroundImages", "disableAudioLevels", "disableBeforeUnloadHandlers",
    "disableCameraTintForeground", "disableChat", "disableChatSmileys", "disableDeepLinking",
    "disabledNotifications", "disabledSounds", "disableFilmstripAutohiding", "disableFocus", "disableInitialGUM",
    "disableInviteFunctions", "disableIncomingMessageSound", "disableJoinLeaveSounds", "disableLocalVideoFlip",
    "disableModeratorIndicator", "disableNS", "disablePolls", "disableProfile", "disableReactions",
    "disableReactionsInChat", "disableReactionsModeration", "disableRecordAudioNotification", "disableRemoteControl",
    "disableRemoteMute", "disableResponsiveTiles", "disableRtx", "disableSelfDemote", "disableSelfView",
    "disableSelfViewSettings", "disableShortcuts", "disableShowMoreStats", "disableRemoveRaisedHandOnFocus",
    "disableSpeakerStatsSearch", "speakerStatsOrder", "disableSimulcast", "disableThirdPartyRequests",
    "disableTileView", "disableTileEnlargement", "disableVirtualBackground", "displayJids", "doNotStoreRoom",
    "doNotFlipLocalVideo", "dropbox.appKey", "e2eeLabels", "e2ee", "e2eping", "enableCalendarIntegration",
    "enableDisplayNameInStats", "enableEmailInStats", "enableEncodedTransformSupport",
    "enableInsecureRoomNameWarning", "enableLobbyChat", "enableOpusRed", "enableRemb", "enableSaveLogs",
    "enableTalkWhileMuted", "enableNoAudioDetection", "enableNoisyMicDetection", "enableTcc", "faceLandmarks",
    "feedbackPercentage", "fileSharing.enabled", "filmstrip", "flags", "forceTurnRelay", "gatherStats", "giphy",
    "googleApiApplicationClientID", "gravatar.disabled", "hiddenPremeetingButtons", "hideConferenceSubject",
    "hideDisplayName", "hideDominantSpeakerBadge", "hideRecordingLabel", "hideParticipantsStats",
    "hideConferenceTimer", "hideAddRoomButton", "hideEmailInSettings", "hideLobbyButton", "iAmRecorder",
    "iAmSipGateway", "iAmSpot", "ignoreStartMuted", "inviteAppName", "liveStreaming.enabled", "liveStreamingEnabled",
    "lobby", "localRecording", "localSubject", "logging", "mainToolbarButtons", "maxFullResolutionParticipants",
    "mouseMoveCallbackInterval", "notifications", "notificationTimeouts", "notifyOnConferenceDestruction",
    "openSharedDocumentOnJoin", "opusMaxAverageBitrate", "p2p.backToP2PDelay", "p2p.codecPreferenceOrder",
    "p2p.enabled", "p2p.iceTransportPolicy", "p2p.mobileCodecPreferenceOrder", "p2p.mobileScreenshareCodec",
    "participantMenuButtonsWithNotifyClick", "participantsPane", "pcStatsInterval", "pip", "preferBosh",
    "preferVisitor", "prejoinConfig.enabled", "prejoinConfig.hideDisplayName", "prejoinConfig.hideExtraJoinButtons",
    "raisedHands", "recordingService", "requireDisplayName", "remoteVideoMenu", "roomPasswordNumberOfDigits",
    "readOnlyName", "recordings.recordAudioAndVideo", "recordings.showPrejoinWarning",
    "recordings.showRecordingLink", "recordings.suggestRecording", "reducedUImainToolbarButtons",
    "replaceParticipant", "resolution", "screenshotCapture", "securityUi", "showChatPermissionsModeratorSetting",
    "speakerStats", "startAudioMuted", "startAudioOnly", "startLastN", "startScreenSharing", "startSilent",
    "startVideoMuted", "startWithAudioMuted", "startWithVideoMuted", "stereo", "subject", "testing",
    "toolbarButtons", "toolbarConfig", "tileView", "transcribingEnabled", "transcription", "useHostPageLocalStorage",
    "useTurnUdp", "videoQuality", "visitors.enableMediaOnPromote", "visitors.hideVisitorCountForVisitors",
    "visitors.showJoinMeetingDialog", "watchRTCConfigParams.allowBrowserLogCollection",
    "watchRTCConfigParams.collectionInterval", "watchRTCConfigParams.console", "watchRTCConfigParams.debug",
    "watchRTCConfigParams.keys", "watchRTCConfigParams.logGetStats", "watchRTCConfigParams.rtcApiKey",
    "watchRTCConfigParams.rtcPeerId", "watchRTCConfigParams.rtcRoomId", "watchRTCConfigParams.rtcTags",
    "watchRTCConfigParams.rtcToken", "webrtcIceTcpDisable", "webrtcIceUdpDisable", "whiteboard.enabled",
)
# Added to CONFIG when the page is embedded (an iframe, as the kiosk's call page embeds it).
CONFIG_EMBEDDED = ("customToolbarButtons", "defaultLogoUrl", "deploymentUrls", "liveStreaming")

INTERFACE_CONFIG = (
    "AUDIO_LEVEL_PRIMARY_COLOR", "AUDIO_LEVEL_SECONDARY_COLOR", "AUTO_PIN_LATEST_SCREEN_SHARE",
    "CLOSE_PAGE_GUEST_HINT", "CONNECTION_INDICATOR_AUTO_HIDE_ENABLED", "CONNECTION_INDICATOR_AUTO_HIDE_TIMEOUT",
    "CONNECTION_INDICATOR_DISABLED", "DEFAULT_BACKGROUND", "DISABLE_PRESENCE_STATUS",
    "DISABLE_JOIN_LEAVE_NOTIFICATIONS", "DEFAULT_LOCAL_DISPLAY_NAME", "DEFAULT_REMOTE_DISPLAY_NAME",
    "DISABLE_DOMINANT_SPEAKER_INDICATOR", "DISABLE_FOCUS_INDICATOR", "DISABLE_PRIVATE_MESSAGES",
    "DISABLE_TRANSCRIPTION_SUBTITLES", "DISABLE_VIDEO_BACKGROUND", "DISPLAY_WELCOME_PAGE_CONTENT", "ENABLE_DIAL_OUT",
    "FILM_STRIP_MAX_HEIGHT", "GENERATE_ROOMNAMES_ON_WELCOME_PAGE", "INDICATOR_FONT_SIZES", "INITIAL_TOOLBAR_TIMEOUT",
    "LANG_DETECTION", "LOCAL_THUMBNAIL_RATIO", "MAXIMUM_ZOOMING_COEFFICIENT", "NATIVE_APP_NAME", "OPTIMAL_BROWSERS",
    "PHONE_NUMBER_REGEX", "PROVIDER_NAME", "RECENT_LIST_ENABLED", "REMOTE_THUMBNAIL_RATIO", "SETTINGS_SECTIONS",
    "SHARING_FEATURES", "SHOW_CHROME_EXTENSION_BANNER", "SHOW_POWERED_BY", "TILE_VIEW_MAX_COLUMNS",
    "TOOLBAR_ALWAYS_VISIBLE", "TOOLBAR_BUTTONS", "TOOLBAR_TIMEOUT", "UNSUPPORTED_BROWSERS", "VERTICAL_FILMSTRIP",
    "VIDEO_LAYOUT_FIT", "VIDEO_QUALITY_LABEL_DISABLED",
)
INTERFACE_CONFIG_EMBEDDED: tuple[str, ...] = ()


def whitelists(embedded: bool = True) -> dict[str, tuple[str, ...]]:
    """The whitelist of each override root ("config", "interfaceConfig"), for an embedded page or a top-level one."""
    return {"config": CONFIG + (CONFIG_EMBEDDED if embedded else ()),
            "interfaceConfig": INTERFACE_CONFIG + (INTERFACE_CONFIG_EMBEDDED if embedded else ())}


def leaves(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """The dotted path of every value in nested dicts; a list, a scalar or an empty dict is a value of its own."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from leaves(value, path + ".")
        else:
            yield path


def allowed(path: str, whitelist: Iterable[str]) -> bool:
    """Whether Jitsi applies the value at this dotted path: a key `a.b` allows `a.b` and all under it."""
    return any(path == key or path.startswith(key + ".") for key in whitelist)


def dropped(values: dict[str, Any], whitelist: Iterable[str]) -> list[str]:
    """The dotted paths of the values a real Jitsi would drop."""
    keys = tuple(whitelist)
    return [path for path in leaves(values) if not allowed(path, keys)]
