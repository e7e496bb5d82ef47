"""The helpers' sheet: what a helper without Linux skills needs at the table of donated laptops, in German. Pure:
the words, the boot keys, the screens (as the stick shows them, from stickscreen) and the open places to tick off;
helpersheetpdf.py paints them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kiosk.config import Brand
from kiosk.core.style import palette

from . import stickscreen
from .claims import Place, list_places
from .devicelist import Loaded
from .stickplan import Disk, plan_disk


@dataclass(frozen=True)
class Step:
    """One action at the laptop: a pictogram, a title and what to do."""

    picture: str  # the pictogram's name (helpersheetpdf paints it)
    title: str
    text: str


STEPS = (
    Step("stick", "Stick einstecken",
         "Der Laptop ist aus. Den Palim-Stick in eine USB-Buchse direkt am Laptop stecken (nicht über einen "
         "Verteiler). Netzteil anschließen."),
    Step("power", "Einschalten, Startmenü-Taste tippen",
         "Einschaltknopf drücken und sofort die Startmenü-Taste des Herstellers mehrmals tippen (Tabelle auf "
         "Seite 2). Im Startmenü mit den Pfeiltasten den USB-Stick wählen (oft „USB“ oder der Name des Sticks), "
         "dann die Eingabetaste."),
    Step("number", "Nummer eintippen, Eingabetaste",
         "Der Stick zeigt die offenen Plätze mit Nummern. Die Nummer des Platzes eintippen, für den dieser Laptop "
         "bestimmt ist (Tabelle am Ende), dann die Eingabetaste. Danach zeigt er eine Zahl: genau diese Zahl "
         "eintippen, Eingabetaste. Erst dann wird die Festplatte gelöscht."),
    Step("pull", "Warten, dann Stick abziehen",
         "Der Balken zeigt, wie weit die Einrichtung ist und wie lange sie noch dauert. Erst wenn „Fertig. Bitte "
         "den Stick abziehen.“ erscheint und es piept: Stick abziehen. Der Laptop startet neu und zeigt „Familie "
         "anrufen“. Den Platz in der Tabelle abhaken, nächster Laptop."),
)

RULES = (
    "Es werden nur Ziffern und die Eingabetaste gebraucht, auch der Ziffernblock geht.",
    "Den Stick nie abziehen, solange der Balken läuft.",
    "Einen Zettel mit Name und Zimmer auf den fertigen Laptop kleben.",
)


@dataclass(frozen=True)
class BootKey:
    """How a maker's laptops open their start menu (boot menu)."""

    maker: str
    key: str
    note: str = ""


# The keys most laptops of each maker use; a model may differ, and its start screen usually names its key.
BOOT_KEYS = (
    BootKey("Lenovo", "F12", "manchmal Fn + F12; bei IdeaPads auch die kleine Novo-Taste (Loch) neben dem "
                             "Einschalter"),
    BootKey("Dell", "F12"),
    BootKey("HP", "Esc, dann F9", "Esc öffnet das Startmenü, F9 die Liste der Startgeräte"),
    BootKey("Acer", "F12", "muss erst eingeschaltet werden: beim Start F2, Reiter „Main“, „F12 Boot Menu“ auf "
                           "„Enabled“, mit F10 speichern"),
    BootKey("ASUS", "Esc", "ältere Modelle: F8"),
    BootKey("Fujitsu", "F12"),
    BootKey("Toshiba", "F12"),
    BootKey("Medion", "F10 oder F11"),
    BootKey("Microsoft Surface", "Leiser-Taste halten", "Lautstärke-leiser-Taste gedrückt halten, Einschalter kurz "
                                                         "drücken, loslassen, wenn das Logo erscheint"),
)
BOOT_TIPS = (
    "Die Taste gleich nach dem Einschalten mehrmals tippen, etwa zweimal pro Sekunde, bis das Menü erscheint.",
    "Startet doch Windows: Einschaltknopf 10 Sekunden halten, bis der Laptop aus ist, und noch einmal versuchen.",
    "Unbekannter Hersteller: Beim Start steht die Taste oft unten auf dem Bildschirm („Boot Menu“, „Startmenü“).",
)


@dataclass(frozen=True)
class Trouble:
    """A laptop that does not start from the stick: what it looks like, what the helper does."""

    sign: str
    action: str


TROUBLES = (
    Trouble("Der Stick steht nicht im Startmenü.",
            "Eine andere USB-Buchse nehmen (bei alten Laptops die schwarze) und neu starten."),
    Trouble("Secure Boot ist eingeschaltet.",
            "Nichts tun: Der Stick startet auch mit Secure Boot."),
    Trouble("Der Stick meldet, dass er keine Festplatte findet.",
            "Die Festplatte steht im BIOS oft auf „RAID“ oder „Intel RST“. Im BIOS (meist F2) unter „Storage“ oder "
            "„SATA Operation“ auf „AHCI“ stellen, mit F10 speichern, neu starten."),
    Trouble("Ein Passwort wird verlangt (BIOS-Passwort).",
            "Nichts raten. " + stickscreen.NEXT_STEP_IT.removesuffix(".") + ", mit einem Zettel „BIOS-Passwort“."),
    Trouble("Der Laptop geht nicht an oder bleibt schwarz.",
            "Netzteil prüfen. Bleibt er schwarz: zur Seite legen, für das IT-Team."),
)


@dataclass(frozen=True)
class Screen:
    """One of the stick's screens as it shows it, and what it means for the helper."""

    title: str
    lines: tuple[str, ...]
    meaning: str


EXAMPLE_PLACE = Place(3, "ebh-03", "ebh", "Haus am Sonnenhang", "Erna Müller", "Zimmer 12")
# A laptop's one NVMe SSD, as the stick's own disk rule describes it on the confirmation screen.
EXAMPLE_DISKS = [Disk("nvme0n1", 256 * 10 ** 9, False, "SAMSUNG MZVLB256", transport="nvme")]
EXAMPLE_CODE = "472"
EXAMPLE_FAILURE = "Prozessor zu alt: der Kiosk startet darauf nicht."


def screens(places: list[Place]) -> list[Screen]:
    """The stick's screens in the order a helper meets them, with the list's own first places as the example."""
    shown = places[:5] or [EXAMPLE_PLACE]
    place = shown[0]
    return [
        Screen("Die offenen Plätze", tuple(stickscreen.pick_screen(shown)),
               "Ein neuer Laptop. Die Nummer des Platzes eintippen (wie in der Tabelle), dann die Eingabetaste. "
               "Mehr als 15 Plätze: 0 und Eingabetaste zeigt die nächsten."),
        Screen("Die Bestätigungszahl",
               tuple(stickscreen.confirm_screen(place.title(), plan_disk(EXAMPLE_DISKS, None, 0).lines_de(),
                                                EXAMPLE_CODE)),
               "Stimmt der Platz? Dann die gezeigte Zahl eintippen (sie ist jedes Mal anders), Eingabetaste. "
               "Falscher Platz: die Taste Esc, dann geht es zurück zur Liste."),
        Screen("Der Fortschritt", tuple(stickscreen.progress_lines(1, 0.4, 240)),
               "Der Stick richtet den Laptop ein. Warten, nichts drücken, Stick stecken lassen, Netzteil dran lassen."),
        Screen("Fertig", tuple(stickscreen.done_lines(place.title())),
               "Jetzt den Stick abziehen. Der Laptop startet neu und zeigt den Kiosk. Platz abhaken."),
        Screen("Schon eingerichtet", tuple(stickscreen.installed_lines(place.title())),
               "Dieser Laptop hat schon einen Platz. Stick abziehen, nichts weiter tun."),
        # The last line is stickconsole.wait_for_staff's, under every failure.
        Screen("Ein Fehler", (*stickscreen.failure_lines(EXAMPLE_FAILURE, erased=False),
                              "Zum Ausschalten die Eingabetaste drücken."),
               "Den Satz unter „Für das IT-Team“ auf einen Zettel schreiben. Die Eingabetaste drücken: Der Laptop "
               "geht aus. Stick abziehen und den Laptop mit dem Zettel zur Seite legen."),
    ]


@dataclass(frozen=True)
class Sheet:
    """Everything the sheet says: the brand, the open places, the screens."""

    brand: Brand
    colours: dict[str, str]
    places: list[Place]
    screens: list[Screen]
    homes: list[str]  # the homes' names the places belong to (or all of the list's)
    support: str | None


def sheet_for(loaded: Loaded, homes: list[str] | None = None) -> Sheet:
    """The sheet of a validated list, for all of its homes or the given home keys. The places keep the numbers of
    the whole list, as the stick shows them."""
    targets = [t for t in loaded.targets if not homes or t.home_key in homes]
    places = [p for p in list_places(loaded.targets) if not homes or p.home in homes]
    by_id = {t.id: t for t in targets}
    # The brand most of the open places' devices show (of all devices when none is open): one sheet, one look.
    source = [by_id[p.device] for p in places if p.device in by_id] or targets
    brand = Counter(t.config.brand.id for t in source).most_common(1)[0][0] if source else None
    config = next((t.config for t in source if t.config.brand.id == brand), None)
    chosen = config.brand if config else Brand()
    support = config.contact if config else chosen.support_contact
    names = list(dict.fromkeys(t.home.name for t in targets))
    return Sheet(chosen, palette(chosen.colors.model_dump()), places, screens(places), names, support)
