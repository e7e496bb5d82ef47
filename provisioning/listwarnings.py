"""What validate warns about: a device list that is valid but very likely not what the admin meant.

Each warning says what is wrong, where (file:line:col), and what to do; none of them stops render or apply.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

from kiosk.core.yamlpos import Problem

from .devicelist import Loaded


def staff_pin(loaded: Loaded) -> list[Problem]:
    """Devices without admin_pin_hash: staff could never leave the kiosk on them. One warning when none has it."""
    without = [t for t in loaded.targets if t.config.admin_pin_hash is None]
    advice = ("make one with 'palim-kiosk --hash-pin' and write it as admin_pin_hash under defaults (or a home, or "
              "the device)")
    if not without:
        return []
    if len(without) == len(loaded.targets):
        where = ("defaults",) if ("defaults",) in loaded.doc.marks else ()
        count = ("the device has no staff PIN (admin_pin_hash), so staff can never leave the kiosk on it"
                 if len(without) == 1 else f"none of the {len(without)} devices has a staff PIN (admin_pin_hash), "
                                           f"so staff can never leave the kiosk on them")
        return [loaded.doc.problem(where, f"{count} (for the service screen, the Wi-Fi, a restart): {advice}",
                                   at_key=True)]
    return [loaded.doc.problem(("devices", t.index), f"device '{t.id}' has no staff PIN (admin_pin_hash), so staff "
                                                     f"can never leave the kiosk on it: {advice}") for t in without]


def cut_values(loaded: Loaded) -> list[Problem]:
    """A plain value followed by ' #' and more text on its line: YAML took the rest for a comment (ssid: Park #2)."""
    lines = loaded.text.splitlines()
    out = []
    for path, source in loaded.doc.scalars.items():
        line, col = loaded.doc.marks[path]
        if not source or line > len(lines):
            continue
        here = lines[line - 1]
        end = col - 1 + len(source)
        if here[col - 1:end] != source:
            continue  # a value over several lines: not one that a comment cut
        rest = here[end:]
        if rest.startswith(" #") and rest[2:3] not in ("", " "):
            whole = (source + rest).rstrip()
            key = path[-1] if isinstance(path[-1], str) else "-"
            out.append(loaded.doc.problem(path, (
                f"the value ends at ' #': YAML reads '{rest.strip()}' as a comment, so this is '{source}'; if "
                f"'{rest.strip()}' belongs to it, put the whole value in double quotes, like "
                f"{key}: {json.dumps(whole, ensure_ascii=False)}")))
    return out


def email_without_smtp(loaded: Loaded) -> list[Problem]:
    """A contact with an e-mail address on a device whose family settings have no SMTP relay: no mail would go."""
    found: dict[tuple, Problem] = {}
    for target in loaded.targets:
        if target.config.family.smtp is not None:
            continue
        for number, contact in enumerate(target.config.family.contacts):
            if contact.email is None:
                continue
            places = [level + ("family", "contacts", number, "email") for level in
                      (("devices", target.index), ("homes", target.home_key), ("defaults",))]
            where = next((p for p in places if p in loaded.doc.marks), places[0])
            found.setdefault(where, loaded.doc.problem(where, (
                f"{contact.name} would get no e-mail from device '{target.id}': it has no family.smtp (the city's "
                f"mail relay); add family: {{smtp: {{host: ..., sender: ...}}}} under defaults or the home, or "
                f"reach {contact.name} by ntfy or webhook")))
    return list(found.values())


def secret_file_modes(loaded: Loaded, base_dir: Path | None = None) -> list[Problem]:
    """A secrets file that other users of this computer can read (a Wi-Fi password, the Jitsi app secret)."""
    base_dir = Path(loaded.file).parent if base_dir is None else base_dir
    places: dict[tuple, str] = {}
    for key, home in loaded.model.homes.items():
        if home.wifi is not None and home.wifi.psk_file is not None:
            places[("homes", key, "wifi", "psk_file")] = home.wifi.psk_file
        if home.jitsi_token is not None and home.jitsi_token.secret_file is not None:
            places[("homes", key, "jitsi_token", "secret_file")] = home.jitsi_token.secret_file
    token = loaded.model.defaults.jitsi_token
    if token is not None and token.secret_file is not None:
        places[("defaults", "jitsi_token", "secret_file")] = token.secret_file
    out = []
    for where, name in places.items():
        path = base_dir / name
        try:
            mode = path.stat().st_mode
        except OSError:
            continue  # missing or unreadable: read_secrets says so
        if stat.S_ISREG(mode) and mode & 0o077:
            out.append(loaded.doc.problem(where, (
                f"the secrets file {path} can be read by other users of this computer (mode "
                f"{stat.S_IMODE(mode):04o}): run 'chmod 600 {path}'")))
    return out


def password_spaces(loaded: Loaded, psks: dict[str, str]) -> list[Problem]:
    """A Wi-Fi password with a space at either end: allowed in WPA, but nearly always a copying slip."""
    out = []
    for key, value in psks.items():
        if value != value.strip(" "):
            wifi = loaded.model.homes[key].wifi
            source = "psk_env" if wifi.psk_env is not None else "psk_file"
            out.append(loaded.doc.problem(("homes", key, "wifi", source), (
                "the Wi-Fi password begins or ends with a space; the devices will use it with the space, so unless "
                "the router's password has it too, remove it")))
    return out


def list_warnings(loaded: Loaded) -> list[Problem]:
    """Every warning that needs no secret, in file order."""
    found = staff_pin(loaded) + cut_values(loaded) + email_without_smtp(loaded) + secret_file_modes(loaded)
    return sorted(found, key=lambda p: (p.line, p.col))


__all__ = ["list_warnings", "password_spaces", "staff_pin", "cut_values", "email_without_smtp", "secret_file_modes"]
