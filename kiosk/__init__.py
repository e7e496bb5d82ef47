"""Palim Kiosk: one tap from a care-home resident to their family."""

__version__ = "0.1.0"
