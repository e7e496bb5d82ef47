"""Issue 16, item 7: nothing from the device list is ever templated by Ansible.

Every value the inventory takes from the device list (or the command line) is tagged `!unsafe`, which ansible-core
keeps as plain text; the only Jinja left is the lookup this module writes itself for palim_wifi_psk. The test runs
the real `ansible` (from the venv) on a home named like a template that would run a command on the controller.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from provisioning.cli import main
from tests.requirements import need_tool

from .helpers import VALID

def _tool(name: str) -> str:
    return need_tool(name, pip="ansible-core", also_in=Path(sys.executable).parent)


def _env(tmp_path: Path, **extra: str) -> dict:
    config = tmp_path / "ansible.cfg"  # none of the machine's or the user's settings
    config.write_text("[defaults]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_LOCAL_TEMP=str(tmp_path / ".ansible-tmp"), ANSIBLE_HOME=str(tmp_path / ".ansible"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(config), **extra)
    return env


HOSTILE = "{{ lookup('pipe', 'touch $PALIM_PWNED') }}"


def _fleet(tmp_path, capsys):
    listing = tmp_path / "devices.yaml"
    text = VALID.replace("    name: EBH\n", f'    name: "{HOSTILE}"\n')
    text = text.replace("wifi: {ssid: EBH-Bewohner, psk_env: EBH_PSK}",
                        f"wifi: {{ssid: EBH-Bewohner, psk_file: \"{HOSTILE}.psk\"}}")
    listing.write_text(text)
    assert main(["inventory", str(listing)]) == 0
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(capsys.readouterr().out)
    return inventory


def test_a_home_name_with_jinja_runs_nothing_on_the_controller(tmp_path, capsys):
    inventory = _fleet(tmp_path, capsys)
    assert f"palim_home_name: !unsafe '{HOSTILE.replace(chr(39), chr(39) * 2)}'" in inventory.read_text()
    pwned = tmp_path / "pwned"
    env = _env(tmp_path, PALIM_PWNED=str(pwned))
    for var in ("palim_home_name", "palim_wifi_psk_source", "palim_device_list"):
        proc = subprocess.run([_tool("ansible"), "-i", str(inventory), "ebh-01", "-c", "local", "-m", "debug",
                               "-a", f"var={var}"], capture_output=True, text=True, env=env, cwd=tmp_path,
                              timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert not pwned.exists(), f"{var} ran a command on the controller"
    home = subprocess.run([_tool("ansible"), "-i", str(inventory), "ebh-01", "-c", "local", "-m", "debug",
                           "-a", "var=palim_home_name"], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    assert HOSTILE.replace("'", "\\'") in home.stdout or HOSTILE in home.stdout  # shown as the text it is
    assert not pwned.exists()


def test_the_password_lookup_of_a_file_named_like_a_template_runs_nothing(tmp_path, capsys):
    inventory = _fleet(tmp_path, capsys)
    (tmp_path / f"{HOSTILE}.psk").write_text("Sonnen-Schein-Passwort\n")
    pwned = tmp_path / "pwned"
    proc = subprocess.run([_tool("ansible"), "-i", str(inventory), "ebh-01", "-c", "local", "-m", "debug",
                           "-a", "var=palim_wifi_psk"], capture_output=True, text=True,
                          env=_env(tmp_path, PALIM_PWNED=str(pwned)), cwd=tmp_path, timeout=120)
    # ansible-core's file lookup will not open a path that looks like a template: a clear failure, and no command.
    assert not pwned.exists(), proc.stdout
    assert proc.returncode == 0 or "Unable to access the file" in proc.stdout + proc.stderr
