"""The device list's updates: block: validated (a public key file, an https repository, a ring) and rendered into
the device's apt source (signed-by), the pin (only palim-kiosk packages from the city's repository) and
unattended-upgrades' origins, read back by the real apt-config."""

from __future__ import annotations

import os
import subprocess

import pytest

from provisioning.bundle import render_bundle
from provisioning.devicelist import DeviceListError, load_file
from provisioning.updates import PIN_FILE, SOURCE_FILE
from tests.requirements import need_tool

from .helpers import VALID

UU_CONF = "/etc/apt/apt.conf.d/52palim-unattended-upgrades"


@pytest.fixture(scope="module")
def gpg_keys(tmp_path_factory) -> dict[str, bytes]:
    need_tool("gpg", apt="gpg")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Stadt <it@stadt.invalid>", "ed25519",
                    "sign", "never"], env=env, check=True, capture_output=True)
    out = {}
    for name, how in (("public", "--export"), ("secret", "--export-secret-keys")):
        out[name] = subprocess.run(["gpg", "--batch", "--armor", how], env=env, check=True,
                                   capture_output=True).stdout
    subprocess.run(["gpgconf", "--kill", "all"], env=env)  # the agent gpg started for this keyring
    return out


def _list(tmp_path, gpg_keys, updates: str, key: str = "public"):
    (tmp_path / "release-key.asc").write_bytes(gpg_keys[key])
    path = tmp_path / "devices.yaml"
    path.write_text(VALID.replace("defaults:\n", f"defaults:\n  updates: {updates}\n"))
    return path


def test_a_device_follows_its_ring_signed_by_the_city_key_only(tmp_path, gpg_keys):
    path = _list(tmp_path, gpg_keys, "{repo: 'https://it.stadt.example/palim-kiosk/', key_file: release-key.asc, "
                                     "ring: first}")
    files = {f.path: f for f in render_bundle(load_file(path).targets[0], "psk12345").files}
    assert files["/etc/apt/keyrings/palim-kiosk.asc"].content == gpg_keys["public"]
    assert files["/etc/apt/keyrings/palim-kiosk.asc"].mode == 0o644
    assert [line for line in files[SOURCE_FILE].content.decode().splitlines() if not line.startswith("#")] == [
        "deb [signed-by=/etc/apt/keyrings/palim-kiosk.asc] https://it.stadt.example/palim-kiosk first main"]
    pin = files[PIN_FILE].content.decode()
    assert "Package: *\nPin: release o=Palim\nPin-Priority: -1" in pin
    assert "Package: palim-kiosk palim-kiosk-*\nPin: release o=Palim\nPin-Priority: 500" in pin

    parts = tmp_path / "apt.conf.d"
    parts.mkdir()
    (parts / "52palim-unattended-upgrades").write_bytes(files[UU_CONF].content)
    main = tmp_path / "apt.conf"
    main.write_text(f'Dir::Etc::main "/dev/null";\nDir::Etc::parts "{parts}/";\n')
    dump = subprocess.run([need_tool("apt-config", apt="apt"), "dump", "Unattended-Upgrade"], capture_output=True,
                          text=True, env={**os.environ, "APT_CONFIG": str(main)}).stdout
    assert 'Unattended-Upgrade::Origins-Pattern:: "origin=Palim,codename=first";' in dump.splitlines()


def test_without_updates_nothing_changes(tmp_path):
    path = tmp_path / "devices.yaml"
    path.write_text(VALID)
    files = {f.path: f for f in render_bundle(load_file(path).targets[0], "psk12345").files}
    assert SOURCE_FILE not in files and PIN_FILE not in files
    assert b"Palim" not in files[UU_CONF].content


@pytest.mark.parametrize("updates, key, message", [
    ("{repo: 'https://it.example/r', key_file: release-key.asc}", "secret", "holds a SECRET key"),
    ("{repo: 'https://it.example/r', key_file: nothing.asc}", "public", "cannot read"),
    ("{repo: 'http://it.example/r', key_file: release-key.asc}", "public", "must be the repository's https://"),
    ("{repo: 'https://it.example/r', key_file: release-key.asc, ring: beta}", "public", "first"),
    ("{repo: 'https://it.example/r', key_file: devices.yaml}", "public", "no OpenPGP public key"),
])
def test_a_wrong_updates_block_is_shown_where_it_is(tmp_path, gpg_keys, updates, key, message):
    path = _list(tmp_path, gpg_keys, updates, key)
    with pytest.raises(DeviceListError) as caught:
        load_file(path)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert message in text and f"{path}:3:" in text, text
    assert "PRIVATE KEY" not in text and "-----BEGIN" not in text


def test_the_unit_runs_the_current_release_and_tells_the_release_switch(tmp_path, gpg_keys):
    path = _list(tmp_path, gpg_keys, "{repo: 'https://it.stadt.example/palim-kiosk', key_file: release-key.asc}")
    bundle = render_bundle(load_file(path).targets[0], "psk12345")
    files = {f.path: f for f in bundle.files}
    unit = files["/etc/systemd/system/palim-kiosk.service"].content.decode()
    assert "/opt/palim-kiosk/current/bin/palim-kiosk --config" in unit
    assert ("ExecStopPost=+-/bin/sh -c 'if [ -e /run/palim-kiosk/switch-release ]; then exec "
            "/usr/local/sbin/palim-kiosk-release switch; fi; exec /usr/local/sbin/palim-kiosk-release stopped "
            "\"$$SERVICE_RESULT\"'") in unit
    switch = files["/usr/local/sbin/palim-kiosk-release"]
    # Debian's python3 runs it (the unit and the package's postinst call it by path), never a release's venv.
    assert switch.mode == 0o755 and switch.content.startswith(b'#!/usr/bin/python3\n"""The release switch')
    assert any("palim-kiosk" in cmd for step in bundle.steps for cmd in step.commands if "install" in cmd)
    (tmp_path / "palim-kiosk.service").write_text(unit)
    result = subprocess.run([need_tool("systemd-analyze", apt="systemd"), "verify",
                             str(tmp_path / "palim-kiosk.service")], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")


def test_the_ansible_host_gets_the_key_inline_and_the_same_files(tmp_path, gpg_keys):
    from provisioning.devicelist import load_text
    from provisioning.inventory import extract_device

    path = _list(tmp_path, gpg_keys, "{repo: 'https://it.stadt.example/palim-kiosk', key_file: release-key.asc}")
    loaded = load_file(path)
    text = extract_device(loaded, "ebh-01")
    assert "key_file" not in text and "BEGIN PGP PUBLIC KEY BLOCK" in text and "PRIVATE" not in text
    elsewhere = tmp_path / "host"
    elsewhere.mkdir()  # the host has the list only, not the files beside it
    host = load_text(text, str(elsewhere / "devices.yaml")).targets[0]
    mine = {f.path: f.content for f in render_bundle(loaded.targets[0], "psk12345").files}
    theirs = {f.path: f.content for f in render_bundle(host, "psk12345").files}
    for name in ("/etc/apt/keyrings/palim-kiosk.asc", SOURCE_FILE, PIN_FILE):
        assert theirs[name] == mine[name], name


def test_a_device_without_gpg_takes_an_armored_public_key_and_refuses_a_secret_one(tmp_path, gpg_keys, monkeypatch):
    from provisioning import updates

    monkeypatch.setattr(updates.shutil, "which", lambda name: None)  # a device: apt's gpgv, no gpg
    (tmp_path / "pub.asc").write_bytes(gpg_keys["public"])
    (tmp_path / "sec.asc").write_bytes(gpg_keys["secret"])
    assert updates.read_public_key(tmp_path, "pub.asc") == gpg_keys["public"]
    with pytest.raises(ValueError, match="SECRET"):
        updates.read_public_key(tmp_path, "sec.asc")
