"""Every sentence the resident and staff read, in plain German first."""

from __future__ import annotations

from kiosk.callflow import Trouble

CALL_BUTTON = "Familie anrufen"
HANGUP_BUTTON = "Auflegen"
CANCEL_BUTTON = "Abbrechen"
BACK_BUTTON = "Zurück"
CONNECTING = "Verbinde mit Ihrer Familie …"
CONNECTING_HINT = "Einen Moment bitte."
ENDING = "Der Anruf ist beendet."
ENDING_HINT = "Auf Wiedersehen!"
TROUBLE = {
    Trouble.CONNECT_FAILED: ("Die Verbindung klappt gerade nicht.", "Wir versuchen es gleich noch einmal."),
    Trouble.CONNECTION_LOST: ("Die Verbindung ist kurz weg …", "Wir verbinden Sie gleich wieder."),
    Trouble.GAVE_UP: ("Die Verbindung klappt gerade nicht.", "Bitte versuchen Sie es später noch einmal."),
    Trouble.OFFLINE: ("Das Gerät ist gerade nicht mit dem Internet verbunden.",
                      "Bitte sagen Sie dem Personal Bescheid."),
    Trouble.RENDERER_CRASHED: ("Eine kurze Störung.", "Gleich geht es weiter."),
}
HOME_OFFLINE = "Gerade keine Internetverbindung"
HOME_BATTERY = "Bitte das Ladekabel einstecken"
SETUP_NEEDED = "Dieses Gerät ist noch nicht eingerichtet."
SETUP_CONTACT = "Bitte wenden Sie sich an: {contact}"
SETUP_NO_CONTACT = "Bitte sagen Sie dem Personal Bescheid."

PIN_TITLE = "Personal: PIN eingeben"
PIN_WRONG = "Falsche PIN."
PIN_LOCKED = "Zu viele Versuche. Gesperrt für {minutes} Min."
PIN_OK = "OK"
PIN_DELETE = "⌫"

SERVICE_TITLE = "Service"
SERVICE_VERSION = "Version"
SERVICE_CONFIG = "Konfiguration"
SERVICE_SERVER = "Server"
SERVICE_ROOM = "Raum"
SERVICE_REACHABLE = "Server erreichbar"
SERVICE_CHECKING = "wird geprüft …"
SERVICE_YES = "ja"
SERVICE_NO = "nein: {reason}"
SERVICE_INCIDENTS = "Letzte Vorfälle"
SERVICE_NO_INCIDENTS = "keine"
SERVICE_RELOAD = "Neu laden"
SERVICE_QUIT = "Kiosk beenden"

WEEKDAY_FORMAT = "dddd, d. MMMM yyyy"
TIME_FORMAT = "HH:mm 'Uhr'"


def greeting(hour: int, name: str) -> str:
    """A greeting that fits the time of day, which also helps orientation."""
    if 5 <= hour < 11:
        return f"Guten Morgen, {name}"
    if 11 <= hour < 18:
        return f"Guten Tag, {name}"
    return f"Guten Abend, {name}"

RINGING = "Ihre Familie ist da"
RINGING_HINT = "Zum Annehmen tippen"
ANSWER_BUTTON = "Annehmen"
NOT_NOW_BUTTON = "Nicht jetzt"
AUTO_ANSWER = "Verbinde in {seconds} Sekunden …"
PRACTICE_BUTTON = "Kamera-Test"
PRACTICE_TITLE = "Kamera-Test: So sieht Ihre Familie Sie"
PRACTICE_HINT = "Sprechen Sie: der Balken zeigt das Mikrofon. Der Ton-Knopf prüft den Lautsprecher."
PRACTICE_TONE = "Ton abspielen"
PRACTICE_DONE = "Fertig"
