"""Render every kiosk screen to PNG: every language, at the sizes of real donated devices, at font scale 1.0 and 2.0.

    xvfb-run -a .venv/bin/python scripts/screenshots.py                 # all of them into build/screens/ (not in git)
    xvfb-run -a .venv/bin/python scripts/screenshots.py --docs          # and the README's selection into docs/screens/
    xvfb-run -a .venv/bin/python scripts/screenshots.py --lang de --scale 1.0 --size 1280x800   # a subset

build/screens/<lang>/<screen>-<W>x<H>@<scale>.png; build/screens/index.html shows them side by side for review.
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.core.fields import LANGUAGES  # noqa: E402  (after the path: run as a script)
SIZES = ((1280, 800), (1024, 600))
SCALES = (1.0, 2.0)
NAMES = {"de": "Erna Müller", "en": "Margaret Smith", "tr": "Ayşe Yılmaz", "ru": "Людмила Иванова",
         "pl": "Małgorzata Wiśniewska"}
# The README's pictures: (language, screen, size, scale) -> file name in docs/screens/.
DOCS = {("de", s, size, 1.0): f"{s}-{size[0]}x{size[1]}.png"
        for s in ("home", "connecting", "in-call", "ending", "error", "pin", "service", "setup-needed", "ringing",
                  "waiting", "nobody-came")
        for size in SIZES}
DOCS.update({(lang, "home", (1280, 800), 1.0): f"home-{lang}-1280x800.png" for lang in LANGUAGES if lang != "de"})
DOCS.update({("de", "home", (1024, 600), 2.0): "home-1024x600-scale2.png",
             ("ru", "offline", (1024, 600), 2.0): "offline-ru-1024x600-scale2.png",
             ("tr", "ringing", (1280, 800), 1.0): "ringing-tr-1280x800.png",
             ("brand", "home", (1280, 800), 1.0): "home-beispielstadt-1280x800.png",
             ("de", "ringing-name", (1280, 800), 1.0): "ringing-name-1280x800.png",
             ("de", "ringing-names", (1280, 800), 1.0): "ringing-names-1280x800.png",
             ("de", "home-photo", (1280, 800), 1.0): "home-photo-1280x800.png",
             ("ru", "waiting", (1024, 600), 2.0): "waiting-ru-1024x600-scale2.png",
             ("tr", "nobody-came", (1280, 800), 1.0): "nobody-came-tr-1280x800.png",
             ("pl", "in-call", (1024, 600), 2.0): "in-call-pl-1024x600-scale2.png"})
# Who waits in the room (/room names): a daughter and a son with photos, and someone the device does not know.
FAMILY = {"de": ("Anna", "Bernd", "Gast"), "en": ("Sarah", "James", "Guest"), "tr": ("Elif", "Mehmet", "Misafir"),
          "ru": ("Анна", "Сергей", "Гость"), "pl": ("Anna", "Piotr", "Gość")}
BRAND = ("brand: {id: beispielstadt, name: Hallo Familie!, support_contact: 'Bürgerbüro Beispielstadt', "
         "colors: {call: '#0b4f6c', call_pressed: '#093f56', background: '#f3f6f9'}}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "screens")
    parser.add_argument("--docs", action="store_true", help="also copy the README's selection to docs/screens/")
    parser.add_argument("--lang", action="append", choices=LANGUAGES + ("brand",),
                        help="only these languages ('brand': German in the example partner brand)")
    parser.add_argument("--scale", action="append", type=float, choices=SCALES)
    parser.add_argument("--size", action="append", choices=[f"{w}x{h}" for w, h in SIZES])
    args = parser.parse_args()
    languages = args.lang or LANGUAGES + ("brand",)
    scales = args.scale or SCALES
    sizes = [s for s in SIZES if not args.size or f"{s[0]}x{s[1]}" in args.size]
    if os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
                                                + " --use-fake-device-for-media-stream").strip()
    from kiosk.web import scheme

    scheme.register()
    from PyQt6.QtCore import QCoreApplication, QEvent, QEventLoop
    from PyQt6.QtWidgets import QApplication

    from kiosk import texts
    from datetime import datetime

    from kiosk.callflow import CallTapped, HangupTapped, Trouble
    from kiosk.controllers.kiosk import Kiosk
    from kiosk.config import config_from_text
    from kiosk.health import Battery
    from kiosk.screen import Screen
    from kiosk.staff import hash_pin
    from kiosk.core.style import Metrics, stylesheet
    from kiosk.family import told, who_waits
    from kiosk.ui.screens import HomeScreen
    from jitsi_standin import StandinServer

    app = QApplication([sys.argv[0]])
    pin_hash = hash_pin("2468", force=True)
    made: list[tuple[str, str, tuple[int, int], float, Path]] = []

    def settle(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.02)

    def wait(condition, seconds: float = 20) -> None:
        end = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > end:
                raise SystemExit("screenshots: timed out waiting for the kiosk")
            settle(0.05)

    def save(kiosk, lang: str, name: str, size: tuple[int, int], scale: float) -> None:
        settle(0.3)
        folder = args.out / lang
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}-{size[0]}x{size[1]}@{scale:g}.png"
        (kiosk.window if isinstance(kiosk, Kiosk) else kiosk).grab().save(str(path))
        made.append((lang, name, size, scale, path))
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, flush=True)

    def close(kiosk: Kiosk) -> None:
        kiosk.shutdown()
        kiosk.window.close()
        kiosk.window.deleteLater()
        kiosk.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)

    with StandinServer() as server, tempfile.TemporaryDirectory() as tmp:
        portraits = {"daughter": portrait(Path(tmp) / "daughter.jpg", "#e0b49a", "#7a3b5c", "#cfe0ea", "#6b4a2e"),
                     "son": portrait(Path(tmp) / "son.png", "#c99574", "#2f5d7c", "#e6dccb", "#2b2b2b"),
                     "family": family_picture(Path(tmp) / "family.jpg")}
        for lang in languages:
            for size in sizes:
                for scale in scales:
                    language = "de" if lang == "brand" else lang
                    text = (f"server: {server.url}\nroom: palim-7q2m4k9x3c8v5b1n6z0r4t7w2y\n"
                            f"resident: {NAMES[language]}\nlanguage: {language}\nui: {{scale: {scale}}}\n"
                            f"tls_pins: ['{server.cert_sha256}']\nadmin_pin_hash: '{pin_hash}'\n"
                            "support_contact: 'Stadtverwaltung Bühl IT, 07223 935-000'\n"
                            f"health: {{usage_log: '{tmp}/usage.jsonl'}}\n"
                            f"night: {{backlight_dir: '{tmp}/backlight'}}\n"  # the night picture leaves this one alone
                            + (BRAND if lang == "brand" else ""))
                    daughter, son, stranger = FAMILY[language]
                    text += ("family:\n  contacts:\n"
                             f"    - {{name: {daughter}, email: d@example.org, relation: Tochter, "
                             f"photo: '{portraits['daughter']}'}}\n"
                             f"    - {{name: {son}, email: s@example.org, relation: Sohn, photo: '{portraits['son']}'}}\n")
                    config = config_from_text(text)
                    kiosk = Kiosk(Metrics(*size), config, Path("/etc/palim-kiosk/kiosk.yaml"))
                    kiosk.calls.family_wanted.disconnect(kiosk.family.tell_family)  # the example family gets no mail
                    window = kiosk.window
                    window.resize(*size)
                    window.show()
                    wait(lambda: kiosk.calls.view.is_ready)
                    if scale == 2.0:  # the fullest home screen: with the battery line under the button
                        kiosk.health.power.read = lambda: Battery(percent=15.0, plugged=False)
                        kiosk.health.power.check()
                    save(kiosk, lang, "home", size, scale)
                    window.show_screen(Screen.RINGING)
                    save(kiosk, lang, "ringing", size, scale)
                    window.ringing.show_waiting(who_waits([daughter], config.family.contacts))
                    save(kiosk, lang, "ringing-name", size, scale)
                    window.ringing.show_waiting(who_waits([daughter, son, stranger], config.family.contacts))
                    save(kiosk, lang, "ringing-names", size, scale)
                    window.ringing.show_waiting(None)
                    window.show_screen(Screen.HOME)
                    window.show_screen(Screen.CONNECTING)
                    save(kiosk, lang, "connecting", size, scale)
                    # The daughter was told at 14:02 (the example family gets no notice: set as the notice would).
                    window.set_told(told(config.family.contacts[:1], datetime(2026, 12, 4, 14, 2)))
                    kiosk.calls.feed(CallTapped())
                    wait(lambda: window.screen is Screen.IN_CALL)
                    wait(window.call.waiting.isVisible)  # the stand-in's room is empty: the waiting panel
                    settle(1.0)
                    save(kiosk, lang, "waiting", size, scale)
                    server.send(config.room, "participantJoined", {"id": "daughter", "displayName": daughter})
                    wait(lambda: not window.call.waiting.isVisible())
                    settle(2.5)  # let the fake camera's picture arrive (the stand-in shows it as the family's tile)
                    save(kiosk, lang, "in-call", size, scale)
                    kiosk.calls.feed(HangupTapped())
                    wait(lambda: window.screen is Screen.HOME)
                    window.show_screen(Screen.TROUBLE, Trouble.NOBODY_CAME)
                    save(kiosk, lang, "nobody-came", size, scale)
                    window.show_screen(Screen.NIGHT)
                    save(kiosk, lang, "night", size, scale)
                    window.show_screen(Screen.ENDING)
                    save(kiosk, lang, "ending", size, scale)
                    window.show_screen(Screen.TROUBLE, Trouble.CONNECT_FAILED)
                    save(kiosk, lang, "error", size, scale)
                    window.show_screen(Screen.TROUBLE, Trouble.OFFLINE)  # the longest message
                    save(kiosk, lang, "offline", size, scale)
                    window.show_screen(Screen.HOME)
                    kiosk.staff.open_pin_pad()
                    window.pin_pad.reset(texts.PIN_WRONG)
                    window.pin_pad.dots.setText("●●●")
                    save(kiosk, lang, "pin", size, scale)
                    kiosk.staff.open_service()
                    wait(lambda: texts.SERVICE_CHECKING not in window.service.values[texts.SERVICE_REACHABLE].text())
                    save(kiosk, lang, "service", size, scale)
                    close(kiosk)
                    home = HomeScreen(Metrics(*size, scale=scale), config.first_name, brand=config.brand,
                                      photo=portraits["family"])
                    home.setStyleSheet(stylesheet(Metrics(*size, scale=scale), config.brand.colors.model_dump()))
                    home.resize(*size)
                    home.show()
                    save(home, lang, "home-photo", size, scale)
                    home.close()
                    home.deleteLater()
                    setup = Kiosk(Metrics(*size), None, Path(tmp) / "kiosk.yaml",
                                  "Stadtverwaltung Bühl IT, 07223 935-000", language=language)
                    setup.window.resize(*size)
                    setup.window.show()
                    save(setup, lang, "setup-needed", size, scale)
                    close(setup)
    _index(args.out, made)
    if args.docs:
        docs = ROOT / "docs" / "screens"
        docs.mkdir(parents=True, exist_ok=True)
        for lang, name, size, scale, path in made:
            target = DOCS.get((lang, name, size, scale))
            if target:
                shutil.copyfile(path, docs / target)
                print(f"docs/screens/{target}")
    return 0


def portrait(path: Path, skin: str, shirt: str, background: str, hair: str) -> Path:
    """A drawn stand-in for a family photo (never a real person's, never downloaded): head and shoulders."""
    from PyQt6.QtCore import QRectF, Qt
    from PyQt6.QtGui import QColor, QImage, QPainter

    image = QImage(480, 600, QImage.Format.Format_RGB32)
    image.fill(QColor(background))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(shirt))
    painter.drawEllipse(QRectF(40, 400, 400, 400))  # shoulders
    painter.setBrush(QColor(hair))
    painter.drawEllipse(QRectF(125, 95, 230, 260))
    painter.setBrush(QColor(skin))
    painter.drawEllipse(QRectF(140, 130, 200, 240))  # face
    painter.setBrush(QColor("#2b2b2b"))
    for x in (195, 265):
        painter.drawEllipse(QRectF(x, 225, 20, 20))  # eyes
    painter.setPen(QColor("#7a3b2e"))
    painter.drawArc(QRectF(200, 260, 80, 50), 200 * 16, 140 * 16)  # a smile
    painter.end()
    image.save(str(path))
    return path


def family_picture(path: Path) -> Path:
    """Three drawn portraits side by side: the family on the home screen."""
    from PyQt6.QtGui import QImage, QPainter

    parts = [portrait(path.with_name(f"p{i}.png"), *colours) for i, colours in enumerate((
        ("#e0b49a", "#7a3b5c", "#d8e6cf", "#6b4a2e"), ("#c99574", "#2f5d7c", "#d8e6cf", "#2b2b2b"),
        ("#f0c8a8", "#b5651d", "#d8e6cf", "#d9b35b")))]
    image = QImage(1440, 600, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    for index, part in enumerate(parts):
        painter.drawImage(index * 480, 0, QImage(str(part)))
    painter.end()
    image.save(str(path))
    return path


def _index(out: Path, made) -> None:
    """One page with every picture, a row per screen and size, for looking at them all."""
    rows = []
    for lang in dict.fromkeys(m[0] for m in made):
        rows.append(f"<h2>{html.escape(lang)}</h2>")
        for name in dict.fromkeys(m[1] for m in made):
            cells = "".join(f'<figure><img src="{p.relative_to(out)}" width="{s[0] // 3}">'
                            f"<figcaption>{n} {s[0]}x{s[1]} @{sc:g}</figcaption></figure>"
                            for lg, n, s, sc, p in made if lg == lang and n == name)
            rows.append(f'<div style="display:flex;gap:8px;align-items:end">{cells}</div>')
    (out / "index.html").write_text("<!doctype html><meta charset=utf-8><title>Palim screens</title>"
                                    + "\n".join(rows), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
