"""Family photos in the device list: validate checks them (exists, decodes, sensible size), the bundle carries
them scaled down as JPEG, readable by the kiosk user, and the kiosk config points at them."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest
from PyQt6.QtCore import QBuffer, QIODevice
from PyQt6.QtGui import QImage, QImageReader

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
