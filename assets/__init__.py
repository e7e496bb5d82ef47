"""Shipped files that are not code (brand logos, sounds), installed as the package kiosk.assets."""
