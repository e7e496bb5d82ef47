"""Which screen the kiosk shows: the one vocabulary of the call flow, the controllers and the window."""

from __future__ import annotations

import enum


class Screen(enum.Enum):
    """A screen of the kiosk; the window maps each to a widget and its words."""

    HOME = "home"
    CONNECTING = "connecting"
    IN_CALL = "in_call"
    ENDING = "ending"
    WAITING = "waiting"
    TROUBLE = "trouble"
    RINGING = "ringing"
    SETUP = "setup"  # no usable config: "not set up yet"
    PIN = "pin"
    SERVICE = "service"
    PRACTICE = "practice"
    NIGHT = "night"  # night.dark_hours: black, the light off; a touch wakes it to HOME


# Screens only staff reach; one left alone returns home by itself.
STAFF_SCREENS = frozenset({Screen.PIN, Screen.SERVICE, Screen.PRACTICE})
# Screens after which the resident hears something (a ring, a call): time to check the volume floor.
SOUND_SCREENS = frozenset({Screen.RINGING, Screen.CONNECTING})
