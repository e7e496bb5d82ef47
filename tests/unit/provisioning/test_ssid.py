"""Issue 16, item 9: the Wi-Fi keyfile reads back, byte for byte, the way NetworkManager reads it.

NetworkManager parses a keyfile with GLib's GKeyFile, then takes `ssid` through its own rule (libnm-core
nm-keyfile.c, get_bytes): a value of only digits, spaces and ';' is a list of byte values (the old format), anything
else is a string whose '\\;' become ';'. Its writer (ssid_writer) therefore escapes ';' in printable-ASCII SSIDs and
writes every other SSID as a byte list. Here the rendered keyfile goes through Debian's GLib (python3-gi, run with
/usr/bin/python3) and a line-by-line port of get_bytes.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from provisioning.bundle import keyfile_ssid, render_bundle
from provisioning.devicelist import load_text
from tests.requirements import need

from .helpers import VALID

SYSTEM_PYTHON = Path("/usr/bin/python3")
GLIB_READER = textwrap.dedent("""\
    import json, sys
    import gi
    gi.require_version("GLib", "2.0")
    from gi.repository import GLib
    out = []
    for path in sys.argv[1:]:
        kf = GLib.KeyFile()
        kf.load_from_file(path, GLib.KeyFileFlags.NONE)
        out.append({"ssid": kf.get_string("wifi", "ssid"), "psk": kf.get_string("wifi-security", "psk"),
                    "id": kf.get_string("connection", "id")})
    print(json.dumps(out))
    """)

TRICKY = ["12;34;56;", "12;34;56", "1;2", "123", ";", ";;", "\\;", "\\", "back\\slash", " lead", "  lead2",
          "trail ", "  both  ", "#hash", "a#b", "[wifi]", "a=b", "\\s", "\\n", "%s%n", "Café Müller", "日本語の家",
          "x" * 32, "ä" * 16, "12 ;34", " 1;2;", "'quoted'", '"dq"', "emoji 🙂"]


def nm_get_bytes(value: str) -> bytes:
    """NetworkManager's get_bytes(..., zero_terminate=False, unescape_semicolon=True), as in nm-keyfile.c."""
    if value == "":
        return b""
    raw = value.encode("utf-8")
    if all(chr(c).isascii() and (chr(c) in " \t\n\v\f\r" or chr(c).isdigit() or c == ord(";")) for c in raw):
        out, i = bytearray(), 0
        while True:
            while i < len(raw) and chr(raw[i]) in " \t\n\v\f\r":
                i += 1
            if i == len(raw):
                break
            if not chr(raw[i]).isdigit():
                out = bytearray()
                break
            j = i
            while j < len(raw) and j - i < 3 and chr(raw[j]).isdigit():
                j += 1
            n, i = int(raw[i:j]), j
            if n > 255:
                out = bytearray()
                break
            out.append(n)
            while i < len(raw) and chr(raw[i]) in " \t\n\v\f\r":
                i += 1
            if i == len(raw) or raw[i] != ord(";"):
                out = bytearray()
                break
            i += 1
        if out:
            return bytes(out)
    return raw.replace(b"\\;", b";")


def read_with_glib(paths: list[Path]) -> list[dict]:
    need(SYSTEM_PYTHON.exists(), "Debian's python3 with python3-gi and gir1.2-glib-2.0 (GLib's key file parser): "
                                 "apt-get install python3-gi gir1.2-glib-2.0")
    proc = subprocess.run([str(SYSTEM_PYTHON), "-c", GLIB_READER, *map(str, paths)], capture_output=True, text=True)
    need(proc.returncode == 0 or "No module named 'gi'" not in proc.stderr,
         "python3-gi and gir1.2-glib-2.0 (GLib's key file parser): apt-get install python3-gi gir1.2-glib-2.0")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _listing(ssid: str) -> str:
    quoted = json.dumps(ssid, ensure_ascii=False)  # a YAML double-quoted string
    return VALID.replace("wifi: {ssid: EBH-Bewohner, psk_env: EBH_PSK}", f"wifi: {{ssid: {quoted}, psk_env: EBH_PSK}}")


def test_every_tricky_ssid_and_password_reads_back_byte_for_byte(tmp_path):
    psks = ["erstes-passwort", " leading space", "trailing space ", "back\\slash;#semi", "a=b[c]#d;e\\;f",
            "'\"quotes\"'", "12;34;56;78"]
    paths, wanted = [], []
    for index, ssid in enumerate(TRICKY):
        psk = psks[index % len(psks)]
        target = load_text(_listing(ssid), "devices.yaml").targets[0]
        keyfile = next(f for f in render_bundle(target, psk).files if f.path.endswith(".nmconnection"))
        path = tmp_path / f"{index}.nmconnection"
        path.write_bytes(keyfile.content)
        paths.append(path)
        wanted.append((ssid, psk))
    for (ssid, psk), got, path in zip(wanted, read_with_glib(paths), paths):
        assert nm_get_bytes(got["ssid"]) == ssid.encode("utf-8"), (ssid, path.read_text())
        assert got["psk"] == psk and got["id"] == "palim-ebh"


def test_the_ssid_is_written_as_networkmanagers_writer_writes_it():
    # ssid_writer: printable ASCII as a string with ';' escaped (then GLib escapes the backslash); else byte values.
    assert keyfile_ssid("12;34;56;") == "12\\\\;34\\\\;56\\\\;"
    assert keyfile_ssid("EBH-Bewohner") == "EBH-Bewohner"
    assert keyfile_ssid(" x") == "\\sx"
    assert keyfile_ssid("Café") == "67;97;102;195;169;"


@pytest.mark.parametrize("ssid", ["tab\there", "bell\x07", "nl\nx", "del\x7f"])
def test_ssids_with_control_characters_become_byte_lists(tmp_path, ssid):
    # The device list refuses these; the writer still never puts one into the file as text.
    value = keyfile_ssid(ssid)
    assert value == "".join(f"{b};" for b in ssid.encode())
    path = tmp_path / "k.nmconnection"
    path.write_text(f"[connection]\nid=x\n[wifi]\nssid={value}\n[wifi-security]\npsk=12345678\n")
    assert nm_get_bytes(read_with_glib([path])[0]["ssid"]) == ssid.encode()
