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
