"""Photos the screens show: read as safefile reads outside files; what is no photo is never decoded or waited for."""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

import pytest

from kiosk.ui.faces import photo_pixmap
from tests.unit.kiosk.ui.test_screens import make_photo


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


def test_a_real_photo_is_shown(qtbot, tmp_path):
    pixmap = photo_pixmap(make_photo(tmp_path / "anna.jpg"), 200, 300)
    assert pixmap is not None and pixmap.height() == 200
