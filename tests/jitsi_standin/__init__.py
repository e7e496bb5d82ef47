"""Loopback stand-in for the city's Jitsi server (HTTPS on 127.0.0.1) used by tests and the demo."""

from .server import StandinServer

__all__ = ["StandinServer"]
