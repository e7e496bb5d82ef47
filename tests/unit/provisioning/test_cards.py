"""Invitation cards: render the PDF, read the QR codes back with zbarimg and the text with pdftotext."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.cards import card_for, qr_matrix, split_link, write_cards
from provisioning.cli import main
from provisioning.devicelist import load_file, load_text
from tests.requirements import need_tool

from .helpers import VALID

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "provisioning" / "examples" / "devices.yaml"
# The command-line tools that read the cards back, and the Debian packages that bring them.
TOOLS = {"pdftoppm": "poppler-utils", "pdftotext": "poppler-utils", "pdfinfo": "poppler-utils", "zbarimg": "zbar-tools"}


def _need(*tools: str) -> None:
    __tracebackhide__ = True  # a skip or failure points at the test
    for tool in tools:
        need_tool(tool, apt=TOOLS[tool])


def _qr_codes(pdf: Path, tmp_path: Path) -> list[set[str]]:
    """The QR codes on each page, decoded from a 150 dpi rendering like a phone would see a print."""
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = []
    for png in sorted(tmp_path.glob("page-*.png")):
        proc = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, timeout=60)
        pages.append(set(proc.stdout.split()))
    return pages


def _text(pdf: Path, page: int = 1, slot: int | None = None, cols: int = 2) -> str:
    """The text of a page, or of one card on it (cut out by its A6 area), with line breaks as spaces."""
    crop = []
    if slot is not None:
        w, h = 105 / 25.4 * 72, 148 / 25.4 * 72  # an A6 card in points
        crop = ["-x", str(int((slot % cols) * w)), "-y", str(int((slot // cols) * h)), "-W", str(int(w)),
                "-H", str(int(h))]
    out = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), *crop, str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return re.sub(r"-\s+", "-", re.sub(r"\s+", " ", out))  # a name broken after its hyphen reads whole


def test_every_qr_code_reads_back_as_its_room_link_and_the_text_is_there(qapp, tmp_path):
    _need("pdftoppm", "zbarimg", "pdftotext")
    loaded = load_file(EXAMPLE)
    cards = [card_for(t) for t in loaded.targets[:6]]
    pdf = tmp_path / "karten.pdf"
    assert write_cards(cards, pdf) == 2
    pages = _qr_codes(pdf, tmp_path)
    assert pages == [{c.link for c in cards[:4]}, {c.link for c in cards[4:]}]
    for index, card in enumerate(cards):
        text = _text(pdf, page=index // 4 + 1, slot=index % 4)
        room = card.link.rpartition("/")[2].partition("#")[0]
        assert room in text and "#config.deeplinking.disabled=true" in text  # the link, in large type
        if card.language != "de":  # a kiosk in another language without contacts: the card in the kiosk's language
            assert f"{CARD_WORDS[card.language][0]} {card.resident}" in text
            continue
        assert f"So erreichen Sie {card.resident} per Video" in text
        assert f"Hilfe: {card.support}" in text
        assert "Link öffnen" in text and "eine App ist nicht nötig" in text
        assert "Fragt der Browser nach Kamera und Mikrofon: auf „Zulassen“ oder „Erlauben“ tippen." in text
    assert "Hilfe: Haustechnik Sonnenhang, 07223 4711" in _text(pdf, page=2)  # a home's own contact wins


def test_a5_puts_two_cards_on_a_page_and_long_names_still_fit(qapp, tmp_path):
    _need("pdftoppm", "zbarimg", "pdftotext", "pdfinfo")
    text = VALID.replace("Erna Müller", "Maria-Magdalena von Hohenzollern-Sigmaringen") \
        .replace("https://konferenz.example.org", "https://videokonferenz.landratsamt-rastatt.example.org")
    cards = [card_for(t) for t in load_text(text, "devices.yaml").targets]
    pdf = tmp_path / "a5.pdf"
    assert write_cards(cards, pdf, "a5") == 1
    assert _qr_codes(pdf, tmp_path) == [{c.link for c in cards}]
    assert "So erreichen Sie Maria-Magdalena von Hohenzollern-Sigmaringen per Video" in _text(pdf, slot=0)
    assert "So erreichen Sie Karl Bauer per Video" in _text(pdf, slot=1)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 148)  # A5 landscape


def test_every_card_links_to_the_room_in_the_phones_browser_as_the_notices_do():
    """The QR code and the printed link carry #config.deeplinking.disabled=true: no "get the app" page on a phone."""
    for target in load_file(EXAMPLE).targets:
        card = card_for(target)
        assert card.link == target.config.family_link == f"{target.config.server}/{target.config.room}" \
            "#config.deeplinking.disabled=true"


def test_link_lines_and_qr_matrix():
    assert split_link("https://k.example.org/palim-abc") == ["https://k.example.org/", "palim-abc"]
    assert split_link("https://k.example.org/palim-abc#config.deeplinking.disabled=true") == [
        "https://k.example.org/", "palim-abc", "#config.deeplinking.disabled=true"]
    matrix = qr_matrix("https://k.example.org/palim-abc")
    assert len(matrix) == len(matrix[0]) >= 21 and matrix[0][:7] == [True] * 7  # a finder pattern in the corner


def test_cli_makes_cards_without_a_display(tmp_path):
    _need("pdftotext")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = tmp_path / "ebh.pdf"
    proc = subprocess.run([sys.executable, "-m", "provisioning.cli", "cards", str(EXAMPLE), "--out", str(out),
                           "--home", "erich-burger-heim"], capture_output=True, text=True, env=env, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 4 card(s) on 1 A4 page(s)" in proc.stdout
    assert "Karl-Heinz Bauer" in _text(out)


@pytest.mark.parametrize("extra, message", [
    (["--device", "nope"], "no device with id 'nope'"),
    (["--home", "nope"], "no home 'nope'"),
    (["--home", "st-josef-stift", "--device", "ebh-01"], "no device matches"),
])
def test_cli_bad_choices_exit_2(tmp_path, capsys, extra, message):
    assert main(["cards", str(EXAMPLE), "--out", str(tmp_path / "k.pdf"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "k.pdf").exists()


def test_cli_bad_output_places(tmp_path, capsys):
    assert main(["cards", str(EXAMPLE), "--out", str(tmp_path / "missing" / "k.pdf")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["cards", str(EXAMPLE), "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_a_card_may_carry_the_familys_photo_and_its_qr_code_still_reads(qapp, tmp_path):
    """The device's home_photo in the header's corner: the family know their card; the QR code and text stay."""
    _need("pdftoppm", "zbarimg", "pdftotext")
    from dataclasses import replace

    from PyQt6.QtGui import QColor, QImage

    image = QImage(900, 600, QImage.Format.Format_RGB32)
    image.fill(QColor("#7a3b5c"))
    assert image.save(str(tmp_path / "familie.jpg"))
    target = load_file(EXAMPLE).targets[0]
    target = replace(target, list_dir=str(tmp_path),
                     config=target.config.model_copy(update={"home_photo": "familie.jpg"}))
    card = card_for(target)
    assert card.photo == str(tmp_path / "familie.jpg")
    pdf = tmp_path / "karte.pdf"
    assert write_cards([card, replace(card, photo=str(tmp_path / "missing.jpg"))], pdf) == 1
    assert _qr_codes(pdf, tmp_path) == [{card.link}]
    assert f"So erreichen Sie {card.resident} per Video" in _text(pdf, slot=0)
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "low")], check=True)
    page = QImage(str(next(tmp_path.glob("low-*.png"))))
    purple = sum(abs(c.red() - 0x7a) < 12 and abs(c.green() - 0x3b) < 12 and abs(c.blue() - 0x5c) < 12
                 for c in (page.pixelColor(x, y) for x in range(page.width() // 2) for y in range(page.height() // 4)))
    assert purple > 20  # the photo is printed in the first card's header


# Each language's title line and its first step, as the PDF's text carries them (issue 29).
CARD_WORDS = {"de": ("So erreichen Sie", "Link öffnen"), "en": ("How to reach", "Open the link"),
              "pl": ("Jak się połączyć z", "Otwórz link"), "ru": ("Как связаться с", "Откройте ссылку"),
              "tr": ("Şu kişiye ulaşmak için:", "Bağlantıyı açın")}


def test_cards_come_in_each_language_the_family_reads(qapp, tmp_path):
    from provisioning.cards import card_languages, cards_for

    _need("pdftotext")
    contacts = ("    family:\n      contacts:\n"
                "        - {name: Anna, email: anna@example.org, language: ru}\n"
                "        - {name: Bernd, email: bernd@example.org}\n"
                "        - {name: Clara, email: clara@example.org, language: tr}\n"
                "        - {name: Dave, email: dave@example.org, language: en}\n"
                "        - {name: Ewa, email: ewa@example.org, language: pl}\n"
                "        - {name: Olga, email: olga@example.org, language: ru}\n")
    target = load_text(VALID, "devices.yaml").targets[0]
    text = VALID.replace(f"    resident: {target.device.resident}\n",
                         f"    resident: {target.device.resident}\n" + contacts, 1)
    target = load_text(text, "devices.yaml").targets[0]
    assert card_languages(target) == ["ru", "de", "tr", "en", "pl"]  # Olga's Russian card is Anna's
    cards = cards_for(target)
    pdf = tmp_path / "cards.pdf"
    assert write_cards(cards, pdf) == 2
    for index, card in enumerate(cards):
        words = _text(pdf, page=index // 4 + 1, slot=index % 4)
        title, step = CARD_WORDS[card.language]
        assert f"{title} {card.resident}" in words and step in words, (card.language, words)
        assert card.link.rpartition("/")[2].partition("#")[0] in words
    assert "Aile için görüntülü arama" in _text(pdf, page=1, slot=2)
