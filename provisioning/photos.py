"""Family photos: checked when the device list is read, scaled down for the device when a bundle is rendered.

A photo is a JPEG or PNG next to the device list (`family.contacts[].photo`, a device's `home_photo`). Qt decodes
it (QImageReader: no hand-written decoders, no new dependency); the device gets a JPEG no larger than the screen
needs, upright (EXIF orientation applied) and without the camera's metadata (place, time, device).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.core.fields import photo_path
from kiosk.core.yamlpos import Problem

# The limits validate names in its --help.
MAX_PHOTO_BYTES = 20 * 1024 * 1024  # a phone's photo is 2 to 8 MB
MIN_PHOTO_SIDE = 200  # px on each side: smaller looks blurred on the ringing screen
MAX_PHOTO_SIDE = 8000  # px on each side
MAX_PHOTO_MEGAPIXELS = 40
DEVICE_PHOTO_SIDE = 640  # px, the longer side on the device: the ringing screen shows a photo at most 240 px high
DEVICE_PHOTO_QUALITY = 85
PHOTO_DIR = "/etc/palim-kiosk/photos"
LIMITS = (f"JPEG or PNG, at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB, {MIN_PHOTO_SIDE} to {MAX_PHOTO_SIDE} px "
          f"on each side, at most {MAX_PHOTO_MEGAPIXELS} megapixels")


def _reader(path: Path):
    from PyQt6.QtGui import QImageReader  # Qt only where photos are read: the rest of provisioning stays Qt-free

    reader = QImageReader(str(path))
    reader.setDecideFormatFromContent(True)
    reader.setAutoTransform(True)
    return reader


def photo_problem(path: Path) -> str | None:
    """What is wrong with a photo file, in words; None when it is a usable JPEG or PNG."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return f"the photo {path} does not exist"
    except OSError as exc:
        return f"the photo {path} cannot be read: {exc.strerror}"
    if not path.is_file():
        return f"the photo {path} is not a file"
    if size > MAX_PHOTO_BYTES:
        return f"the photo is {size / 1024 / 1024:.0f} MB, at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB"
    reader = _reader(path)
    kind = bytes(reader.format()).decode("ascii", "replace")
    if kind not in ("jpeg", "png"):
        return f"the photo is not a JPEG or PNG image ({reader.errorString() if not kind else kind})"
    dimensions = reader.size()
    width, height = dimensions.width(), dimensions.height()
    if width <= 0 or height <= 0:
        return f"the photo cannot be decoded: {reader.errorString()}"
    if max(width, height) > MAX_PHOTO_SIDE or width * height > MAX_PHOTO_MEGAPIXELS * 1_000_000:
        return (f"the photo is {width}x{height} px, at most {MAX_PHOTO_SIDE} px on each side and "
                f"{MAX_PHOTO_MEGAPIXELS} megapixels")
    if min(width, height) < MIN_PHOTO_SIDE:
        return f"the photo is {width}x{height} px, at least {MIN_PHOTO_SIDE} px on each side"
    if reader.read().isNull():
        return f"the photo cannot be decoded (a damaged or incomplete file?): {reader.errorString()}"
    return None


def photo_problems(doc: Any, base_dir: Path) -> list[Problem]:
    """Every photo the device list names (contacts at each level, devices' home_photo), checked once each."""
    data = doc.data if isinstance(doc.data, dict) else {}
    places: list[tuple[tuple, Any]] = []
    levels = [(("defaults",), data.get("defaults"))]
    homes = data.get("homes")
    levels += [(("homes", key), home) for key, home in homes.items()] if isinstance(homes, dict) else []
    devices = data.get("devices")
    for index, device in enumerate(devices if isinstance(devices, list) else []):
        levels.append((("devices", index), device))
        if isinstance(device, dict) and "home_photo" in device:
            places.append((("devices", index, "home_photo"), device["home_photo"]))
    for path, level in levels:
        family = level.get("family") if isinstance(level, dict) else None
        contacts = family.get("contacts") if isinstance(family, dict) else None
        for index, contact in enumerate(contacts if isinstance(contacts, list) else []):
            if isinstance(contact, dict) and "photo" in contact:
                places.append((path + ("family", "contacts", index, "photo"), contact["photo"]))
    problems = []
    for path, value in places:
        try:
            name = photo_path(value) if isinstance(value, str) else None
        except ValueError:
            name = None  # the model says what is wrong with the value itself
        if name is None:
            continue
        message = photo_problem(resolve(base_dir, name))
        if message is not None:
            problems.append(doc.problem(path, message))
    return problems


def resolve(base_dir: Path, name: str) -> Path:
    """A photo named in the device list: relative to the list's folder (an absolute path as it is)."""
    return Path(name) if name.startswith("/") else Path(base_dir) / name


def device_photo(path: Path) -> bytes:
    """The photo as the device gets it: a JPEG at most DEVICE_PHOTO_SIDE px on its longer side, upright, no
    metadata. Raises ValueError when it cannot be read (validate reports that first)."""
    from PyQt6.QtCore import QBuffer, QIODevice, Qt

    image = _reader(path).read()
    if image.isNull():
        raise ValueError(f"the photo {path} cannot be decoded")
    if max(image.width(), image.height()) > DEVICE_PHOTO_SIDE:
        image = image.scaled(DEVICE_PHOTO_SIDE, DEVICE_PHOTO_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    if image.hasAlphaChannel():  # JPEG has none: a transparent PNG goes on white, not black
        from PyQt6.QtGui import QColor, QImage, QPainter

        flat = QImage(image.size(), QImage.Format.Format_RGB32)
        flat.fill(QColor("white"))
        painter = QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        image = flat
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "JPEG", DEVICE_PHOTO_QUALITY):
        raise ValueError(f"the photo {path} cannot be written as JPEG")
    return bytes(buffer.data())


def device_photos(config: Any, base_dir: Path) -> tuple[Any, list[tuple[str, bytes]]]:
    """The kiosk config with each photo pointing at its place on the device, and the files to put there."""
    files: list[tuple[str, bytes]] = []
    contacts = []
    for index, contact in enumerate(config.family.contacts, start=1):
        if contact.photo is not None:
            target = f"{PHOTO_DIR}/contact-{index}.jpg"
            files.append((target, device_photo(resolve(base_dir, contact.photo))))
            contact = contact.model_copy(update={"photo": target})
        contacts.append(contact)
    update: dict[str, Any] = {"family": config.family.model_copy(update={"contacts": tuple(contacts)})}
    if config.home_photo is not None:
        target = f"{PHOTO_DIR}/home.jpg"
        files.append((target, device_photo(resolve(base_dir, config.home_photo))))
        update["home_photo"] = target
    return (config.model_copy(update=update) if files else config), files
