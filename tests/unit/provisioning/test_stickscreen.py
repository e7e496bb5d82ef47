"""The installer stick's screens and keys: a number picks a place, a number confirms, every other key is refused calmly."""

import random

import pytest

from provisioning.claims import Place
from provisioning.stickscreen import (COLUMNS, PAGE, Key, confirm_screen, confirmation_code, done_lines, failure_lines,
                                      installed_lines, key, minutes_left, overall, pick_screen, progress_lines,
                                      read_confirm, read_pick, unclaimed_lines)

PLACES = [Place(1, "ebh-03", "ebh", "Erich-Burger-Heim", "Frieda Kunz", "Zimmer 3"),
          Place(3, "shs-01", "shs", "Haus am Sonnenhang", "Erna Müller", "Zimmer 12")]


def typed(text: str) -> Key:
    digits = ""
    for char in text:
        entry = key(digits, char)
        if entry.event:
            return entry
        digits = entry.digits
    return Key(digits)


def test_the_list_shows_each_open_place_with_its_number_home_room_and_resident():
    lines = pick_screen(PLACES)
    assert "3  Haus am Sonnenhang — Zimmer 12 — Erna Müller" in lines
    assert lines[-1] == "Die Nummer eintippen, dann die Eingabetaste:"
    assert all(len(line) < COLUMNS for line in lines)


def test_digits_and_enter_pick_a_place_the_number_pad_and_backspace_too():
    assert read_pick(typed("3\r"), PLACES).place.device == "shs-01"
    assert read_pick(typed("13\x7f\n"), PLACES).place.device == "ebh-03"


@pytest.mark.parametrize("keys, says", [
    ("z", "„z“ ist keine Ziffer. Bitte nur Ziffern tippen, dann die Eingabetaste."),
    ("\x1b", "Esc: nichts geschieht."),
    ("\r", "Bitte zuerst die Nummer eintippen"),
    ("2\r", "Die 2 steht nicht in der Liste. Bitte eine Nummer von 1 bis 3 eintippen."),
    ("99\r", "Die 99 steht nicht in der Liste."),
    ("0\r", "Die 0 steht nicht in der Liste."),
])
def test_bad_input_gets_a_calm_line_and_no_place(keys, says):
    pick = read_pick(typed(keys), PLACES)
    assert pick.place is None and not pick.next_page
    assert says in pick.again


def test_more_places_than_a_screen_holds_are_paged_with_0_and_every_number_still_counts():
    many = [Place(n, f"d-{n}", "h", "Heim", f"Person {n}") for n in range(1, 25)]
    first, second = pick_screen(many), pick_screen(many, 1)
    assert f"{PAGE}  Heim — Person {PAGE}" in first and f"{PAGE + 1}  Heim — Person {PAGE + 1}" not in first
    assert "24  Heim — Person 24" in second and "Seite 2 von 2" in second[-2]
    assert len(first) <= 25
    assert read_pick(typed("0\r"), many).next_page
    assert read_pick(typed("24\r"), many).place.device == "d-24"


def test_a_long_line_is_cut_to_the_screen():
    long = Place(7, "x", "h", "Seniorenzentrum " * 6, "Erna Müller")
    assert len(pick_screen([long])[2]) == COLUMNS - 1 and pick_screen([long])[2].endswith("…")


def test_the_confirmation_is_a_number_shown_spaced_and_typed_back():
    code = confirmation_code(random.Random(4).randint)
    assert len(code) == 3 and code.isdigit() and code[0] != "0" and len(set(code)) > 1
    assert f"Zum Bestätigen diese Zahl eintippen:   {' '.join(code)}" in confirm_screen(PLACES[1].title(), ["Ziel: /dev/vda"], code)
    assert read_confirm(typed(code + "\r"), code).erase
    wrong = read_confirm(typed("111\r"), code)
    assert not wrong.erase and wrong.again == f"Das war 111, nicht {code}. Bitte {code} eintippen, dann die Eingabetaste."
    assert read_confirm(typed("\x1b"), code).back
    assert not read_confirm(typed("a"), code).erase and "keine Ziffer" in read_confirm(typed("a"), code).again
    assert not read_confirm(typed("\r"), code).erase


def test_no_code_is_one_digit_three_times():
    draws = iter([555, 555, 123])
    assert confirmation_code(lambda a, b: next(draws)) == "123"


def test_progress_adds_up_the_steps_and_the_time_left_comes_from_the_speed_so_far():
    assert overall(0, 0) == 0 and overall(4, 1) == pytest.approx(1)
    assert overall(1, 0.5) == pytest.approx(0.03 + 0.67 / 2)
    assert minutes_left(0.02, 100) is None and minutes_left(0.5, 10) is None
    assert minutes_left(0.5, 120) == 2 and minutes_left(0.25, 60) == 3 and minutes_left(0.9, 30) == 1
    lines = progress_lines(1, 0.5, 120)
    assert lines[0] == "Schritt 2 von 5: System kopieren"
    assert lines[2] == "█" * 18 + "░" * 32 + "  36 %"
    assert lines[4] == "noch etwa 4 Minuten"
    assert progress_lines(0, 0, 0)[4] == "Die Restzeit wird gemessen …"


def test_the_end_and_a_failure_tell_the_helper_what_to_do_next():
    assert done_lines(PLACES[1].title())[:3] == ["Fertig. Bitte den Stick abziehen.", "",
                                                 "Eingerichtet für: Haus am Sonnenhang — Zimmer 12 — Erna Müller"]
    long = "Seniorenzentrum am Stadtpark — Wohnbereich B, Zimmer 112 — Anneliese Müller-Lüdenscheidt"
    reason = "Der Laptop ist nicht geeignet: Prozessor: ohne SSE4.2 und POPCNT, die der Kiosk braucht (Core 2)."
    for screen in (done_lines(long), installed_lines(long), failure_lines(reason, erased=True),
                   confirm_screen(long, ["Ziel: /dev/nvme0n1, 256 GB (SAMSUNG MZVLB256)."], "481"),
                   progress_lines(2, 0.5, 300), unclaimed_lines("ebh-p1", "[Errno 28] No space left on device")):
        assert all(len(line) < COLUMNS for line in screen), screen  # the console would wrap a longer one
    lines = failure_lines("CPU ohne SSE4.2", erased=False)
    assert lines[0] == "Diesen Laptop zur Seite legen und dem IT-Team geben."
    assert "Für das IT-Team: CPU ohne SSE4.2" in lines and "Es wurde nichts gelöscht." in lines
