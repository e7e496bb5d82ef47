"""Token login through the Ansible role: the controller mints each device's token, the host gets the token and
never the app secret, and no output of the playbook shows either (inventory and extract: test_tokens.py here too)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from provisioning.cli import main
from provisioning.devicelist import JWT_FILE, load_text
from provisioning.inventory import HOST_TOKEN_ENV, build_inventory, extract_device
from tests.requirements import need_tool

from .helpers import VALID

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = ROOT / "provisioning" / "ansible" / "site.yml"
BIN = Path(sys.executable).parent
PSK = "Geheim;Passwort 42"
SECRET = "Stadt-Geheimnis; app secret 0123456789"
TOKEN_LIST = VALID.replace("  server: https://konferenz.example.org\n",
                           "  server: https://konferenz.example.org\n"
                           "  jitsi_token: {app_id: palim-city, secret_env: CITY_JITSI_SECRET}\n", 1)


def test_the_inventory_marks_token_hosts_and_the_extract_carries_no_secret():
    loaded = load_text(TOKEN_LIST, "devices.yaml")
    hosts = build_inventory(loaded, ["palim-provision"])["all"]["children"]["palim_kiosks"]["children"]["home_ebh"]
    assert hosts["hosts"]["ebh-01"]["palim_jitsi_token"] is True
    text = extract_device(loaded, "ebh-01")
    assert "CITY_JITSI_SECRET" not in text and "secret" not in text
    one = load_text(text, "extract.yaml")
    assert one.model.defaults.jitsi_token.token_env == HOST_TOKEN_ENV
    assert one.targets[0].config.jwt_file == JWT_FILE


def _env(tmp_path: Path, **extra: str) -> dict:
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_LOCAL_TEMP=str(tmp_path / ".ansible-tmp"), ANSIBLE_REMOTE_TEMP=str(tmp_path / ".ansible-tmp"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_HOME=str(tmp_path / ".ansible"),
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_CONFIG=str(config), PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.fixture
def fleet(tmp_path, capsys):
    listing = tmp_path / "devices.yaml"
    listing.write_text(TOKEN_LIST)
    assert main(["inventory", str(listing)]) == 0
    (tmp_path / "inventory.yml").write_text(capsys.readouterr().out)
    return tmp_path


def _playbook(fleet: Path, *extra: str, secret: str | None = SECRET) -> subprocess.CompletedProcess:
    variables = {"palim_root": f"{fleet}/stage/{{{{ inventory_hostname }}}}",
                 "palim_provision_command": [sys.executable, "-m", "provisioning.cli"],
                 "ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    env = _env(fleet, EBH_PSK=PSK, **({"CITY_JITSI_SECRET": secret} if secret is not None else {}))
    return subprocess.run([need_tool("ansible-playbook", pip="ansible-core", also_in=BIN), "-i",
                           str(fleet / "inventory.yml"), str(PLAYBOOK), "-e", json.dumps(variables),
                           "--limit", "ebh-01", *extra], capture_output=True, text=True, env=env, timeout=120,
                          cwd=fleet)


def test_the_role_writes_the_token_and_shows_neither_token_nor_secret(fleet):
    for proc in (_playbook(fleet, "--check", "--diff"), _playbook(fleet, "--diff", "-v")):
        everything = proc.stdout + proc.stderr
        assert proc.returncode == 0, everything
        assert SECRET not in everything and "eyJ" not in everything
        assert f"+++ b{JWT_FILE}" in everything
    written = fleet / "stage/ebh-01" / JWT_FILE.lstrip("/")
    token = written.read_text().strip()
    assert token.startswith("eyJ") and token not in everything
    assert f"jwt_file: {JWT_FILE}" in (fleet / "stage/ebh-01/etc/palim-kiosk/kiosk.yaml").read_text()
    again = _playbook(fleet, "--diff")
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout


def test_without_the_app_secret_the_role_stops_with_a_clear_message(fleet):
    proc = _playbook(fleet, "--check", secret=None)
    assert proc.returncode != 0
    assert "no login token for ebh-01: run 'palim-provision tokens" in proc.stdout
    assert not (fleet / "stage/ebh-01").exists() or not any((fleet / "stage/ebh-01").rglob("jwt"))
