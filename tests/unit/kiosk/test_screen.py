"""The Screen vocabulary: unique values, and the staff and sound screens the window and staff controller rely on."""

from kiosk.screen import SOUND_SCREENS, STAFF_SCREENS, Screen


def test_every_screen_has_its_own_value():
    # An enum member with a repeated value silently becomes an alias of the first: count the names, not the members.
    assert len(Screen.__members__) == len(Screen) == len({screen.value for screen in Screen})
    assert all(Screen(screen.value) is screen for screen in Screen)


def test_the_staff_screens_are_the_pin_pad_the_service_screen_and_the_camera_test():
    assert STAFF_SCREENS == {Screen.PIN, Screen.SERVICE, Screen.PRACTICE}
    # Staff leave (or time out) to HOME: home and the resident's call screens are never staff screens.
    assert Screen.HOME not in STAFF_SCREENS and Screen.SETUP not in STAFF_SCREENS


def test_the_sound_screens_are_the_ones_before_the_resident_hears_the_family():
    assert SOUND_SCREENS == {Screen.RINGING, Screen.CONNECTING}
    # IN_CALL follows CONNECTING: the volume floor is checked once on the way in, not again when the call starts.
    assert Screen.IN_CALL not in SOUND_SCREENS and not SOUND_SCREENS & STAFF_SCREENS


def test_the_screen_sets_cannot_be_changed_by_a_user_of_them():
    assert isinstance(STAFF_SCREENS, frozenset) and isinstance(SOUND_SCREENS, frozenset)
