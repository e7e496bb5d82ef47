"""Shared device lists for the provisioning tests."""

import textwrap

import pytest

VALID = textwrap.dedent("""\
    version: 1
    defaults:
      server: https://konferenz.example.org
    homes:
      ebh:
        name: EBH
        wifi: {ssid: EBH-Bewohner, psk_env: EBH_PSK}
    devices:
      - id: ebh-01
        home: ebh
        resident: Erna Müller
        room: palim-l2hdeebeoie5kzya3mw4pgrmnb
        match: {mac: "3c:52:82:1a:2b:3c"}
      - id: ebh-02
        home: ebh
        resident: Karl Bauer
        room: palim-ztrcxt2gj4ooxf57vnkpbgxi37
        match: {serial: "5CG1234XYZ"}
    """)


@pytest.fixture
def valid_text() -> str:
    return VALID
