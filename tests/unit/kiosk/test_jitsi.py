"""The IFrame API options: straight in, media on, nothing to tap inside Jitsi."""

from kiosk.config import config_from_text
from kiosk.jitsi import join_options

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
