"""Issue 16, item 1: nothing secret or secret-derived is ever shown, and what detects drift is keyed.

The PIN hash, the Wi-Fi password and every hash of a secret file are masked in apply's text, its dry run, its
--json report (which the Ansible role shows) and its diffs, old lines and new alike; the manifest on the device holds
an HMAC with the device's own key (drift.key, 0600, inside the root), never a bare SHA-256 of a secret file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import stat

import pytest

from kiosk.staff import hash_pin
from provisioning.apply import DRIFT_KEY, apply_bundle, drift_key
from provisioning.bundle import MANIFEST, render_bundle, write_bundle
from provisioning.cli import main
from provisioning.devicelist import load_text

from .helpers import VALID

OLD_PSK, NEW_PSK = "erstes-passwort", "zweites-passwort"
KEYFILE = "/etc/NetworkManager/system-connections/palim-ebh.nmconnection"
CONFIG = "/etc/palim-kiosk/kiosk.yaml"


@pytest.fixture(scope="module")
def hashes() -> tuple[str, str]:
    return hash_pin("730518"), hash_pin("940267")


def _listing(pin_hash: str) -> str:
    return VALID.replace("  server: https://konferenz.example.org\n",
                         f"  server: https://konferenz.example.org\n  admin_pin_hash: '{pin_hash}'\n")


def _forbidden(root, pin_hashes, psks) -> list[str]:
    """Every string that must never be shown: hashes and their parts, passwords, hashes of the secret files."""
    out = list(psks)
    for pin_hash in pin_hashes:
        out += [pin_hash, *pin_hash.split("$")[4:]]
    for path in (KEYFILE, CONFIG):
        if (root / path.lstrip("/")).exists():
            out.append(hashlib.sha256((root / path.lstrip("/")).read_bytes()).hexdigest())
    key = root / DRIFT_KEY.lstrip("/")
    if key.exists():
        out += [key.read_bytes().hex()]
    return out


def _apply(tmp_path, monkeypatch, capsys, text: str, psk: str, *extra: str) -> tuple[int, str, str]:
    listing = tmp_path / "devices.yaml"
    listing.write_text(text)
    monkeypatch.setenv("EBH_PSK", psk)
    code = main(["apply", str(listing), "--device", "ebh-01", "--root", str(tmp_path / "root"), *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("mode", [["--dry-run"], ["--dry-run", "--json"], [], ["--json"]])
def test_a_changed_pin_hash_and_password_never_show_old_or_new(tmp_path, monkeypatch, capsys, hashes, mode):
    old_hash, new_hash = hashes
    (tmp_path / "root").mkdir()
    assert _apply(tmp_path, monkeypatch, capsys, _listing(old_hash), OLD_PSK)[0] == 0
    forbidden = _forbidden(tmp_path / "root", hashes, (OLD_PSK, NEW_PSK))  # before the change: the old ones
    code, out, err = _apply(tmp_path, monkeypatch, capsys, _listing(new_hash), NEW_PSK, *mode)
    assert code == 0, err
    shown = out + err
    forbidden += _forbidden(tmp_path / "root", hashes, ())  # after it: the new ones
    assert not [secret for secret in forbidden if secret in shown]
    assert not re.search(r"[0-9a-f]{64}", shown)  # no hash at all: the manifest's are masked too
    diff = json.loads(out)["diff"] if "--json" in mode else out
    assert "-admin_pin_hash: <hidden, old>" in diff and "+admin_pin_hash: <hidden, new>" in diff
    assert "-psk=<hidden, old>" in diff and "+psk=<hidden, new>" in diff


def test_a_first_dry_run_shows_the_config_without_the_pin_hash(tmp_path, monkeypatch, capsys, hashes):
    (tmp_path / "root").mkdir()
    code, out, _ = _apply(tmp_path, monkeypatch, capsys, _listing(hashes[0]), OLD_PSK, "--dry-run")
    assert code == 0 and "+admin_pin_hash: <hidden, new>" in out
    assert "scrypt$16384" not in out and hashes[0].split("$")[4] not in out


def test_an_old_manifest_with_bare_hashes_is_masked_in_the_diff(tmp_path, hashes):
    # What the code before this change wrote: a bare SHA-256 of the Wi-Fi file, guessable offline.
    target = load_text(_listing(hashes[0]), "devices.yaml").targets[0]
    bundle = render_bundle(target, OLD_PSK)
    apply_bundle(bundle, tmp_path)
    manifest = tmp_path / MANIFEST.lstrip("/")
    old = json.loads(manifest.read_text())
    bare = hashlib.sha256((tmp_path / KEYFILE.lstrip("/")).read_bytes()).hexdigest()
    for entry in old["files"]:
        entry.pop("hmac_sha256", None)
        entry["sha256"] = hashlib.sha256((tmp_path / entry["path"].lstrip("/")).read_bytes()).hexdigest()
    manifest.write_text(json.dumps(old, indent=2) + "\n")
    report = apply_bundle(render_bundle(target, NEW_PSK), tmp_path, dry_run=True)
    text = report.diff_text() + "\n".join(report.lines()) + json.dumps(report.as_json())
    assert bare in manifest.read_text() and bare not in text
    assert '-      "sha256": "<hidden, old>"\n' in report.diff_text() and '"secret": true' in report.diff_text()


def test_the_manifest_holds_a_keyed_hash_of_secret_files_and_the_key_stays_in_the_root(tmp_path, hashes):
    target = load_text(_listing(hashes[0]), "devices.yaml").targets[0]
    apply_bundle(render_bundle(target, OLD_PSK), tmp_path)
    key_file = tmp_path / DRIFT_KEY.lstrip("/")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 32
    key = drift_key(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST.lstrip("/")).read_text())
    entries = {e["path"]: e for e in manifest["files"]}
    for path in (KEYFILE, CONFIG):
        content = (tmp_path / path.lstrip("/")).read_bytes()
        assert "sha256" not in entries[path] and entries[path]["secret"] is True
        assert entries[path]["hmac_sha256"] == hmac.new(key, content, hashlib.sha256).hexdigest()
    plain = tmp_path / "etc/hostname"
    assert entries["/etc/hostname"]["sha256"] == hashlib.sha256(plain.read_bytes()).hexdigest()
    # The key stays: a second apply changes nothing, a new device list keeps the same key.
    again = apply_bundle(render_bundle(target, OLD_PSK), tmp_path)
    assert again.changed == [] and drift_key(tmp_path) == key


def test_a_rendered_bundle_records_no_hash_of_a_secret_file(tmp_path, hashes):
    target = load_text(_listing(hashes[0]), "devices.yaml").targets[0]
    bundle = render_bundle(target, OLD_PSK)
    manifest = json.loads(write_bundle(bundle, tmp_path)[-1].read_text())
    secret = {f.path: f for f in bundle.files if f.secrets}
    assert set(secret) == {KEYFILE, CONFIG}
    for entry in manifest["files"]:
        if entry["path"] in secret:
            assert entry == {"path": entry["path"], "mode": entry["mode"], "owner": entry["owner"], "secret": True}
    shown = json.dumps(manifest)
    assert not [f for f in secret.values() if f.sha256 in shown]
