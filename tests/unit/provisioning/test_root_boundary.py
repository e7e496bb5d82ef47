"""Issue 16, item 4: `apply --root` is a boundary. A symlink inside the staging root that leads out of it is never
followed: nothing is read or written outside, apply says which link, and exits 1 (the CLI's "failed while
applying"), having written nothing at all."""

from __future__ import annotations

import os

import pytest

from provisioning.cli import EXIT_FAILED, EXIT_OK, main

from .helpers import VALID

KEYFILE = "etc/NetworkManager/system-connections/palim-ebh.nmconnection"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    listing = tmp_path / "devices.yaml"
    listing.write_text(VALID)
    monkeypatch.setenv("EBH_PSK", "erstes-passwort")
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    return listing, root, outside


def _apply(listing, root, capsys, *extra: str) -> tuple[int, str]:
    code = main(["apply", str(listing), "--device", "ebh-01", "--root", str(root), *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


def _files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_symlinked_networkmanager_folder_is_not_followed(setup, capsys, dry_run):
    listing, root, outside = setup
    (root / "etc").mkdir()
    (root / "etc/NetworkManager").symlink_to(outside)
    (outside / "system-connections").mkdir()
    (outside / "system-connections/palim-ebh.nmconnection").write_text("[wifi-security]\npsk=host-secret\n")
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    code, shown = _apply(listing, root, capsys, *(["--dry-run"] if dry_run else []))
    assert code == EXIT_FAILED
    assert f"/etc/NetworkManager in {root} is a symlink to {outside}, which leads out of the root" in shown
    assert "nothing was read or written there" in shown and "written before the failure: nothing" in shown
    assert "host-secret" not in shown  # not even read for a diff
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == before
    assert _files(root) == ["etc", "etc/NetworkManager"]  # nothing else written either


def test_a_symlinked_backup_folder_gets_no_old_password(setup, capsys, monkeypatch):
    listing, root, outside = setup
    assert _apply(listing, root, capsys)[0] == EXIT_OK
    assert not (root / "var/backups/palim-provision").exists()  # nothing was replaced yet
    (root / "var/backups").mkdir(parents=True, exist_ok=True)
    (root / "var/backups/palim-provision").symlink_to(outside)
    old_keyfile = (root / KEYFILE).read_bytes()
    monkeypatch.setenv("EBH_PSK", "zweites-passwort")
    code, shown = _apply(listing, root, capsys)
    assert code == EXIT_FAILED
    assert "/var/backups/palim-provision in" in shown and "leads out of the root" in shown
    assert _files(outside) == []
    assert (root / KEYFILE).read_bytes() == old_keyfile  # nothing replaced either


def test_a_symlinked_var_or_an_absolute_link_to_the_hosts_etc_is_refused(setup, capsys):
    listing, root, outside = setup
    (root / "var").symlink_to(outside)
    code, shown = _apply(listing, root, capsys)
    assert code == EXIT_FAILED and f"/var in {root} is a symlink to {outside}" in shown
    assert _files(outside) == []
    (root / "var").unlink()
    (root / "etc").symlink_to("/etc")  # absolute: on the device it would be its own /etc, here it is the host's
    code, shown = _apply(listing, root, capsys, "--dry-run")
    assert code == EXIT_FAILED and f"/etc in {root} is a symlink to /etc" in shown


def test_a_symlink_loop_is_a_clear_error(setup, capsys):
    listing, root, _ = setup
    (root / "etc").symlink_to(root / "etc")
    code, shown = _apply(listing, root, capsys)
    assert code == EXIT_FAILED and f"/etc in {root} is a symlink loop" in shown
    assert "written before the failure: nothing" in shown


def test_a_symlink_that_stays_inside_the_root_is_followed(setup, capsys):
    listing, root, outside = setup
    (root / "etc").mkdir()
    (root / "srv/nm").mkdir(parents=True)
    (root / "etc/NetworkManager").symlink_to("../srv/nm")
    code, shown = _apply(listing, root, capsys)
    assert code == EXIT_OK, shown
    assert (root / "srv/nm/system-connections/palim-ebh.nmconnection").is_file()
    assert _files(outside) == []


def test_a_symlink_as_the_file_itself_is_replaced_not_followed(setup, capsys):
    listing, root, outside = setup
    (root / "etc").mkdir()
    (outside / "hostname").write_text("host\n")
    (root / "etc/hostname").symlink_to(outside / "hostname")
    code, shown = _apply(listing, root, capsys)
    assert code == EXIT_OK, shown
    assert (outside / "hostname").read_text() == "host\n"
    assert not (root / "etc/hostname").is_symlink() and (root / "etc/hostname").read_text() == "ebh-01\n"
    backup = next((root / "var/backups/palim-provision").glob("*/etc/hostname"))
    assert backup.is_symlink()  # the link itself was backed up, its target was not copied
    assert os.readlink(backup) == str(outside / "hostname")
