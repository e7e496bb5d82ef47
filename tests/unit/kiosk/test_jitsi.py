"""The IFrame API options: straight in, media on, nothing to tap inside Jitsi, and only what Jitsi applies."""

import itertools
import json

from kiosk.config import config_from_text
from kiosk.jitsi import config_overwrite, join_options

CONFIG = config_from_text("server: https://konferenz.example.org:8443\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\n"
                          "resident: Erna Müller\nlanguage: tr\njitsi: {resolution: 240, channel_last_n: 2}\n")


def test_join_options_follow_the_contract():
    options = join_options(CONFIG)
    assert options["domain"] == "konferenz.example.org:8443"  # host[:port], no scheme
    assert options["roomName"] == "palim-7q2m4k9x3c8v5b1n6z0r4t7w2y"
    assert options["userInfo"] == {"displayName": "Erna Müller"}
    assert options["lang"] == "tr"


def test_config_overwrite_joins_without_prompts_and_with_media():
    overwrite = join_options(CONFIG)["configOverwrite"]
    assert overwrite["prejoinConfig"] == {"enabled": False}
    assert overwrite["startWithAudioMuted"] is False and overwrite["startWithVideoMuted"] is False
    assert overwrite["toolbarButtons"] == [] and overwrite["notifications"] == []
    assert overwrite["readOnlyName"] is True and overwrite["disableShortcuts"] is True
    assert overwrite["deeplinking"] == {"disabled": True}


def test_old_hardware_settings_come_from_the_config():
    overwrite = join_options(CONFIG)["configOverwrite"]
    assert overwrite["resolution"] == 240
    assert overwrite["constraints"]["video"]["height"] == {"ideal": 240, "max": 240, "min": 180}
    assert overwrite["channelLastN"] == 2 and overwrite["disableAudioLevels"] is True


def _config(jitsi: str):
    return config_from_text("server: https://konferenz.example.org\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\n"
                            f"resident: Erna Müller\njitsi: {jitsi}\n")


def test_the_own_camera_tile_shows_unless_the_city_turns_it_off():
    assert config_overwrite(_config("{}"))["disableSelfView"] is False  # a city's config.js cannot hide it silently
    assert config_overwrite(_config("{self_view: false}"))["disableSelfView"] is True


def test_low_power_profile_caps_resolution_and_frame_rate():
    overwrite = join_options(_config("{profile: low, resolution: 720}"))["configOverwrite"]
    assert overwrite["resolution"] == 360
    video = overwrite["constraints"]["video"]
    assert video["height"] == {"ideal": 360, "max": 360, "min": 180}
    assert video["frameRate"] == {"ideal": 15, "max": 15}
    assert overwrite["disableSimulcast"] is True and overwrite["disableAudioLevels"] is True
    assert overwrite["enableNoAudioDetection"] is False and overwrite["enableNoisyMicDetection"] is False


def test_low_power_keeps_a_lower_resolution_and_a_set_frame_rate():
    overwrite = join_options(_config("{profile: low, resolution: 180, frame_rate: 10}"))["configOverwrite"]
    assert overwrite["resolution"] == 180
    assert overwrite["constraints"]["video"]["frameRate"] == {"ideal": 10, "max": 10}


def test_normal_profile_keeps_jitsis_frame_rate_and_simulcast():
    overwrite = join_options(_config("{profile: normal, resolution: 720}"))["configOverwrite"]
    assert overwrite["resolution"] == 720
    assert "frameRate" not in overwrite["constraints"]["video"]
    assert "disableSimulcast" not in overwrite


def test_normal_profile_with_a_frame_rate():
    overwrite = join_options(_config("{profile: normal, frame_rate: 20}"))["configOverwrite"]
    assert overwrite["constraints"]["video"]["frameRate"] == {"ideal": 20, "max": 20}


def test_auto_profile_follows_the_hardware():
    config = _config("{profile: auto}")
    assert join_options(config, weak=True)["configOverwrite"]["constraints"]["video"]["frameRate"]["max"] == 15
    assert "frameRate" not in join_options(config, weak=False)["configOverwrite"]["constraints"]["video"]
    assert _config("{}").jitsi.profile == "auto"  # the default: decided on the device


# --------------------------------------------------------------------------- only overrides a real Jitsi applies

# jitsi-meet applies a configOverwrite / interfaceConfigOverwrite key (they reach it as #config.x= / #interfaceConfig.y=
# in the iframe's URL) only when it is on its override whitelist, and drops the rest silently; a whitelisted key "a.b"
# allows "a.b" and all under it, "a" all under "a". Key names read on 2026-11-29 from jitsi/jitsi-meet,
# react/features/base/config/: configWhitelist.ts (CONFIG_WHITELIST), isEmbeddedConfigWhitelist.ts (added when Jitsi
# runs embedded, as in the kiosk's call page), interfaceConfigWhitelist.ts (INTERFACE_CONFIG_WHITELIST);
# isEmbeddedInterfaceConfigWhitelist.ts, extraConfigWhitelist.ts and extraInterfaceConfigWhitelist.ts are empty. The
# filter is lodash pick over these names in functions.any.ts (getWhitelistedJSON, called by setConfigFromURLParams).
# Not on them any more: prejoinPageEnabled (prejoinConfig.enabled is), enableWelcomePage, enableClosePage,
# enableLayerSuspension, and the SHOW_*WATERMARK* and MOBILE_APP_PROMO interface keys.
CONFIG_WHITELIST = """
_desktopSharingSourceDevice _peerConnStatusOutOfLastNTimeout _peerConnStatusRtcMuteTimeout analytics.disabled
analytics.rtcstatsEnabled analytics.watchRTCEnabled audioLevelsInterval audioQuality autoKnockLobby apiLogLevels
avgRtpStatsN backgroundAlpha brandingRoomAlias breakoutRooms bridgeChannel buttonsWithNotifyClick callDisplayName
callFlowsEnabled callHandle callUUID cameraFacingMode conferenceInfo channelLastN connectionIndicators constraints
deeplinking.disabled deeplinking.desktop.enabled defaultLocalDisplayName defaultRemoteDisplayName
desktopSharingFrameRate desktopSharingSources disable1On1Mode disableAEC disableAGC disableAP
disableAddingBackgroundImages disableAudioLevels disableBeforeUnloadHandlers disableCameraTintForeground disableChat
disableChatSmileys disableDeepLinking disabledNotifications disabledSounds disableFilmstripAutohiding disableFocus
disableInitialGUM disableInviteFunctions disableIncomingMessageSound disableJoinLeaveSounds disableLocalVideoFlip
disableModeratorIndicator disableNS disablePolls disableProfile disableReactions disableReactionsInChat
disableReactionsModeration disableRecordAudioNotification disableRemoteControl disableRemoteMute
disableResponsiveTiles disableRtx disableSelfDemote disableSelfView disableSelfViewSettings disableShortcuts
disableShowMoreStats disableRemoveRaisedHandOnFocus disableSpeakerStatsSearch speakerStatsOrder disableSimulcast
disableThirdPartyRequests disableTileView disableTileEnlargement disableVirtualBackground displayJids doNotStoreRoom
doNotFlipLocalVideo dropbox.appKey e2eeLabels e2ee e2eping enableCalendarIntegration enableDisplayNameInStats
enableEmailInStats enableEncodedTransformSupport enableInsecureRoomNameWarning enableLobbyChat enableOpusRed
enableRemb enableSaveLogs enableTalkWhileMuted enableNoAudioDetection enableNoisyMicDetection enableTcc
faceLandmarks feedbackPercentage fileSharing.enabled filmstrip flags forceTurnRelay gatherStats giphy
googleApiApplicationClientID gravatar.disabled hiddenPremeetingButtons hideConferenceSubject hideDisplayName
hideDominantSpeakerBadge hideRecordingLabel hideParticipantsStats hideConferenceTimer hideAddRoomButton
hideEmailInSettings hideLobbyButton iAmRecorder iAmSipGateway iAmSpot ignoreStartMuted inviteAppName
liveStreaming.enabled liveStreamingEnabled lobby localRecording localSubject logging mainToolbarButtons
maxFullResolutionParticipants mouseMoveCallbackInterval notifications notificationTimeouts
notifyOnConferenceDestruction openSharedDocumentOnJoin opusMaxAverageBitrate p2p.backToP2PDelay
p2p.codecPreferenceOrder p2p.enabled p2p.iceTransportPolicy p2p.mobileCodecPreferenceOrder
p2p.mobileScreenshareCodec participantMenuButtonsWithNotifyClick participantsPane pcStatsInterval pip preferBosh
preferVisitor prejoinConfig.enabled prejoinConfig.hideDisplayName prejoinConfig.hideExtraJoinButtons raisedHands
recordingService requireDisplayName remoteVideoMenu roomPasswordNumberOfDigits readOnlyName
recordings.recordAudioAndVideo recordings.showPrejoinWarning recordings.showRecordingLink
recordings.suggestRecording reducedUImainToolbarButtons replaceParticipant resolution screenshotCapture securityUi
showChatPermissionsModeratorSetting speakerStats startAudioMuted startAudioOnly startLastN startScreenSharing
startSilent startVideoMuted startWithAudioMuted startWithVideoMuted stereo subject testing toolbarButtons
toolbarConfig tileView transcribingEnabled transcription useHostPageLocalStorage useTurnUdp videoQuality
visitors.enableMediaOnPromote visitors.hideVisitorCountForVisitors visitors.showJoinMeetingDialog
watchRTCConfigParams.allowBrowserLogCollection watchRTCConfigParams.collectionInterval watchRTCConfigParams.console
watchRTCConfigParams.debug watchRTCConfigParams.keys watchRTCConfigParams.logGetStats watchRTCConfigParams.rtcApiKey
watchRTCConfigParams.rtcPeerId watchRTCConfigParams.rtcRoomId watchRTCConfigParams.rtcTags
watchRTCConfigParams.rtcToken webrtcIceTcpDisable webrtcIceUdpDisable whiteboard.enabled
""".split()
CONFIG_WHITELIST_EMBEDDED = """
customToolbarButtons defaultLogoUrl deploymentUrls liveStreaming
""".split()
INTERFACE_CONFIG_WHITELIST = """
AUDIO_LEVEL_PRIMARY_COLOR AUDIO_LEVEL_SECONDARY_COLOR AUTO_PIN_LATEST_SCREEN_SHARE CLOSE_PAGE_GUEST_HINT
CONNECTION_INDICATOR_AUTO_HIDE_ENABLED CONNECTION_INDICATOR_AUTO_HIDE_TIMEOUT CONNECTION_INDICATOR_DISABLED
DEFAULT_BACKGROUND DISABLE_PRESENCE_STATUS DISABLE_JOIN_LEAVE_NOTIFICATIONS DEFAULT_LOCAL_DISPLAY_NAME
DEFAULT_REMOTE_DISPLAY_NAME DISABLE_DOMINANT_SPEAKER_INDICATOR DISABLE_FOCUS_INDICATOR DISABLE_PRIVATE_MESSAGES
DISABLE_TRANSCRIPTION_SUBTITLES DISABLE_VIDEO_BACKGROUND DISPLAY_WELCOME_PAGE_CONTENT ENABLE_DIAL_OUT
FILM_STRIP_MAX_HEIGHT GENERATE_ROOMNAMES_ON_WELCOME_PAGE INDICATOR_FONT_SIZES INITIAL_TOOLBAR_TIMEOUT LANG_DETECTION
LOCAL_THUMBNAIL_RATIO MAXIMUM_ZOOMING_COEFFICIENT NATIVE_APP_NAME OPTIMAL_BROWSERS PHONE_NUMBER_REGEX PROVIDER_NAME
RECENT_LIST_ENABLED REMOTE_THUMBNAIL_RATIO SETTINGS_SECTIONS SHARING_FEATURES SHOW_CHROME_EXTENSION_BANNER
SHOW_POWERED_BY TILE_VIEW_MAX_COLUMNS TOOLBAR_ALWAYS_VISIBLE TOOLBAR_BUTTONS TOOLBAR_TIMEOUT UNSUPPORTED_BROWSERS
VERTICAL_FILMSTRIP VIDEO_LAYOUT_FIT VIDEO_QUALITY_LABEL_DISABLED
""".split()

# What a real Jitsi used to drop from the kiosk's overrides: none of it may come back.
DROPPED_BEFORE = ("prejoinPageEnabled", "enableWelcomePage", "enableClosePage", "enableLayerSuspension",
                  "SHOW_JITSI_WATERMARK", "SHOW_WATERMARK_FOR_GUESTS", "SHOW_BRAND_WATERMARK", "MOBILE_APP_PROMO")


def _leaves(values: dict, prefix: str = ""):
    for key, value in values.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def _applied(path: str, whitelist) -> bool:
    return any(path == key or path.startswith(key + ".") for key in whitelist)


def _every_join_options():
    """The options of every config that changes what the kiosk sends: each profile (low power too), resolution,
    frame rate and start-muted choice, on weak and strong hardware."""
    for profile, resolution, frame_rate, muted, weak in itertools.product(
            ("auto", "low", "normal"), (180, 240, 360, 480, 720), (None, 10, 30), (False, True), (False, True)):
        jitsi = {"profile": profile, "resolution": resolution, "start_audio_muted": muted,
                 "start_video_muted": muted, "channel_last_n": 1 if muted else 25}
        if frame_rate:
            jitsi["frame_rate"] = frame_rate
        yield join_options(_config(json.dumps(jitsi)), weak=weak)


def test_every_override_the_kiosk_can_send_is_on_jitsis_whitelists():
    sent: dict[str, set[str]] = {"config": set(), "interfaceConfig": set()}
    for options in _every_join_options():
        sent["config"] |= set(_leaves(options["configOverwrite"]))
        sent["interfaceConfig"] |= set(_leaves(options["interfaceConfigOverwrite"]))
    assert "disableSimulcast" in sent["config"] and "constraints.video.frameRate.max" in sent["config"]  # low power
    dropped = sorted({f"config.{p}" for p in sent["config"]
                      if not _applied(p, CONFIG_WHITELIST + CONFIG_WHITELIST_EMBEDDED)}
                     | {f"interfaceConfig.{p}" for p in sent["interfaceConfig"]
                        if not _applied(p, INTERFACE_CONFIG_WHITELIST)})
    assert dropped == [], "a real Jitsi drops these overrides without a word"
    assert not set(DROPPED_BEFORE) & {p.split(".")[0] for p in sent["config"] | sent["interfaceConfig"]}


def test_the_whitelist_rule_a_key_allows_itself_and_what_is_under_it():
    assert _applied("deeplinking.disabled", CONFIG_WHITELIST)
    assert not _applied("deeplinking", CONFIG_WHITELIST)  # the whole object: only its listed parts apply
    assert _applied("constraints.video.height.max", CONFIG_WHITELIST)
    assert not _applied("prejoinConfig.preCallTestEnabled", CONFIG_WHITELIST)
    assert not _applied("disableSimulcastX", CONFIG_WHITELIST)  # a prefix of a name is not a parent


def test_the_stand_in_enforces_the_same_whitelists():
    from jitsi_standin import whitelist

    assert list(whitelist.CONFIG) == CONFIG_WHITELIST
    assert list(whitelist.CONFIG_EMBEDDED) == CONFIG_WHITELIST_EMBEDDED
    assert list(whitelist.INTERFACE_CONFIG) == INTERFACE_CONFIG_WHITELIST
    assert whitelist.INTERFACE_CONFIG_EMBEDDED == ()
    overrides = {"prejoinConfig": {"enabled": False, "unknown": 1}, "enableWelcomePage": False, "toolbarButtons": []}
    assert whitelist.dropped(overrides, whitelist.whitelists()["config"]) == ["prejoinConfig.unknown",
                                                                              "enableWelcomePage"]
