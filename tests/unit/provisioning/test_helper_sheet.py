"""palim-provision helper-sheet: the A4 PDF is made by Qt, then read back as a person would get it: pdfinfo (pages,
paper), pdftotext (the words, the open places, the boot keys) and pdftoppm (the brand's colour on the page)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from provisioning.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, main
from provisioning import helpersheetpdf
from provisioning.helpersheet import BOOT_KEYS

from .helpers import VALID

TOOLS = ("pdfinfo", "pdftotext", "pdftoppm")
BRANDED = VALID.replace("homes:\n", """\
brands:
  beispielstadt:
    name: Hallo Familie!
    colors: {call: "#0b4f6c"}
homes:
  shs:
    name: Haus am Sonnenhang
    brand: beispielstadt
    support_contact: "IT-Team Beispielstadt, 07221 000-0"
""", 1)


def _place(device: str, home: str, resident: str, label: str | None = None) -> str:
    return (f"  - id: {device}\n    home: {home}\n    resident: {resident}\n"
            + (f"    label: {label}\n" if label else ""))


def _list(tmp_path: Path, places: list[str], text: str = BRANDED) -> Path:
    path = tmp_path / "devices.yaml"
    path.write_text(text + "".join(places), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _tools():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"{', '.join(missing)} missing (poppler-utils, installed by scripts/setup)")


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["helper-sheet", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}


def _page_text(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


PLACES = [_place("ebh-03", "ebh", "Frieda Kunz", "Zimmer 3"),
          _place("shs-01", "shs", "Gertrud Schneider", "'Wohnbereich A, Zimmer 2'"),
          _place("shs-02", "shs", "Ömer Yıldız")]


def test_the_sheet_is_a4_in_german_with_every_part(capsys, tmp_path):
    pdf = tmp_path / "helfer.pdf"
    code, out, err = _run(capsys, _list(tmp_path, PLACES), "--out", pdf)
    assert (code, err) == (EXIT_OK, "")
    assert out == (f"wrote the helpers' sheet (5 A4 pages, 3 open places to tick off) to {pdf}; print it at actual "
                   f"size (100 %)\n")
    info = _info(pdf)
    assert info["Pages"] == "5" and info["Page size"].startswith("595") and "(A4)" in info["Page size"]
    steps, boot, screens, more, table = (_page_text(pdf, n) for n in range(1, 6))
    assert "Ein Laptop in vier Schritten" in steps
    for title in ("Stick einstecken", "Einschalten, Startmenü-Taste tippen", "Nummer eintippen, Eingabetaste",
                  "Warten, dann Stick abziehen"):
        assert title in steps
    for boot_key in BOOT_KEYS:
        assert boot_key.maker in boot and boot_key.key in boot
    flat_boot = " ".join(boot.split())
    assert "Esc, dann F9" in flat_boot and "„F12 Boot Menu“ auf „Enabled“" in flat_boot
    assert "Lautstärke-leiser-Taste gedrückt halten" in flat_boot
    assert "auf „AHCI“ stellen" in flat_boot and "BIOS-Passwort" in flat_boot and "Secure Boot" in flat_boot
    # The stick's own screens, with the list's first open places as they would be numbered on the stick.
    flat_screens = " ".join(screens.split())
    assert "Dieser Laptop ist neu. Für wen soll er eingerichtet werden?" in flat_screens
    assert "1 EBH — Zimmer 3 — Frieda Kunz" in flat_screens
    assert "2 Haus am Sonnenhang — Wohnbereich A, Zimmer 2 — Gertrud Schneider" in flat_screens
    assert "Zum Bestätigen diese Zahl eintippen:" in screens and "%" in screens
    assert "Fertig. Bitte den Stick abziehen." in more
    assert "Diesen Laptop zur Seite legen und dem IT-Team geben." in more
    # The table to tick off: number, home, room label, resident, device id.
    assert "Offene Plätze zum Abhaken" in table
    rows = [" ".join(line.split()) for line in table.splitlines()]
    assert "1 EBH Zimmer 3 Frieda Kunz ebh-03" in rows
    assert "3 Haus am Sonnenhang – Ömer Yıldız shs-02" in rows
    assert "2 Haus am Sonnenhang Zimmer 2 Gertrud Schneider shs-01" in rows  # a long label in two lines:
    assert "Wohnbereich A," in rows  # its first line above the row's middle
    assert "ebh-01" not in table  # a device with match: is no open place


def test_a_home_keeps_the_numbers_of_the_whole_list_and_its_brand(capsys, tmp_path):
    pdf = tmp_path / "shs.pdf"
    code, out, _ = _run(capsys, _list(tmp_path, PLACES), "--out", pdf, "--home", "shs")
    assert code == EXIT_OK and "2 open places" in out
    table = " ".join(_page_text(pdf, 5).split())
    assert "2 Haus am Sonnenhang" in table and "3 Haus am Sonnenhang" in table and "Frieda" not in table
    first = _page_text(pdf, 1)
    assert "Hallo Familie!" in first and "Palim! Palim!" not in first
    assert "IT-Team Beispielstadt, 07221 000-0" in first
    # The brand's colour (#0b4f6c) paints the page: render it as a printer would and count its pixels.
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    from PyQt6.QtGui import QImage

    image = QImage(str(next(tmp_path.glob("page*.png"))))
    assert (image.width(), image.height()) == (414, 585)  # A4 at 50 dpi
    brand = sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
                if _near(image.pixelColor(x, y), (0x0b, 0x4f, 0x6c)))
    palim_green = sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
                      if _near(image.pixelColor(x, y), (0x17, 0x59, 0x2f)))
    assert brand > 200 and palim_green == 0


def _near(colour, rgb) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip((colour.red(), colour.green(), colour.blue()), rgb))


def test_many_places_go_on_more_table_pages_numbered_on(capsys, tmp_path):
    places = [_place(f"ebh-{n:02d}", "ebh", f"Bewohnerin {n}", f"Zimmer {n}") for n in range(10, 35)]
    pdf = tmp_path / "many.pdf"
    code, out, _ = _run(capsys, _list(tmp_path, places), "--out", pdf)
    assert code == EXIT_OK and "(6 A4 pages, 25 open places" in out
    first, second = _page_text(pdf, 5), _page_text(pdf, 6)
    assert "(1/2)" in first and "(2/2)" in second
    assert "Bewohnerin 28" in first and "Bewohnerin 29" not in first  # 19 rows on a page
    assert len(re.findall(r"Bewohnerin \d+", second)) == 6 and "25 EBH Zimmer 34 Bewohnerin 34" in \
        " ".join(second.split())


def test_a_list_without_open_places_says_so(capsys, tmp_path):
    pdf = tmp_path / "none.pdf"
    code, out, err = _run(capsys, _list(tmp_path, []), "--out", pdf)
    assert code == EXIT_OK and "0 open places" in out and "has no open places" in err
    assert "Keine offenen Plätze" in _page_text(pdf, 5)


# --------------------------------------------------------------------------- bad input: a message, no file


def test_a_missing_list(capsys, tmp_path):
    code, _, err = _run(capsys, tmp_path / "nowhere.yaml", "--out", tmp_path / "s.pdf")
    assert code == EXIT_INVALID and f"{tmp_path / 'nowhere.yaml'}:1:1: the file does not exist" in err
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_list_is_named_and_an_old_sheet_stays(capsys, tmp_path):
    old = tmp_path / "s.pdf"
    old.write_bytes(b"%PDF-1.4 the sheet printed yesterday")
    listing = _list(tmp_path, [_place("ebh-03", "nowhere", "Frieda Kunz")])
    code, _, err = _run(capsys, listing, "--out", old)
    assert code == EXIT_INVALID and "devices[2].home: home 'nowhere' is not listed under homes" in err
    assert err.startswith(f"{listing}:") and "Traceback" not in err
    assert old.read_bytes() == b"%PDF-1.4 the sheet printed yesterday"


@pytest.mark.parametrize("out, message, code", [
    ("missing-folder/s.pdf", "--out: the folder {tmp}/missing-folder does not exist", EXIT_INVALID),
    ("devices.yaml/s.pdf", "--out: the folder {tmp}/devices.yaml does not exist", EXIT_INVALID),
    ("", "--out {tmp} is a directory; give a file name like {tmp}/helfer.pdf", EXIT_INVALID),
    ("/proc/s.pdf", "could not write /proc/s.pdf:", EXIT_FAILED),  # no one may create files there, root neither
])
def test_an_unusable_out(capsys, tmp_path, out, message, code):
    target = out if out.startswith("/") else f"{tmp_path}/{out}".rstrip("/")
    got, _, err = _run(capsys, _list(tmp_path, PLACES), "--out", target)
    assert got == code and message.format(tmp=tmp_path) in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["devices.yaml"]


def test_an_unknown_home(capsys, tmp_path):
    code, _, err = _run(capsys, _list(tmp_path, PLACES), "--out", tmp_path / "s.pdf", "--home", "shz")
    assert code == EXIT_INVALID and "no home 'shz' (known: " in err and not (tmp_path / "s.pdf").exists()


def test_painting_that_fails_halfway_leaves_no_file(capsys, tmp_path, monkeypatch):
    # A fault inside Qt's painting cannot be provoked from outside: a page painter that raises stands in for it.
    old = tmp_path / "s.pdf"
    old.write_bytes(b"yesterday")

    def broken(painter, sheet):
        raise RuntimeError("painting failed")

    monkeypatch.setattr(helpersheetpdf, "_boot_page", broken)
    with pytest.raises(RuntimeError):
        main(["helper-sheet", str(_list(tmp_path, PLACES)), "--out", str(old)])
    assert old.read_bytes() == b"yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["devices.yaml", "s.pdf"]  # no temporary PDF left
