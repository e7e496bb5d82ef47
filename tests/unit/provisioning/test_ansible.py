"""The fleet through Ansible: the generated inventory and the role, into staging roots (the inventory and the
one-device extract themselves: test_inventory.py)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.cli import main
from tests.requirements import need_tool

from .helpers import VALID

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = ROOT / "provisioning" / "ansible" / "site.yml"
BIN = Path(sys.executable).parent
PSK = "Geheim;Passwort 42"
PSK_FILE_VALUE = "Sonnen-Schein-Passwort"


def _tool(name: str) -> str:
    """An Ansible command: the venv's own first (its 'test' and 'fleet' extras bring ansible-core), then PATH."""
    return need_tool(name, pip="ansible-core", also_in=BIN)


def _env(tmp_path: Path, **extra: str) -> dict:
    config = tmp_path / "ansible.cfg"  # none of the machine's or the user's settings
    config.write_text("[defaults]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_LOCAL_TEMP=str(tmp_path / ".ansible-tmp"), ANSIBLE_REMOTE_TEMP=str(tmp_path / ".ansible-tmp"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_HOME=str(tmp_path / ".ansible"),
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_CONFIG=str(config), **extra)
    return env


def _inventory(capsys, path) -> str:
    assert main(["inventory", str(path)]) == 0
    return capsys.readouterr().out


# --------------------------------------------------------------------------- the real thing: ansible-playbook


@pytest.fixture
def fleet(tmp_path, capsys):
    """A device list with a Wi-Fi home (environment), a secrets-file home and a cabled home; its inventory."""
    listing = tmp_path / "devices.yaml"
    listing.write_text(VALID + "  - id: ebh-03\n    home: other\n    resident: Hans Ohnenetz\n"
                               "    room: palim-v7kiy7ubbm5b2u4oq6k4vtnkpq\n    match: {mac: \"3c:52:82:1a:2b:5e\"}\n"
                               "  - id: sh-01\n    home: sonnenhang\n    resident: Gertrud Schneider\n"
                               "    room: palim-n2kf72ye7vcgrrvy445bk7axhw\n    match: {serial: \"PF1ABCDE\"}\n")
    text = listing.read_text().replace("devices:\n", "  other:\n    name: Kabelheim\n"
                                                    "  sonnenhang:\n    name: Sonnenhang\n"
                                                    "    wifi: {ssid: SH, psk_file: sh.psk}\n"
                                                    "devices:\n", 1)
    listing.write_text(text)
    (tmp_path / "sh.psk").write_text(PSK_FILE_VALUE + "\n")
    (tmp_path / "inventory.yml").write_text(_inventory(capsys, listing))
    for host in ("ebh-01", "ebh-02", "ebh-03", "sh-01"):
        (tmp_path / "stage" / host).mkdir(parents=True)
    return tmp_path


def _playbook(fleet: Path, *extra: str, psk: str | None = PSK) -> subprocess.CompletedProcess:
    variables = {"palim_root": f"{fleet}/stage/{{{{ inventory_hostname }}}}",
                 "palim_provision_command": [sys.executable, "-m", "provisioning.cli"],
                 "ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    env = _env(fleet, **({"EBH_PSK": psk} if psk is not None else {}))
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([_tool("ansible-playbook"), "-i", str(fleet / "inventory.yml"), str(PLAYBOOK),
                           "-e", json.dumps(variables), *extra],
                          capture_output=True, text=True, env=env, timeout=120, cwd=fleet)


def _recap(output: str) -> dict[str, dict[str, int]]:
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+: (ok=.*)$", output, re.M)}


def test_ansible_inventory_graph_matches_homes_and_devices(fleet):
    proc = subprocess.run([_tool("ansible-inventory"), "-i", str(fleet / "inventory.yml"), "--graph"],
                          capture_output=True, text=True, env=_env(fleet), timeout=60)
    assert proc.returncode == 0, proc.stderr
    graph = {}
    group = None
    for line in proc.stdout.splitlines():
        name = line.split("--")[-1]
        if name.startswith("@home_"):
            group = name[1:].rstrip(":")
            graph[group] = []
        elif not name.startswith("@") and group:
            graph[group].append(name)
    assert graph == {"home_ebh": ["ebh-01", "ebh-02"], "home_other": ["ebh-03"], "home_sonnenhang": ["sh-01"]}
    assert "|--@palim_kiosks:" in proc.stdout


def test_playbook_check_diff_then_apply_then_nothing_to_do(fleet):
    check = _playbook(fleet, "--check", "--diff")
    assert check.returncode == 0, check.stdout + check.stderr
    everything = check.stdout + check.stderr
    for secret in (PSK, PSK_FILE_VALUE, "Geheim", "Sonnen-Schein"):
        assert secret not in everything
    assert "+++ b/etc/NetworkManager/system-connections/palim-ebh.nmconnection" in everything
    assert "+psk=<hidden" in everything and "+resident: Erna Müller" in everything
    assert "palim-other.nmconnection" not in everything  # the cabled home gets no Wi-Fi
    assert {h: r["changed"] for h, r in _recap(check.stdout).items()} == {"ebh-01": 1, "ebh-02": 1, "ebh-03": 1,
                                                                         "sh-01": 1}
    assert not any(list((fleet / "stage" / h).iterdir()) for h in ("ebh-01", "sh-01"))  # check mode wrote nothing

    first = _playbook(fleet, "--diff")
    assert first.returncode == 0, first.stdout + first.stderr
    assert PSK not in first.stdout + first.stderr and PSK_FILE_VALUE not in first.stdout + first.stderr
    assert all(r["changed"] == 1 and r["failed"] == 0 for r in _recap(first.stdout).values())
    keyfile = fleet / "stage/sh-01/etc/NetworkManager/system-connections/palim-sonnenhang.nmconnection"
    assert f"psk={PSK_FILE_VALUE}\n" in keyfile.read_text()  # the secrets file's line break is not in the password
    assert "device_id: ebh-02" in (fleet / "stage/ebh-02/etc/palim-kiosk/kiosk.yaml").read_text()

    second = _playbook(fleet, "--diff")
    assert second.returncode == 0, second.stdout + second.stderr
    assert all(r["changed"] == 0 and r["ok"] > 0 for r in _recap(second.stdout).values()), second.stdout
    assert len(_recap(second.stdout)) == 4


def test_playbook_without_the_password_stops_with_a_clear_message(fleet):
    proc = _playbook(fleet, "--check", "--limit", "home_ebh", psk=None)
    assert proc.returncode != 0
    assert "no Wi-Fi password for ebh: set the environment variable EBH_PSK" in proc.stdout
    assert "censored" not in proc.stdout


def test_playbook_and_install_tasks_pass_the_syntax_check(fleet):
    proc = subprocess.run([_tool("ansible-playbook"), "-i", str(fleet / "inventory.yml"), str(PLAYBOOK),
                           "--syntax-check", "-e", "palim_install_project=true"],
                          capture_output=True, text=True, env=_env(fleet), timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _readme_recipe(fleet: Path, *extra: str) -> subprocess.CompletedProcess:
    """The README's staging recipe as written: only palim_root and ansible_connection, nothing else set by hand.

    PATH holds no palim-provision and the roots do not exist yet: the role must use the controller's own
    palim-provision and Python, and create the roots.
    """
    env = _env(fleet, EBH_PSK=PSK)
    env["PYTHONPATH"] = str(ROOT)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    return subprocess.run([_tool("ansible-playbook"), "-i", str(fleet / "inventory.yml"), str(PLAYBOOK),
                           "-e", f"palim_root={fleet}/staging/{{{{ inventory_hostname }}}}",
                           "-e", "ansible_connection=local", "--limit", "home_ebh", *extra],
                          capture_output=True, text=True, env=env, timeout=120, cwd=fleet)


def test_the_readme_staging_recipe_works_as_written(fleet):
    staging = fleet / "staging"
    check = _readme_recipe(fleet, "--check", "--diff")
    everything = check.stdout + check.stderr
    assert check.returncode == 0, everything
    assert not staging.exists()  # check mode creates nothing, not even the roots
    assert "+++ b/etc/palim-kiosk/kiosk.yaml" in everything and "+resident: Erna Müller" in everything
    assert "discovered Python interpreter" not in everything  # the controller's Python, no discovery
    assert {h: r["changed"] for h, r in _recap(check.stdout).items()} == {"ebh-01": 1, "ebh-02": 1}

    first = _readme_recipe(fleet)
    assert first.returncode == 0, first.stdout + first.stderr
    assert {h: (r["changed"], r["failed"]) for h, r in _recap(first.stdout).items()} == {"ebh-01": (1, 0),
                                                                                        "ebh-02": (1, 0)}
    assert oct((staging / "ebh-01").stat().st_mode & 0o777) == "0o755"
    keyfile = staging / "ebh-01/etc/NetworkManager/system-connections/palim-ebh.nmconnection"
    assert f"psk={PSK}\n" in keyfile.read_text()

    second = _readme_recipe(fleet)
    assert second.returncode == 0, second.stdout + second.stderr
    assert {h: r["changed"] for h, r in _recap(second.stdout).items()} == {"ebh-01": 0, "ebh-02": 0}

    config = staging / "ebh-02/etc/palim-kiosk/kiosk.yaml"
    config.write_text(config.read_text().replace("resident: Karl Bauer", "resident: Somebody Else"))
    drift = _readme_recipe(fleet, "--check", "--diff")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert "-resident: Somebody Else" in drift.stdout and "+resident: Karl Bauer" in drift.stdout
    assert {h: r["changed"] for h, r in _recap(drift.stdout).items()} == {"ebh-01": 0, "ebh-02": 1}
    assert "Somebody Else" in config.read_text()  # check mode left the drift alone

    for proc in (check, first, second, drift):
        assert "Geheim" not in proc.stdout + proc.stderr


def test_a_real_root_still_uses_the_devices_venv(fleet):
    proc = subprocess.run([_tool("ansible"), "-i", str(fleet / "inventory.yml"), "ebh-01", "-m", "debug",
                           "-a", "var=palim_provision_command", "-e", "@" + str(ROOT / "provisioning/ansible/roles"
                                                                                   "/palim_kiosk/defaults/main.yml")],
                          capture_output=True, text=True, env=_env(fleet), timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "/opt/palim-kiosk/venv/bin/palim-provision" in proc.stdout


def test_a_stale_inventory_says_so_in_words(fleet):
    """The inventory was made before a device left the list: the run says which device and how to make a new
    inventory, not the extract command's JSON."""
    listing = fleet / "devices.yaml"
    text = listing.read_text()
    start = text.index("  - id: ebh-03\n")
    listing.write_text(text[:start] + text[text.index("  - id: sh-01\n"):])
    proc = _playbook(fleet, "--limit", "ebh-03")
    assert proc.returncode != 0
    assert (f"{listing}: no device with id 'ebh-03' (known: ebh-01, ebh-02, sh-01) -- the inventory is older than the "
            f"device list: make it again with palim-provision inventory {listing} > inventory.yml") in proc.stdout
    assert '"cmd"' not in proc.stdout and "non-zero return code" not in proc.stdout
