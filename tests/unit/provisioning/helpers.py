"""Helpers the provisioning tests share (imported by name, never from a conftest)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtGui import QColor, QImage


def photo(path: Path, width: int = 1600, height: int = 1200, fmt: str | None = None) -> Path:
    """A test photo written by Qt, never downloaded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor(120, 90, 70, 200))
    assert image.save(str(path), fmt)
    return path
