"""Loopback HTTPS stand-in for a city's Jitsi server (development only: tests, demos, benchmarks; not in the wheel)."""

from .server import CERT_FILE, KEY_FILE, ROOM_PATH, StandinHandler, StandinServer, static_file

__all__ = ["CERT_FILE", "KEY_FILE", "ROOM_PATH", "StandinHandler", "StandinServer", "static_file"]
