#!/usr/bin/python3
"""The release switch: a new kiosk release proves itself, or the device goes back to the one before by itself.

Runs as root from the kiosk unit and the release packages (apply installs this very file as
/usr/local/sbin/palim-kiosk-release), under Debian's python3 and the standard library only: it must work when the
release it judges cannot even import. /opt/palim-kiosk/current points at the release that runs; its state (which
release is good, which is being tried, which are held, the incidents) is /var/lib/palim-kiosk-release/state.json,
readable by the kiosk for its service screen and metrics.

  installed V   the package palim-kiosk V was installed (its postinst): V becomes the candidate, unless held
  switch        the kiosk quit at a quiet moment for the candidate (the unit's ExecStopPost): try it
  stopped R     the kiosk stopped with systemd's $SERVICE_RESULT R: a failure of the tried release counts
  verdict       90 s after the switch: no READY=1 by now is a rollback
  settle        10 minutes after the switch: a release still up is good; releases other than the last two go
  status        print the state (which release runs, which is held, the incidents)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

RELEASES = "/opt/palim-kiosk/releases"
CURRENT = "/opt/palim-kiosk/current"
STATE = "/var/lib/palim-kiosk-release/state.json"
SELF = "/usr/local/sbin/palim-kiosk-release"
UNIT = "palim-kiosk.service"
READY_WITHIN_S = 90
FAILURES = 3  # failures of a tried release within FAILURE_WINDOW_S roll it back
FAILURE_WINDOW_S = 600
# A tried release that is up this long after the switch is good; the whole-appliance test shortens it
# (PALIM_RELEASE_SETTLE_S in a test-only drop-in), a device never does.
SETTLE_S = int(os.environ.get("PALIM_RELEASE_SETTLE_S", "600"))
KEEP_INCIDENTS = 20


def version_key(version: str) -> tuple[int, ...]:
    """Release versions are digits and dots (palim-provision release refuses others)."""
    return tuple(int(part) for part in version.split("."))


def newer(one: str | None, other: str | None) -> bool:
    return one is not None and (other is None or version_key(one) > version_key(other))


def empty_state() -> dict:
    return {"current": None, "good": None, "previous": None, "candidate": None, "trying": None, "held": [],
            "rollbacks_total": 0, "incidents": []}


# --------------------------------------------------------------------------- decisions (pure: state in, state out)


def on_installed(state: dict, version: str) -> tuple[dict, list]:
    """A release package was installed. The first one simply runs; a newer one waits for a quiet moment."""
    state = dict(state)
    if state["current"] is None:
        state.update(current=version, good=version)
        return state, [("link", version)]
    if newer(version, state["current"]) and version not in state["held"] and newer(version, state["candidate"]):
        state["candidate"] = version
    return state, []


def on_switch(state: dict, now: float, monotonic: float) -> tuple[dict, list]:
    """The kiosk quit at a quiet moment: run the candidate, and judge it after 90 s and after 10 minutes."""
    state = dict(state)
    version = state["candidate"]
    if version is None or version in state["held"] or not newer(version, state["current"]) or state["trying"]:
        return state, []
    state.update(candidate=None, current=version,
                 trying={"version": version, "from": state["current"], "since": now, "since_monotonic": monotonic,
                         "failures": []})
    return state, [("link", version), ("schedule", READY_WITHIN_S, "verdict"), ("schedule", SETTLE_S, "settle")]


def on_stopped(state: dict, now: float, result: str) -> tuple[dict, list]:
    """The kiosk stopped; a failure (anything but a clean exit) of a tried release counts, 3 in 10 minutes roll back."""
    trying = state["trying"]
    if trying is None or result == "success":
        return state, []
    failures = [t for t in trying["failures"] if now - t < FAILURE_WINDOW_S] + [now]
    state = dict(state, trying=dict(trying, failures=failures))
    if len(failures) >= FAILURES:
        return rollback(state, now, f"stopped {len(failures)} times within {FAILURE_WINDOW_S // 60} minutes "
                                    f"({result})")
    return state, []


def on_verdict(state: dict, now: float, ready: bool) -> tuple[dict, list]:
    if state["trying"] is None or ready:
        return state, []
    return rollback(state, now, f"not ready (READY=1) within {READY_WITHIN_S} s")


def on_settle(state: dict, now: float, installed: list[str]) -> tuple[dict, list]:
    """Still up 10 minutes after the switch: the release is good; all but it and the one before go."""
    trying = state["trying"]
    if trying is None or now - trying["since"] < SETTLE_S:
        return state, []
    state = dict(state, good=trying["version"], previous=trying["from"], trying=None)
    keep = {state["good"], state["previous"], state["candidate"]}
    return state, [("purge", version) for version in sorted(installed, key=version_key) if version not in keep]


def rollback(state: dict, now: float, reason: str) -> tuple[dict, list]:
    """Back to the release the tried one replaced, which is held from now on; the incident is recorded."""
    trying = state["trying"]
    incident = {"at": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds"),
                "version": trying["version"], "back_to": trying["from"], "reason": reason}
    state = dict(state, current=trying["from"], trying=None, held=sorted({*state["held"], trying["version"]},
                                                                         key=version_key),
                 rollbacks_total=state["rollbacks_total"] + 1,
                 incidents=(state["incidents"] + [incident])[-KEEP_INCIDENTS:])
    return state, [("link", trying["from"]), ("restart",)]


# --------------------------------------------------------------------------- the device


def read_state(path: Path) -> dict:
    try:
        return {**empty_state(), **json.loads(path.read_text(encoding="utf-8"))}
    except (OSError, ValueError):
        return empty_state()


def write_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.chmod(0o644)  # the kiosk reads it (service screen, metrics); only root writes
    os.replace(tmp, path)


def running_release(prefix: str = sys.prefix) -> str | None:
    """The release this Python runs from (/opt/palim-kiosk/releases/V), None outside a release."""
    real = Path(os.path.realpath(prefix))
    return real.name if str(real.parent) == RELEASES else None


def _installed(root: Path) -> list[str]:
    folder = root / RELEASES.lstrip("/")
    return sorted((p.name for p in folder.iterdir() if p.is_dir()), key=version_key) if folder.is_dir() else []


def _ready(since_monotonic: float) -> bool:
    """Did the kiosk unit become active (READY=1) after the switch? systemd's own timestamps say so."""
    show = subprocess.run(["systemctl", "show", "-P", "ActiveEnterTimestampMonotonic", UNIT], capture_output=True,
                          text=True).stdout.strip()
    state = subprocess.run(["systemctl", "is-active", UNIT], capture_output=True, text=True).stdout.strip()
    return state == "active" and show.isdigit() and int(show) / 1e6 >= since_monotonic


def act(actions: list, root: Path) -> None:
    for action in actions:
        if action[0] == "link":
            current = root / CURRENT.lstrip("/")
            tmp = current.with_name(".current.tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(f"releases/{action[1]}")
            os.replace(tmp, current)
        elif action[0] == "restart":
            subprocess.run(["systemctl", "--no-block", "restart", UNIT], check=False)
        elif action[0] == "schedule":
            subprocess.run(["systemd-run", "--quiet", "--collect", f"--on-active={action[1]}",
                            f"--setenv=PALIM_RELEASE_SETTLE_S={SETTLE_S}",
                            f"--unit=palim-kiosk-release-{action[2]}-{int(time.time())}", SELF, action[2]],
                           check=False)
        elif action[0] == "purge":  # after dpkg is done with whatever runs now (the lock)
            subprocess.run(["systemd-run", "--quiet", "--collect", "--on-active=30",
                            f"--unit=palim-kiosk-release-purge-{action[1]}",
                            "dpkg", "--purge", f"palim-kiosk-{action[1]}"], check=False)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(os.environ.get("PALIM_RELEASE_ROOT", "/"))
    path = root / STATE.lstrip("/")
    state, now = read_state(path), time.time()
    command = args[0] if args else "status"
    if command == "installed" and len(args) == 2:
        state, actions = on_installed(state, args[1])
    elif command == "switch":
        state, actions = on_switch(state, now, time.monotonic())
    elif command == "stopped":
        state, actions = on_stopped(state, now, args[1] if len(args) > 1 else os.environ.get("SERVICE_RESULT", ""))
    elif command == "verdict":
        trying = state["trying"]
        state, actions = on_verdict(state, now, trying is None or _ready(trying["since_monotonic"]))
    elif command == "settle":
        state, actions = on_settle(state, now, _installed(root))
    elif command == "status":
        print(json.dumps(state, indent=1, sort_keys=True))
        return 0
    else:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    write_state(path, state)
    act(actions, root)
    for incident in state["incidents"][-1:] if ("restart",) in actions else []:
        print(f"<3>release {incident['version']} rolled back to {incident['back_to']}: {incident['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
