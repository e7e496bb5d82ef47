"""Family photos: checked when the device list is read, scaled down for the device when a bundle is rendered.

A photo is a JPEG or PNG next to the device list (`family.contacts[].photo`, a device's `home_photo`). Qt decodes
it (QImageReader: no hand-written decoders, no new dependency); the device gets a JPEG no larger than the screen
needs, upright (EXIF orientation applied), pixels only: no comment, EXIF, XMP, text chunk or colour profile (place,
time, device); a JPEG that is cut off is refused (Qt's reader would fill the rest grey).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.core.fields import photo_path
from kiosk.core.safefile import FileRefused, read_limited
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


class _Photo:
    """A photo file's bytes (read as safefile reads outside files) and Qt's reader on them."""

    def __init__(self, path: Path):
        # Qt only where photos are read: the rest of provisioning stays Qt-free
        from PyQt6.QtCore import QBuffer, QByteArray, QIODevice
        from PyQt6.QtGui import QImageReader

        self.buffer = QBuffer()  # kept here: the reader reads from it
        self.buffer.setData(QByteArray(read_limited(path, MAX_PHOTO_BYTES)))
        self.buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.reader = QImageReader(self.buffer)
        self.reader.setDecideFormatFromContent(True)
        self.reader.setAutoTransform(True)

    def read(self):
        """The decoded image and, for a cut-off or damaged file, libjpeg's words for it (Qt's JPEG reader only warns
        and fills the missing part grey); a PNG that is cut off does not decode at all."""
        from PyQt6.QtCore import qInstallMessageHandler

        warnings: list[str] = []
        previous = qInstallMessageHandler(lambda _mode, _context, message: warnings.append(message))
        try:
            image = self.reader.read()
        finally:
            qInstallMessageHandler(previous)
        damage = next((w for w in warnings if "JPEG" in w or "libpng" in w), None)
        return image, damage


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
    try:
        photo = _Photo(path)
    except FileRefused as exc:  # swapped since the look above: a FIFO, a device, grown
        return f"the photo {exc}"
    except OSError as exc:
        return f"the photo {path} cannot be read: {exc.strerror}"
    reader = photo.reader
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
    image, damage = photo.read()
    if image.isNull():
        return f"the photo cannot be decoded (a damaged or incomplete file?): {reader.errorString()}"
    if damage is not None:
        return f"the photo is incomplete or damaged (cut off while copying?): {damage}; copy it again"
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
    from PyQt6.QtGui import QColor, QColorSpace, QImage, QPainter

    try:
        image, damage = _Photo(path).read()
    except (OSError, FileRefused) as exc:
        raise ValueError(f"the photo {path} cannot be read: {exc}") from None
    if image.isNull() or damage is not None:
        raise ValueError(f"the photo {path} cannot be decoded")
    srgb = QColorSpace(QColorSpace.NamedColorSpace.SRgb)
    if image.colorSpace().isValid() and image.colorSpace() != srgb:
        image.convertToColorSpace(srgb)  # the colours as the profile meant them; the profile itself stays behind
    if max(image.width(), image.height()) > DEVICE_PHOTO_SIDE:
        image = image.scaled(DEVICE_PHOTO_SIDE, DEVICE_PHOTO_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    # Pixels only: a fresh image painted from the photo carries none of its text (JPEG comments, PNG text chunks,
    # XMP, which Qt would write back as comments), no EXIF and no colour profile (untagged JPEG is sRGB). On white:
    # JPEG has no alpha, and a transparent PNG must not turn black.
    pixels = QImage(image.size(), QImage.Format.Format_RGB32)
    pixels.fill(QColor("white"))
    painter = QPainter(pixels)
    painter.drawImage(0, 0, image)
    painter.end()
    image = pixels
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
