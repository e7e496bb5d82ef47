"""The other drop-ins beside palim's in sshd_config.d: sshd reads them in name order and keeps the first value of
each setting, so one that sorts before ours (cloud-init's 50-cloud-init.conf says `PasswordAuthentication yes`)
would win. Ours is named to sort first (00-palim-admin.conf); apply still names every other one, for a person to
look at."""

from __future__ import annotations

from pathlib import Path

# What earlier versions called palim's drop-in: it sorted after 50-cloud-init.conf.
FORMER_NAMES = ("palim-admin.conf",)


def other_dropins(folder: Path, ours: str) -> list[str]:
    """The names of the *.conf files sshd reads from this folder besides ours, in sshd's order."""
    try:
        names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".conf"))
    except OSError:
        return []
    return [name for name in names if name != ours]


def dropin_note(folder: Path, ours: str) -> str | None:
    """The apply report's line about the other drop-ins (None when there are none)."""
    others = other_dropins(folder, ours)
    if not others:
        return None
    former = [name for name in others if name in FORMER_NAMES]
    rest = [name for name in others if name not in FORMER_NAMES]
    parts = []
    if rest:
        parts.append(f"sshd also reads {', '.join(rest)} in {folder.name}/: {ours} sorts first and its settings win "
                     "(sshd keeps the first value), but check that they add no way in")
    if former:
        parts.append(f"{', '.join(former)} is palim's drop-in under its former name: delete it")
    return "; ".join(parts)
