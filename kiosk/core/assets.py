"""Where the shipped files of the top-level assets/ folder are, found through importlib.resources."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# assets/ is installed as kiosk.assets (pyproject: package-dir), so the wheel and a checkout find it alike.
PACKAGE = "kiosk.assets"
DEFAULT_BRAND_ID = "palim"


def asset_path(*parts: str) -> Path:
    """The file assets/<parts...> as a path on disk (the kiosk ships as files, never zipped)."""
    return Path(str(resources.files(PACKAGE).joinpath(*parts)))


def shipped_logo(brand_id: str) -> Path | None:
    """assets/brands/<id>/logo.svg, None when that brand ships none."""
    path = asset_path("brands", brand_id, "logo.svg")
    return path if path.is_file() else None


def ring_sound() -> Path:
    """The ring the resident hears when the family waits (made by scripts/make_ring_sound.py)."""
    return asset_path("sounds", "ring.wav")


def pictogram(name: str) -> Path:
    """assets/icons/<name>.svg: a one-colour pictogram a button paints in its own text colour (the call handset)."""
    return asset_path("icons", f"{name}.svg")
