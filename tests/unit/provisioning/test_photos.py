"""Family photos in the device list: validate checks them (exists, decodes, sensible size), the bundle carries
them scaled down as JPEG, readable by the kiosk user, and the kiosk config points at them."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest
from PyQt6.QtCore import QBuffer, QIODevice
from PyQt6.QtGui import QColor, QImage, QImageReader

from kiosk.config import config_from_text
from provisioning.apply import apply_bundle
from provisioning.bundle import KIOSK_USER, render_bundle
from provisioning.cli import main
from provisioning.devicelist import DeviceListError, load_file
from provisioning.photos import DEVICE_PHOTO_SIDE, MAX_PHOTO_SIDE, MIN_PHOTO_SIDE, PHOTO_DIR, photo_problem

from .helpers import photo

LIST = textwrap.dedent("""\
    version: 1
    defaults:
      server: https://konferenz.example.org
    homes:
      ebh:
        name: EBH
    devices:
      - id: ebh-01
        home: ebh
        resident: Erna Müller
        room: palim-l2hdeebeoie5kzya3mw4pgrmnb
        match: {mac: "3c:52:82:1a:2b:3c"}
        home_photo: photos/familie.png
        family:
          contacts:
            - {name: Anna, email: anna@example.org, relation: Tochter, aliases: [Mama], photo: photos/anna.jpg}
            - {name: Bernd, email: bernd@example.org}
    """)


@pytest.fixture
def listed(tmp_path) -> Path:
    photo(tmp_path / "photos" / "anna.jpg")
    photo(tmp_path / "photos" / "familie.png", 1200, 800)
    path = tmp_path / "devices.yaml"
    path.write_text(LIST, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(DeviceListError) as info:
        load_file(path)
    return [str(p) for p in info.value.problems]


def test_a_list_with_photos_validates(listed, capsys):
    assert main(["validate", str(listed), "--skip-secrets"]) == 0


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_bytes(b"not a picture at all"), "not a JPEG or PNG"),
    (lambda p: photo(p, 300, 300, "BMP"), "not a JPEG or PNG image (bmp)"),
    (lambda p: photo(p, 120, 400), f"at least {MIN_PHOTO_SIDE} px on each side"),
    (lambda p: photo(p, MAX_PHOTO_SIDE + 1, 300), f"at most {MAX_PHOTO_SIDE} px on each side"),
    (lambda p: p.write_bytes((p.parent / "good.jpg").read_bytes()[:200]), "cannot be decoded"),
    (lambda p: p.mkdir(), "is not a file"),
])
def test_validate_refuses_a_photo_that_is_missing_broken_or_the_wrong_size(listed, make, message):
    target = listed.parent / "photos" / "anna.jpg"
    photo(listed.parent / "photos" / "good.jpg")
    target.unlink()
    make(target)
    problems = _problems(listed)
    assert len(problems) == 1
    assert problems[0].startswith(f"{listed}:16:92:") and "devices[0].family.contacts[0].photo" in problems[0]
    assert message in problems[0]


def test_validate_names_the_home_photo_and_the_limits_in_its_help(listed, capsys):
    (listed.parent / "photos" / "familie.png").unlink()
    assert main(["validate", str(listed), "--skip-secrets"]) == 2
    out = capsys.readouterr()
    assert "devices[0].home_photo: the photo" in out.out + out.err and "does not exist" in out.out + out.err
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    help_text = capsys.readouterr().out
    assert "JPEG or PNG, at most 20 MB" in help_text and f"{MIN_PHOTO_SIDE} to {MAX_PHOTO_SIDE} px" in help_text


@pytest.mark.parametrize("value, message", [("anna.gif", "JPEG or PNG"), ("../anna.jpg", "must not leave")])
def test_a_photo_path_is_checked_before_the_file(listed, value, message):
    listed.write_text(LIST.replace("photos/anna.jpg", value), encoding="utf-8")
    assert any(message in p for p in _problems(listed))


def _decode(data: bytes) -> QImage:
    buffer = QBuffer()
    buffer.setData(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    assert bytes(reader.format()) == b"jpeg"
    return reader.read()


def test_the_bundle_carries_scaled_photos_readable_by_the_kiosk_user(listed, tmp_path):
    target = load_file(listed).targets[0]
    bundle = render_bundle(target, None)
    files = {f.path: f for f in bundle.files}
    anna, home = files[f"{PHOTO_DIR}/contact-1.jpg"], files[f"{PHOTO_DIR}/home.jpg"]
    for file in (anna, home):
        assert (file.mode, file.owner, file.group) == (0o640, "root", KIOSK_USER)
        image = _decode(file.content)
        assert max(image.width(), image.height()) == DEVICE_PHOTO_SIDE
    assert _decode(anna.content).width() == DEVICE_PHOTO_SIDE and _decode(home.content).height() == 426
    assert len(anna.content) < 200_000
    config = config_from_text(files["/etc/palim-kiosk/kiosk.yaml"].content.decode())
    assert config.family.contacts[0].photo == f"{PHOTO_DIR}/contact-1.jpg"
    assert config.family.contacts[0].relation == "Tochter" and config.family.contacts[0].aliases == ("Mama",)
    assert config.family.contacts[1].photo is None
    assert config.home_photo == f"{PHOTO_DIR}/home.jpg"
    assert bundle.manifest()["files"]  # the photos are in the manifest like every file
    assert f"{PHOTO_DIR}/home.jpg" in [f["path"] for f in bundle.manifest()["files"]]
    root = tmp_path / "root"
    apply_bundle(bundle, root)
    written = root / PHOTO_DIR.lstrip("/") / "contact-1.jpg"
    assert written.read_bytes() == anna.content
    assert stat.S_IMODE(written.stat().st_mode) == 0o640
    assert stat.S_IMODE(written.parent.stat().st_mode) == 0o755  # the kiosk user may walk in


def test_a_small_photo_is_not_blown_up(listed):
    photo(listed.parent / "photos" / "anna.jpg", 300, 240)
    bundle = render_bundle(load_file(listed).targets[0], None)
    image = _decode(next(f for f in bundle.files if f.path.endswith("contact-1.jpg")).content)
    assert (image.width(), image.height()) == (300, 240)


def test_photo_problem_is_none_for_a_good_photo(tmp_path):
    assert photo_problem(photo(tmp_path / "a.png", 400, 400)) is None
    assert os.path.exists(tmp_path / "a.png")


SECRET = "GPS 52.5170N 13.3889E Sonnenhang Zimmer 12"


def _striped(width: int = 800, height: int = 600) -> QImage:
    from PyQt6.QtGui import QPainter

    image = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    for x in range(0, width, 8):
        painter.fillRect(x, 0, 5, height, QColor(x % 256, 90, 200 - x % 200))
    painter.end()
    return image


def _with_text(path: Path, fmt: str) -> Path:
    """A JPEG comment or PNG text chunk (Qt writes image text as those) holding a place."""
    image = _striped()
    image.setText("Description", SECRET)
    assert image.save(str(path), fmt)
    assert SECRET.encode() in path.read_bytes() or fmt == "PNG"  # Qt packs a PNG's text (zTXt)
    return path


def _with_segment(path: Path, marker: bytes, payload: bytes, repeat: int = 1) -> Path:
    """A JPEG with raw APPn segments after its SOI (EXIF, XMP or a colour profile in 64 kB pieces)."""
    assert _striped().save(str(path), "JPEG")
    data = path.read_bytes()
    segment = marker + (len(payload) + 2).to_bytes(2, "big") + payload
    path.write_bytes(data[:2] + segment * repeat + data[2:])
    return path


def _png_chunk(path: Path, kind: bytes, payload: bytes) -> Path:
    import struct
    import zlib

    assert _striped().save(str(path), "PNG")
    data = path.read_bytes()
    chunk = struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    path.write_bytes(data[:33] + chunk + data[33:])  # right after IHDR
    return path


def _profiled(path: Path) -> Path:
    from PyQt6.QtGui import QColorSpace

    image = _striped()
    image.setColorSpace(QColorSpace(QColorSpace.NamedColorSpace.AdobeRgb))
    assert image.save(str(path), "JPEG")
    return path


XMP = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>" + SECRET.encode() + b"</exif:GPSLatitude>"
# what a photo carries -> it reaches the device as pixels only (no marker of it in the device photo)
CARRIERS = [
    ("jpeg-comment", lambda p: _with_text(p / "a.jpg", "JPEG")),
    ("png-text-chunk", lambda p: _png_chunk(p / "a.png", b"tEXt", b"Comment\x00" + SECRET.encode())),
    ("png-text-by-qt", lambda p: _with_text(p / "b.png", "PNG")),
    ("png-itxt-xmp", lambda p: _png_chunk(p / "a.png", b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP)),
    ("jpeg-exif", lambda p: _with_segment(p / "a.jpg", b"\xff\xe1", b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"
                                          + SECRET.encode())),
    ("jpeg-xmp", lambda p: _with_segment(p / "a.jpg", b"\xff\xe1", XMP)),
    ("jpeg-16-MB-profile", lambda p: _with_segment(p / "a.jpg", b"\xff\xe2", b"ICC_PROFILE\x00\x01\x01"
                                                   + bytes(65000), repeat=250)),
    ("jpeg-adobe-rgb-profile", lambda p: _profiled(p / "a.jpg")),
]


@pytest.mark.parametrize("make", [c[1] for c in CARRIERS], ids=[c[0] for c in CARRIERS])
def test_a_device_photo_carries_pixels_only(tmp_path, make):
    from provisioning.photos import device_photo

    source = make(tmp_path)
    assert photo_problem(source) is None
    data = device_photo(source)
    for trace in (SECRET.encode(), b"Exif", b"ICC_PROFILE", b"xap/1.0", b"Description"):
        assert trace not in data
    buffer = QBuffer()
    buffer.setData(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    image = reader.read()
    assert reader.textKeys() == [] and not image.colorSpace().isValid() and image.width() == DEVICE_PHOTO_SIDE
    assert len(data) < 200_000


@pytest.mark.parametrize(("fmt", "message"), [
    ("JPEG", "the photo is incomplete or damaged (cut off while copying?): Corrupt JPEG data: premature end of data "
             "segment; copy it again"),
    ("PNG", "the photo cannot be decoded (a damaged or incomplete file?)"),
])
def test_a_photo_cut_off_is_refused(tmp_path, fmt, message):
    whole = tmp_path / f"whole.{fmt.lower()}"
    assert _striped().save(str(whole), fmt)
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(whole.read_bytes()[:len(whole.read_bytes()) * 2 // 3])
    assert (photo_problem(cut) or "").startswith(message)
