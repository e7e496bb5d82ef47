"""What the installer stick's screen says and how it reads the keys, without I/O (installer.py does the I/O).

The helper at the laptop knows no Linux and may stand a metre away: the console shows Terminus 16x32, 80 columns by
25 rows on 1280x800, in plain German. Only digits and Enter are ever needed, the same on every keyboard layout and on
the number pad: the helper picks an open place by its number and confirms the erase by typing back a number the
screen shows. Every other key gets a calm line and the question again.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from .claims import Place

COLUMNS = 80  # 1280 px / 16 px
PAGE = 15  # places on one screen: 25 rows less the title, the hints, the prompt and the line for a mistake
CONFIRM_DIGITS = 3
MAX_DIGITS = 4
BAR = 50  # the progress bar's width in characters (full and light shade blocks: both in Terminus' Uni2 set)
ESC, ENTER, BACKSPACES = "\x1b", ("\r", "\n"), ("\x7f", "\x08")

NEXT_STEP_IT = "Diesen Laptop zur Seite legen und dem IT-Team geben."


@dataclass(frozen=True)
class Key:
    """What one key press did to the number being typed: the digits so far and what happened."""

    digits: str
    event: str = ""  # "" (a digit typed or removed), "enter", "escape" or "bad" (any other key)
    char: str = ""  # the key that was not a digit, to name it on the screen


def key(digits: str, char: str) -> Key:
    """One key press while a number is typed: a digit is added (up to MAX_DIGITS), Backspace removes one, Enter and
    Esc end the entry; anything else (a letter, an arrow's rest) is refused and named."""
    if char.isdigit() and char.isascii():
        return Key((digits + char)[:MAX_DIGITS])
    if char in BACKSPACES:
        return Key(digits[:-1])
    if char in ENTER:
        return Key(digits, "enter")
    if char == ESC:
        return Key(digits, "escape")
    return Key(digits, "bad", char)


def bad_key_line(char: str) -> str:
    """The calm line for a key that is no digit; names it when it is a printable character ("z" on a German
    keyboard is the key right of T)."""
    named = f"„{char}“ ist keine Ziffer. " if char.isprintable() and char.strip() else ""
    return f"{named}Bitte nur Ziffern tippen, dann die Eingabetaste."


def pick_screen(places: list[Place], page: int = 0) -> list[str]:
    """The list of open places (one page of PAGE), each "3  Haus am Sonnenhang — Zimmer 12 — Erna Müller"."""
    pages = max(1, math.ceil(len(places) / PAGE))
    page = page % pages
    shown = places[page * PAGE:(page + 1) * PAGE]
    lines = ["Dieser Laptop ist neu. Für wen soll er eingerichtet werden?", ""]
    lines += [fit(place.line()) for place in shown]
    lines.append("")
    if pages > 1:
        lines.append(f"Seite {page + 1} von {pages}. Weitere Plätze: 0 und Eingabetaste.")
    lines.append("Die Nummer eintippen, dann die Eingabetaste:")
    return lines


def fit(line: str, width: int = COLUMNS - 1) -> str:
    """A line cut to the screen's width (the console would wrap it into the next row)."""
    return line if len(line) <= width else line[:width - 1] + "…"


@dataclass(frozen=True)
class Pick:
    """What a typed number meant on the list: a place, the next page, or a calm line and the question again."""

    place: Place | None = None
    next_page: bool = False
    again: str = ""


def read_pick(entry: Key, places: list[Place]) -> Pick:
    """The place whose number was typed (Enter), or why not; 0 turns the page when there is more than one."""
    numbers = {place.number: place for place in places}
    if entry.event == "escape":
        return Pick(again="Esc: nichts geschieht. Bitte die Nummer des Platzes eintippen, dann die Eingabetaste.")
    if entry.event == "bad":
        return Pick(again=bad_key_line(entry.char))
    if not entry.digits:
        return Pick(again="Bitte zuerst die Nummer eintippen, dann die Eingabetaste.")
    number = int(entry.digits)
    if number == 0 and len(places) > PAGE:
        return Pick(next_page=True)
    if number not in numbers:
        shown = sorted(numbers)
        span = f"{shown[0]} bis {shown[-1]}" if len(shown) > 1 else str(shown[0])
        return Pick(again=f"Die {number} steht nicht in der Liste. Bitte eine Nummer von {span} eintippen.")
    return Pick(place=numbers[number])


def confirmation_code(random_int) -> str:
    """The number to type back before the erase: CONFIRM_DIGITS digits, no leading 0 (`random_int(a, b)` draws it,
    e.g. secrets' SystemRandom().randint), never one digit three times (easy to type by leaning on a key)."""
    while True:
        code = str(random_int(10 ** (CONFIRM_DIGITS - 1), 10 ** CONFIRM_DIGITS - 1))
        if len(set(code)) > 1:
            return code


def confirm_screen(chosen: str, disk_lines: list[str], code: str) -> list[str]:
    """Before the erase: for whom (a place's title, a device id), which disk, and the number to type back (spaced,
    to be read from afar)."""
    return [f"Für: {fit(chosen, COLUMNS - 6)}", "", *[fit(line) for line in disk_lines], "",
            f"Zum Bestätigen diese Zahl eintippen:   {' '.join(code)}",
            "dann die Eingabetaste. (Esc: zurück zur Liste)"]


@dataclass(frozen=True)
class Confirm:
    """What was typed at the confirmation: go on, back to the list, or a calm line and the question again."""

    erase: bool = False
    back: bool = False
    again: str = ""


def read_confirm(entry: Key, code: str) -> Confirm:
    if entry.event == "escape":
        return Confirm(back=True)
    if entry.event == "bad":
        return Confirm(again=bad_key_line(entry.char))
    if entry.digits == code:
        return Confirm(erase=True)
    if not entry.digits:
        return Confirm(again=f"Bitte die Zahl {code} eintippen, dann die Eingabetaste.")
    return Confirm(again=f"Das war {entry.digits}, nicht {code}. Bitte {code} eintippen, dann die Eingabetaste.")


# The install's steps, with the share of the whole time each takes (measured under QEMU and on laptops: the copy
# dominates, the apply is about a third of it).
STEPS = (("Festplatte einteilen", 0.03), ("System kopieren", 0.67), ("Kiosk einrichten", 0.22),
         ("Startprogramm schreiben", 0.06), ("Abschließen", 0.02))


def overall(step: int, within: float) -> float:
    """The share of the whole install done: `step` (0-based) of STEPS, `within` (0..1) of that step."""
    done = sum(share for _, share in STEPS[:step])
    return min(1.0, done + STEPS[step][1] * max(0.0, min(1.0, within)))


def minutes_left(done: float, elapsed_s: float) -> int | None:
    """Whole minutes left at the speed so far, rounded up; None until there is enough to measure (5 % and 20 s)."""
    if done < 0.05 or elapsed_s < 20 or done >= 1:
        return None
    return max(1, math.ceil(elapsed_s * (1 - done) / done / 60))


def progress_lines(step: int, within: float, elapsed_s: float) -> list[str]:
    """The install screen: the step in words, a bar with percent, the time left."""
    done = overall(step, within)
    filled = round(BAR * done)
    left = minutes_left(done, elapsed_s)
    eta = ("Die Restzeit wird gemessen …" if left is None else
           "noch etwa 1 Minute" if left == 1 else f"noch etwa {left} Minuten")
    return [f"Schritt {step + 1} von {len(STEPS)}: {STEPS[step][0]}", "",
            f"{'█' * filled}{'░' * (BAR - filled)} {int(done * 100):3d} %", "", eta, "",
            "Bitte warten. Den Laptop nicht ausschalten, den Stick nicht abziehen."]


def done_lines(chosen: str) -> list[str]:
    return ["Fertig. Bitte den Stick abziehen.", "", f"Eingerichtet für: {fit(chosen, COLUMNS - 19)}", "",
            "Dann startet der Laptop neu, mit dem Kiosk.", "(Nach einer Minute startet er auch so neu.)"]


def installed_lines(chosen: str) -> list[str]:
    """A laptop this stick installed before, booted from it again."""
    return ["Dieser Laptop ist schon eingerichtet.", "", f"Für: {fit(chosen, COLUMNS - 6)}", "",
            "Bitte den Stick abziehen. Der Laptop startet dann neu, mit dem Kiosk."]


def failure_lines(for_it: str, erased: bool) -> list[str]:
    """An install that cannot go on: what the helper does next, then the reason for the IT team."""
    state = (["Die Festplatte ist schon gelöscht.", "Mit dem Stick beginnt beim nächsten Start alles von vorn."]
             if erased else ["Es wurde nichts gelöscht."])
    return [NEXT_STEP_IT, *state, "", *textwrap.wrap(f"Für das IT-Team: {for_it}", COLUMNS - 1), ""]


def unclaimed_lines(device_id: str, reason: str) -> list[str]:
    """Under "Fertig": the install worked but the claim could not be written on the stick (for the IT team)."""
    return ["", *textwrap.wrap(f"Für das IT-Team: Der Platz {device_id} ist nicht auf dem Stick vermerkt ({reason}); "
                               f"bitte match: von Hand in die Geräteliste eintragen.", COLUMNS - 1)]
