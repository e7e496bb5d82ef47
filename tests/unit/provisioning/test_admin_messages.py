"""Issue 30, point 3: mistakes a city admin makes, each fed in and the exact sentence checked: what is wrong, where
(file:line:col), what to do, in words without Python in them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import ConfigError, config_from_bytes
from provisioning.apply import local_identity
from provisioning.cli import EXIT_BROKEN_PIPE, EXIT_INVALID, EXIT_OK, main

from .helpers import VALID

# The shared list with a staff PIN (so that no warning is expected unless a test makes one) and a secrets file.
LIST = VALID.replace("  server: https://konferenz.example.org\n", "  server: https://konferenz.example.org\n"
                     "  admin_pin_hash: 'scrypt$16384$8$1$cGFsaW0tZXhhbXBsZS1zYWx0$"
                     "/g6CA22NHB5PPY1fSnuorRsuhUIHdkiloWAviqVt9Ng='\n").replace(
    "{ssid: EBH-Bewohner, psk_env: EBH_PSK}", "{ssid: EBH, psk_file: ebh.psk}")
PSK = "Geheim-Passwort-42"
ROOT = Path(__file__).resolve().parents[3]
MACHINES = ROOT / "tests" / "unit" / "provisioning" / "data" / "machines"


@pytest.fixture
def folder(tmp_path):
    secret = tmp_path / "ebh.psk"
    secret.write_text(PSK + "\n")
    secret.chmod(0o600)
    return tmp_path


def _validate(folder: Path, text: str | bytes, capsys, *extra: str) -> tuple[int, list[str], str]:
    path = folder / "devices.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    code = main(["validate", str(path), *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, [line.replace(f"{folder}/", "") for line in err.splitlines()], out


# --------------------------------------------------------------------------- warnings: valid, but a slip


def test_no_staff_pin_is_a_warning_at_the_defaults(folder, capsys):
    code, err, out = _validate(folder, LIST.replace("  admin_pin_hash:", "  # admin_pin_hash:"), capsys)
    assert code == EXIT_OK and out.endswith("valid: 2 devices in 1 homes, every Wi-Fi password readable\n")
    assert err == ["devices.yaml:2:1: warning: defaults: none of the 2 devices has a staff PIN (admin_pin_hash), so "
                   "staff can never leave the kiosk on them (for the service screen, the Wi-Fi, a restart): make one "
                   "with 'palim-kiosk --hash-pin' and write it as admin_pin_hash under defaults (or a home, or the "
                   "device)"]


def test_one_device_without_a_staff_pin_is_named(folder, capsys):
    text = LIST.replace("  admin_pin_hash:", "  # admin_pin_hash:").replace(
        "    resident: Karl Bauer\n", "    resident: Karl Bauer\n    admin_pin_hash: '"
        "scrypt$16384$8$1$cGFsaW0tZXhhbXBsZS1zYWx0$/g6CA22NHB5PPY1fSnuorRsuhUIHdkiloWAviqVt9Ng='\n")
    code, err, _ = _validate(folder, text, capsys)
    assert code == EXIT_OK
    assert err == ["devices.yaml:10:5: warning: devices[0]: device 'ebh-01' has no staff PIN (admin_pin_hash), so "
                   "staff can never leave the kiosk on it: make one with 'palim-kiosk --hash-pin' and write it as "
                   "admin_pin_hash under defaults (or a home, or the device)"]


@pytest.mark.parametrize("line, written, position, key, cut, rest", [
    ("    resident: Erna Müller\n", "    resident: Otto #Krämer\n", "12:15", "devices[0].resident", "Otto",
     "#Krämer"),
    ("    match: {mac: \"3c:52:82:1a:2b:3c\"}\n", "    match: {mac: \"3c:52:82:1a:2b:3c\"}\n    label: Zimmer #9\n",
     "15:12", "devices[0].label", "Zimmer", "#9"),
    ("    wifi: {ssid: EBH, psk_file: ebh.psk}\n", "    wifi:\n      ssid: Park #2\n      psk_file: ebh.psk\n",
     "9:13", "homes.ebh.wifi.ssid", "Park", "#2"),
])
def test_a_value_cut_by_a_comment_is_a_warning_with_the_quoted_fix(folder, capsys, line, written, position, key,
                                                                  cut, rest):
    code, err, _ = _validate(folder, LIST.replace(line, written), capsys)
    assert code == EXIT_OK
    name = key.split(".")[-1]
    assert err == [f"devices.yaml:{position}: warning: {key}: the value ends at ' #': YAML reads '{rest}' as a "
                   f"comment, so this is '{cut}'; if '{rest}' belongs to it, put the whole value in double quotes, "
                   f"like {name}: \"{cut} {rest}\""]


def test_an_ordinary_comment_after_a_value_is_no_warning(folder, capsys):
    code, err, _ = _validate(folder, LIST.replace("    id: ebh-01\n", "    id: ebh-01      # also the hostname\n")
                             .replace("Karl Bauer", "Karl Bauer #Zimmer-3 ".rstrip().replace(" #", "  # ")),
                             capsys)
    assert code == EXIT_OK and err == []


def test_an_email_contact_without_smtp_is_a_warning(folder, capsys):
    text = LIST.replace("    resident: Erna Müller\n", "    resident: Erna Müller\n    family:\n      contacts:\n"
                                                        "        - {name: Anna, email: anna@example.org}\n")
    code, err, _ = _validate(folder, text, capsys)
    assert code == EXIT_OK
    assert err == ["devices.yaml:15:31: warning: devices[0].family.contacts[0].email: Anna would get no e-mail from "
                   "device 'ebh-01': it has no family.smtp (the city's mail relay); add family: {smtp: {host: ..., "
                   "sender: ...}} under defaults or the home, or reach Anna by ntfy or webhook"]
    smtp = text.replace("  admin_pin_hash:", "  family: {smtp: {host: smtp.example.org, sender: palim@example.org}}\n"
                                             "  admin_pin_hash:")
    assert _validate(folder, smtp, capsys)[1] == []


def test_a_secrets_file_others_can_read_is_a_warning(folder, capsys):
    (folder / "ebh.psk").chmod(0o644)
    code, err, _ = _validate(folder, LIST, capsys)
    assert code == EXIT_OK
    assert err == ["devices.yaml:8:33: warning: homes.ebh.wifi.psk_file: the secrets file ebh.psk can be read by "
                   "other users of this computer (mode 0644): run 'chmod 600 ebh.psk'"]  # the folder: as given


@pytest.mark.parametrize("value", [" " + PSK, PSK + " "])
def test_a_password_with_a_space_at_either_end_is_a_warning(folder, capsys, value):
    (folder / "ebh.psk").write_text(value + "\n")
    code, err, _ = _validate(folder, LIST, capsys)
    assert code == EXIT_OK
    assert err == ["devices.yaml:8:33: warning: homes.ebh.wifi.psk_file: the Wi-Fi password begins or ends with a "
                   "space; the devices will use it with the space, so unless the router's password has it too, "
                   "remove it"]


# --------------------------------------------------------------------------- refusals


def test_rooms_equal_but_for_case_are_refused(folder, capsys):
    text = LIST.replace("palim-ztrcxt2gj4ooxf57vnkpbgxi37", "palim-L2HDEEBEOIE5KZYA3MW4PGRMNB")
    code, err, _ = _validate(folder, text, capsys)
    assert code == EXIT_INVALID
    assert err == [f"devices.yaml:18:11: devices[1].room: this room differs from the room of device 'ebh-01' (line 10) "
                   f"only in upper and lower case, and Jitsi does not tell them apart: both residents would share one "
                   f"room; remove this room and run 'palim-provision rooms devices.yaml --fill'",
                   "1 problem; nothing was changed"]


def test_serials_equal_but_for_case_are_refused(folder, capsys):
    text = LIST.replace('{mac: "3c:52:82:1a:2b:3c"}', '{serial: "5cg1234xyz"}')
    code, err, _ = _validate(folder, text, capsys)
    assert code == EXIT_INVALID
    assert err == ["devices.yaml:19:21: devices[1].match.serial: this serial is the serial of device 'ebh-01' "
                   "(line 10) in other upper and lower case, and serial numbers are compared without case: one device "
                   "would take both; check the sticker and correct one of them", "1 problem; nothing was changed"]


def test_a_token_secret_under_32_bytes_is_refused(folder, capsys, monkeypatch):
    monkeypatch.setenv("PALIM_JITSI_SECRET", "kurz5")
    text = LIST.replace("  admin_pin_hash:", "  jitsi_token: {app_id: palim, secret_env: PALIM_JITSI_SECRET}\n"
                                             "  admin_pin_hash:")
    code, err, _ = _validate(folder, text, capsys)
    assert code == EXIT_INVALID
    assert err == ["devices.yaml:4:44: defaults.jitsi_token.secret_env: the app secret is 5 bytes long, and a token "
                   "signed with it (HS256) needs at least 32: anyone could guess a shorter one and log in to every "
                   "room; make a new one with 'openssl rand -hex 32' and set it in Prosody (app_secret) and here",
                   "1 problem; nothing was changed"]
    assert "kurz5" not in "".join(err)


# --------------------------------------------------------------------------- YAML in plain words


def test_a_tab_says_replace_it_with_spaces(folder, capsys):
    code, err, _ = _validate(folder, LIST.replace("    name: EBH", "\tname: EBH"), capsys)
    assert code == EXIT_INVALID
    assert err[0] == ("devices.yaml:7:1: this line is indented with a tab, and YAML takes only spaces: replace the "
                      "tab with spaces (two for each level, like the lines around it)")


def test_a_colon_in_a_value_says_put_it_in_quotes(folder, capsys):
    code, err, _ = _validate(folder, LIST.replace("Erna Müller", "Erna: Müller"), capsys)
    assert code == EXIT_INVALID
    assert err[0] == ("devices.yaml:12:19: the value holds a colon and a space (': '), which YAML reads as a second "
                      "key: put the whole value in double quotes, like resident: \"Erna: Müller\"")


def test_an_empty_value_says_write_it_after_the_colon(folder, capsys):
    code, err, _ = _validate(folder, LIST.replace("    resident: Erna Müller", "    resident:"), capsys)
    assert code == EXIT_INVALID
    assert err[0] == ("devices.yaml:12:14: devices[0].resident: has no value: write it after 'resident:' on the "
                      "same line")
    code, err, _ = _validate(folder, LIST.replace("{ssid: EBH, psk_file: ebh.psk}", "{ssid: , psk_file: ebh.psk}"),
                             capsys)
    assert err[0] == "devices.yaml:8:18: homes.ebh.wifi.ssid: has no value: write it after 'ssid:' on the same line"


def test_a_latin1_file_is_reported_at_its_line(folder, capsys):
    code, err, _ = _validate(folder, LIST.encode("latin-1"), capsys)
    assert code == EXIT_INVALID
    assert err[0] == ("devices.yaml:12:21: the file is not UTF-8 text: the byte here (0xFC, 'ü' in Latin-1 or "
                      "Windows-1252) is not UTF-8; save the file as UTF-8 in your editor")
    with pytest.raises(ConfigError) as info:
        config_from_bytes(b"server: https://k.example.org\nresident: Erna M\xfcller\n", "kiosk.yaml")
    assert str(info.value) == ("kiosk.yaml:2:17: the config file is not UTF-8 text: the byte here (0xFC, 'ü' in "
                               "Latin-1 or Windows-1252) is not UTF-8; save the file as UTF-8 in your editor")


def test_a_list_with_a_bom_and_windows_line_ends_validates(folder, capsys):
    code, err, out = _validate(folder, b"\xef\xbb\xbf" + LIST.replace("\n", "\r\n").encode("utf-8"), capsys)
    assert code == EXIT_OK and err == [] and "valid: 2 devices" in out


# --------------------------------------------------------------------------- the Wi-Fi password


@pytest.mark.parametrize("content, message", [
    ("Grün-Passwort-42\n", "the Wi-Fi password in the secrets file {f} holds a letter with an umlaut or accent, or "
                           "another character that is not plain ASCII; a WPA password may only use A-Z, a-z, digits, "
                           "spaces and punctuation: change it on the router and here"),
    ("\ufeffGeheim-Passwort-42\n", "the secrets file {f} starts with an invisible byte order mark (BOM) that some "
                                   "editors add: save it as UTF-8 without BOM"),
    ("Geheim-Passwort-42\nzweite Zeile\n", "the secrets file {f} holds more than one line: put only the Wi-Fi "
                                           "password in it, on one line"),
    ("kurz\n", "the Wi-Fi password in the secrets file {f} has 4 characters; a WPA password has 8 to 63 (or is 64 "
               "hex digits): check that the whole password is there"),
])
def test_a_wrong_wifi_password_says_what_is_wrong_with_it(folder, capsys, content, message):
    (folder / "ebh.psk").write_text(content, encoding="utf-8")
    code, err, _ = _validate(folder, LIST, capsys)
    assert code == EXIT_INVALID
    assert err == [f"devices.yaml:8:33: homes.ebh.wifi.psk_file: {message.format(f='ebh.psk')}",
                   "1 problem; nothing was changed"]
    assert "Grün" not in err[0] and "zweite" not in err[0] and "kurz\n" not in err[0]


# --------------------------------------------------------------------------- rooms, pipes, the live root


@pytest.mark.parametrize("bom, newline", [(b"", "\r\n"), (b"\xef\xbb\xbf", "\n"), (b"\xef\xbb\xbf", "\r\n")])
def test_rooms_fill_keeps_a_bom_and_windows_line_ends(tmp_path, capsys, bom, newline):
    text = LIST.replace("    room: palim-ztrcxt2gj4ooxf57vnkpbgxi37\n", "")
    path = tmp_path / "devices.yaml"
    original = bom + text.replace("\n", newline).encode("utf-8")
    path.write_bytes(original)
    assert main(["rooms", str(path), "--fill"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"{path}:18: ebh-02: room palim-" in out
    data = path.read_bytes()
    assert data.startswith(bom) and data.count(b"\r\n") == (data.count(b"\n") if newline == "\r\n" else 0)
    room = data.decode("utf-8-sig").split("ebh-02")[1].split("room: ")[1].split(newline)[0]
    assert data == bom + text.replace("    resident: Karl Bauer\n", f"    resident: Karl Bauer\n    room: {room}\n")\
        .replace("\n", newline).encode("utf-8")
    assert (tmp_path / "devices.yaml.palim-bak").read_bytes() == original


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has read what it wanted
    proc = subprocess.run([sys.executable, "-m", "provisioning.cli", "check", "--sysfs-root",
                           str(MACHINES / "worn-tablet"), "--json"], stdout=write_end, stderr=subprocess.PIPE,
                          text=True, cwd=ROOT, timeout=60)
    os.close(write_end)
    assert proc.returncode == EXIT_BROKEN_PIPE and proc.stderr == ""


def test_apply_to_this_computer_refuses_a_device_it_is_not(folder, capsys, monkeypatch):
    monkeypatch.setenv("EBH_PSK", PSK)
    path = folder / "devices.yaml"
    path.write_text(LIST)
    macs, serial = local_identity()
    assert "3c:52:82:1a:2b:3c" not in macs
    assert main(["apply", str(path), "--device", "ebh-01", "--root", "/", "--dry-run"]) == EXIT_INVALID
    seen = f"MAC {', '.join(sorted(macs)) or 'none'}; serial {serial or 'unknown'}"
    assert capsys.readouterr().err == (
        f"palim-provision: this computer ({seen}) is not ebh-01, whose match: is MAC 3c:52:82:1a:2b:3c; applying to "
        f"--root / would turn this computer into ebh-01's kiosk. Run it on ebh-01 itself, or give --root DIR to stage "
        f"it into a folder; if this is ebh-01 with a new network card or mainboard, correct its match: in the list (or "
        f"add --this-is-the-device)\n")


def test_this_is_the_device_overrides_the_check(folder, capsys, monkeypatch):
    """A dry run (nothing written, no step run) into this computer's own root, for a device it is not."""
    monkeypatch.setenv("EBH_PSK", PSK)
    path = folder / "devices.yaml"
    path.write_text(LIST)
    code = main(["apply", str(path), "--device", "ebh-01", "--root", "/", "--dry-run", "--this-is-the-device"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK and "\ndevice ebh-01 into / (dry run: nothing written)\n" in out, err
    assert "is not ebh-01" not in out + err


def test_a_link_out_of_the_root_is_named_once(folder, capsys, monkeypatch):
    monkeypatch.setenv("EBH_PSK", PSK)
    path = folder / "devices.yaml"
    path.write_text(LIST)
    root, outside = folder / "root", folder / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "var").symlink_to(outside)
    assert main(["apply", str(path), "--device", "ebh-01", "--root", str(root)]) == 1
    shown = capsys.readouterr().out
    assert (f"FAILED: /var in {root} is a symlink to {outside}, which leads out of the root; refusing to follow it for "
            f"/var/lib/palim-provision/manifest.json, /var/lib/palim-provision/drift.key and "
            f"/var/backups/palim-provision/stamp/file (nothing was read or written there)\n") in shown
    assert shown.count("leads out of the root") == 1


def test_a_bom_inside_the_file_is_named_where_it_hides(folder, capsys):
    pasted = LIST.replace("    resident: Karl Bauer", "    resident: \ufeffKarl Bauer")
    code, err, _ = _validate(folder, pasted, capsys)
    assert code == EXIT_INVALID
    assert err == ["devices.yaml:17:15: an invisible byte order mark (BOM, U+FEFF) is here, usually from another file "
                   "pasted in: delete it (YAML allows it only at the very start of a file)",
                   "1 problem; nothing was changed"]
    with pytest.raises(ConfigError) as info:
        config_from_bytes("server: https://k.example.org\n\ufeffresident: Erna\n".encode(), "kiosk.yaml")
    assert str(info.value).startswith("kiosk.yaml:2:1: an invisible byte order mark (BOM, U+FEFF) is here")


def test_a_comment_that_cuts_a_value_inside_braces_is_named_at_the_hash(folder, capsys):
    cut = LIST.replace("{ssid: EBH, psk_file: ebh.psk}", "{ssid: Park #2, psk_file: ebh.psk}")
    code, err, _ = _validate(folder, cut, capsys)
    assert code == EXIT_INVALID
    assert err == ["devices.yaml:8:23: ' #' starts a YAML comment here, so the rest of the line is lost and the {...} "
                   "never closes: put the value in double quotes, like ssid: \"Park #2\"",
                   "1 problem; nothing was changed"]
