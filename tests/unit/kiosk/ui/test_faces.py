"""kiosk/ui/faces.py: names strangers type shown as plain text that wraps, photos scaled (never cropped, never
blown past the room they get) and read as safefile reads outside files (what is no photo is never decoded or waited
for), and the ringing screen's row of up to three faces."""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QImage

from kiosk.core.style import Metrics
from kiosk.family import Visitor
from kiosk.ui.faces import MAX_FACES, Faces, Photo, breakable, fit_font, photo_pixmap, plain_label

METRICS = Metrics(1280, 800)


def picture(path: Path, width: int, height: int) -> Path:
    """A photo written by Qt (a JPEG or PNG by its suffix)."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#8a6f5a"))
    assert image.save(str(path))
    return path


def test_long_words_may_break_short_ones_stay_whole():
    assert breakable("Anna Müller") == "Anna Müller"
    name = "Maximiliansgroßvatersbruder"
    assert breakable(name) == "Maximiliansg\u200broßvatersbru\u200bder"
    assert breakable(f"Tante {name}", every=20).split(" ") == ["Tante", f"{name[:20]}\u200b{name[20:]}"]


def test_a_typed_name_is_plain_text_never_markup_or_a_link(qapp):
    label = plain_label("<a href='https://evil.example'>Mama</a>", "small")
    assert label.textFormat() == Qt.TextFormat.PlainText and not label.openExternalLinks()
    assert label.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction
    assert label.objectName() == "small" and label.wordWrap()
    assert "href" in label.text()  # shown as typed, not turned into a link


def test_a_long_name_gets_a_smaller_font_but_never_below_sixty_percent(qapp):
    short, long = plain_label("Anna", "x"), plain_label("Maximilian " * 12, "x")
    for label in (short, long):
        font = label.font()
        font.setPixelSize(40)
        label.setFont(font)
        fit_font(label, 400)
    assert short.styleSheet() == ""  # fits: left alone
    size = int(long.styleSheet().removeprefix("font-size: ").removesuffix("px;"))
    assert 24 <= size < 40


def test_a_photo_is_scaled_to_the_height_and_kept_inside_the_width(tmp_path, qapp):
    tall = photo_pixmap(picture(tmp_path / "tall.jpg", 600, 800), 400, 1000)
    assert (tall.width(), tall.height()) == (300, 400)
    wide = photo_pixmap(picture(tmp_path / "wide.png", 2000, 500), 400, 800)
    assert (wide.width(), wide.height()) == (800, 200)  # the width wins: never wider than its room


def test_a_photo_that_cannot_be_read_is_simply_not_shown(tmp_path, qapp, caplog):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    assert photo_pixmap(None, 100, 100) is None and photo_pixmap("", 100, 100) is None
    with caplog.at_level(logging.WARNING, logger="kiosk.ui.faces"):
        assert photo_pixmap(broken, 100, 100) is None
        assert photo_pixmap(tmp_path / "missing.jpg", 100, 100) is None
    missing = tmp_path / "missing.jpg"
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [f"photo {broken} cannot be shown",
                                                                      f"photo {missing} cannot be shown"]


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (a decompression bomb's first bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


# what is where a photo should be -> the journal line (the screen shows no photo)
HOSTILE = [
    (lambda p: p.symlink_to("/dev/zero"), "is a symbolic link, not the file itself"),
    (lambda p: os.mkfifo(p), "is not a regular file (a device, pipe or socket)"),
    (lambda p: p.write_bytes(b"\xff\xd8" + b"\0" * (9 << 20)), "is larger than 8 MiB"),
    (lambda p: p.write_bytes(_png_claiming(30000, 30000)), "30000x30000 px is far more than a device photo has"),
    (lambda p: p.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "cannot be shown"),
]


@pytest.mark.parametrize(("make", "expected"), HOSTILE, ids=["symlink-to-dev-zero", "fifo", "9-MiB", "png-bomb",
                                                             "svg"])
def test_what_is_no_photo_is_not_shown_and_said_once(qtbot, tmp_path, caplog, make, expected):
    path = tmp_path / "photo.jpg"
    make(path)
    with caplog.at_level(logging.WARNING, logger="kiosk.ui.faces"):
        assert photo_pixmap(path, 200, 300) is None
    assert [r.getMessage() for r in caplog.records if expected in r.getMessage()], caplog.text


def test_a_photo_widget_grows_between_its_heights_keeping_the_aspect(tmp_path, qapp):
    photo = Photo()
    assert photo.shown_height() == 0 and photo.sizeHint().width() == 0
    photo.set_photo(photo_pixmap(picture(tmp_path / "p.jpg", 600, 800), 400, 1000), 200, 400)
    assert (photo.minimumSizeHint().width(), photo.minimumSizeHint().height()) == (150, 200)
    assert (photo.sizeHint().width(), photo.sizeHint().height()) == (300, 400)
    photo.resize(300, 1000)
    assert photo.shown_height() == 400  # never above the largest
    photo.resize(300, 50)
    assert photo.shown_height() == 200  # never below the smallest
    photo.grab()  # paints without error at any size


@pytest.mark.parametrize("count, with_photo, shown, captions", [
    (1, 1, 1, False),  # one face: the headline names them, no caption
    (2, 2, 2, True),
    (4, 4, MAX_FACES, True),  # at most three
    (3, 1, 1, False),  # only those whose photo loads
    (2, 0, 0, False),  # none: the row hides
])
def test_the_row_shows_the_faces_that_load(tmp_path, qapp, count, with_photo, shown, captions):
    visitors = tuple(Visitor(f"Gast {i}", photo=str(picture(tmp_path / f"{i}.jpg", 600, 800)) if i < with_photo
                             else str(tmp_path / f"none-{i}.jpg")) for i in range(count))
    faces = Faces(METRICS)
    faces.resize(1280, 500)
    assert faces.show_visitors(visitors) == shown
    assert faces.isHidden() == (not shown)
    assert [p.isVisibleTo(faces) for p in faces.photos] == [i < shown for i in range(MAX_FACES)]
    assert [c.isVisibleTo(faces) for c in faces.captions] == [captions and i < shown for i in range(MAX_FACES)]
    loaded = [v for v in visitors if Path(v.photo).exists()][:MAX_FACES]
    assert [c.text() for c in faces.captions[:shown]] == [v.name for v in loaded]
    assert [p.accessibleName() for p in faces.photos[:shown]] == [v.name for v in loaded]
    faces.show_visitors(())
    assert faces.isHidden() and all(not c.text() for c in faces.captions)
