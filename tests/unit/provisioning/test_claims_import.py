"""palim-provision claims import: the stick's claims into the device list, from a folder or from a real FAT file
system (mkfs.vfat, mcopy) as a partition and inside a partitioned disk image; all or nothing, comments kept."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from provisioning.claims import CLAIMS_DIR, CLAIMS_LABEL, Claim
from provisioning.cli import EXIT_INVALID, EXIT_OK, main
from provisioning.devicelist import load_file

from .helpers import VALID

# ebh-03 and ebh-04 are the places the stick filled in (ebh-04 with an empty match:); the rest is VALID's.
LIST = VALID.replace("devices:\n", "devices:\n  # --- EBH: Zimmer 1-20 ---\n") + textwrap.indent(textwrap.dedent("""\
      - id: ebh-03                   # Fenster zum Park
        home: ebh
        resident: Anna Schmidt
        room: palim-v7kiy7ubbm5b2u4oq6k4vtnkpq
        label: 'Zimmer 3'
      - id: ebh-04
        home: ebh
        resident: Ömer Yıldız
        room: palim-7rzl6zwb5u5hvgpm457gq7sf6o
        match:
    """), "  ")
TOOLS = all(shutil.which(t) for t in ("mkfs.vfat", "mcopy", "mmd", "sfdisk"))
SERIAL_CLAIM = Claim("ebh-03", "ebh", ("aa:bb:cc:00:00:03",), "PF2ABCD", "SAMSUNG", "geeignet",
                     "2026-12-06T14:00:00Z")
MAC_CLAIM = Claim("ebh-04", "ebh", ("aa:bb:cc:00:00:04", "aa:bb:cc:00:00:14"), "To be filled by O.E.M.", None,
                  "geeignet", "2026-12-06T14:20:00Z")


@pytest.fixture
def listing(tmp_path) -> Path:
    path = tmp_path / "devices.yaml"
    path.write_text(LIST, encoding="utf-8")
    path.chmod(0o640)
    return path


def _folder(base: Path, *claims: Claim, extra: dict[str, str] | None = None) -> Path:
    folder = base / "stick" / CLAIMS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for claim in claims:
        (folder / claim.file_name).write_text(claim.to_json(), encoding="utf-8")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder.parent


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["claims", "import", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_list_as_written_lacks_exactly_the_two_matches():
    assert LIST.count("match:") == 3 and "# Fenster zum Park" in LIST


def test_import_writes_each_match_keeping_comments_order_mode_and_validates(capsys, listing, tmp_path):
    stick = _folder(tmp_path, SERIAL_CLAIM, MAC_CLAIM)
    code, out, err = _run(capsys, stick, listing)
    assert (code, err) == (EXIT_OK, "")
    text = listing.read_text(encoding="utf-8")
    lines = text.splitlines()
    serial_line = lines.index('    match: {serial: "PF2ABCD"}') + 1
    mac_line = lines.index('    match: {mac: "aa:bb:cc:00:00:04"}') + 1  # the serial is a placeholder
    assert out.splitlines() == [
        f"{listing}:{serial_line}: ebh-03: match {{serial: PF2ABCD}} (from {stick}/{CLAIMS_DIR}/ebh-03.json)",
        f"{listing}:{mac_line}: ebh-04: match {{mac: aa:bb:cc:00:00:04}} (from {stick}/{CLAIMS_DIR}/ebh-04.json)",
        f"imported 2 claim(s) into {listing}, 0 already there (the old file is devices.yaml.palim-bak)",
    ]
    # Only the two match lines changed: every comment, quote and the order of keys stay as written.
    old = LIST.splitlines()
    assert [line for line in lines if line not in old] == [lines[serial_line - 1], lines[mac_line - 1]]
    assert [line for line in old if line not in lines] == ["    match:"]
    assert lines[serial_line - 2] == "    room: palim-v7kiy7ubbm5b2u4oq6k4vtnkpq"  # after the room, as the example
    assert (listing.stat().st_mode & 0o777) == 0o640
    assert (tmp_path / "devices.yaml.palim-bak").read_text(encoding="utf-8") == LIST
    loaded = load_file(listing)  # what validate reads
    assert loaded.target("ebh-03").device.match.serial == "PF2ABCD"
    assert loaded.target("ebh-04").device.match.mac == "aa:bb:cc:00:00:04"
    assert main(["validate", str(listing)]) == EXIT_OK


@pytest.mark.skipif(os.geteuid() != 0 and not os.environ.get("CI"), reason="giving a file away needs root (CI is)")
def test_under_sudo_the_list_keeps_its_owner(capsys, listing, tmp_path):
    os.chown(listing, 1234, 5678)  # the admin's list, imported with sudo because the stick needs root to be read
    assert _run(capsys, _folder(tmp_path, SERIAL_CLAIM, MAC_CLAIM), listing)[0] == EXIT_OK
    st = listing.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1234, 5678, 0o640)


def test_a_second_import_changes_nothing_and_says_so(capsys, listing, tmp_path):
    stick = _folder(tmp_path, SERIAL_CLAIM, MAC_CLAIM)
    assert _run(capsys, stick, listing)[0] == EXIT_OK
    after = listing.read_bytes()
    stamp = listing.stat().st_mtime_ns
    code, out, err = _run(capsys, stick, listing)
    assert (code, err) == (EXIT_OK, "")
    assert "ebh-03: already imported: match {serial: PF2ABCD}" in out
    assert out.splitlines()[-1] == f"all 2 claim(s) were imported before; {listing} is unchanged"
    assert listing.read_bytes() == after and listing.stat().st_mtime_ns == stamp


def test_json_output(capsys, listing, tmp_path):
    stick = _folder(tmp_path, SERIAL_CLAIM, MAC_CLAIM)
    code, out, _ = _run(capsys, stick, listing, "--json")
    data = json.loads(out)
    assert code == EXIT_OK and data["changed"] is True and data["file"] == str(listing)
    lines = listing.read_text(encoding="utf-8").splitlines()
    assert data["devices"] == [
        {"device": "ebh-03", "match": {"serial": "PF2ABCD"}, "claim": f"{stick}/{CLAIMS_DIR}/ebh-03.json",
         "line": lines.index('    match: {serial: "PF2ABCD"}') + 1, "status": "added"},
        {"device": "ebh-04", "match": {"mac": "aa:bb:cc:00:00:04"}, "claim": f"{stick}/{CLAIMS_DIR}/ebh-04.json",
         "line": lines.index('    match: {mac: "aa:bb:cc:00:00:04"}') + 1, "status": "added"},
    ]
    code, out, _ = _run(capsys, stick, listing, "--json")
    data = json.loads(out)
    assert data["changed"] is False and {d["status"] for d in data["devices"]} == {"already imported"}


def test_crlf_and_a_byte_order_mark_are_kept(capsys, listing, tmp_path):
    listing.write_bytes(b"\xef\xbb\xbf" + LIST.replace("\n", "\r\n").encode("utf-8"))
    assert _run(capsys, _folder(tmp_path, SERIAL_CLAIM, MAC_CLAIM), listing)[0] == EXIT_OK
    data = listing.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b'match: {serial: "PF2ABCD"}\r\n' in data
    assert data.count(b"\n") == data.count(b"\r\n")


# --------------------------------------------------------------------------- refused: nothing is written


def _refused(capsys, listing, stick) -> list[str]:
    before = listing.read_bytes()
    code, out, err = _run(capsys, stick, listing)
    assert code == EXIT_INVALID and out == ""
    assert listing.read_bytes() == before and not listing.with_name("devices.yaml.palim-bak").exists()
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[-1].endswith("; nothing was changed")
    return lines[:-1]


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_another_devices_mac_is_refused_with_both_places(capsys, listing, tmp_path):
    stolen = Claim("ebh-03", "ebh", ("3c:52:82:1a:2b:3c",), None, None, "", "2026-12-06T14:00:00Z")
    stick = _folder(tmp_path, stolen, MAC_CLAIM)
    [problem] = _refused(capsys, listing, stick)
    mac_line = _line_of(LIST, '"3c:52:82:1a:2b:3c"')
    assert problem == (f"{listing}:{mac_line}:{LIST.splitlines()[mac_line - 1].index('3c') }:"
                       f" devices[0].match.mac: this mac is the match of device 'ebh-01', but "
                       f"{stick}/{CLAIMS_DIR}/ebh-03.json claims the laptop with it for device 'ebh-03' (line "
                       f"{_line_of(LIST, 'id: ebh-03')}): one laptop cannot be two places; remove the wrong match: "
                       f"or claim file")


def test_another_devices_serial_is_refused_without_regard_to_case(capsys, listing, tmp_path):
    stolen = Claim("ebh-03", "ebh", (), "5cg1234xyz", None, "", "2026-12-06T14:00:00Z")
    [problem] = _refused(capsys, listing, _folder(tmp_path, stolen))
    assert "devices[1].match.serial: this serial is the match of device 'ebh-02'" in problem
    assert f":{_line_of(LIST, '5CG1234XYZ')}:" in problem


def test_a_device_with_another_match_is_refused(capsys, listing, tmp_path):
    other = Claim("ebh-01", "ebh", ("aa:bb:cc:00:00:01",), None, None, "", "2026-12-06T14:00:00Z")
    stick = _folder(tmp_path, other)
    [problem] = _refused(capsys, listing, stick)
    assert problem.startswith(f"{listing}:{_line_of(LIST, '3c:52:82:1a:2b:3c')}:")
    assert (f"devices[0].match: device 'ebh-01' already has match mac 3c:52:82:1a:2b:3c, but "
            f"{stick}/{CLAIMS_DIR}/ebh-01.json claims it for another laptop (mac aa:bb:cc:00:00:01)") in problem


def test_a_device_not_in_the_list_and_a_wrong_home_are_refused(capsys, listing, tmp_path):
    gone = Claim("ebh-99", "ebh", ("aa:bb:cc:00:00:99",), None, None, "", "2026-12-06T14:00:00Z")
    moved = Claim("ebh-03", "sonnenhang", ("aa:bb:cc:00:00:03",), None, None, "", "2026-12-06T14:00:00Z")
    stick = _folder(tmp_path, gone, moved, MAC_CLAIM)
    problems = _refused(capsys, listing, stick)
    assert len(problems) == 2
    assert f"no device 'ebh-99' in the list, but {stick}/{CLAIMS_DIR}/ebh-99.json claims it" in problems[0]
    assert problems[0].startswith(f"{listing}:{_line_of(LIST, 'devices:')}:")
    assert (f"devices[2].home: device 'ebh-03' is in home 'ebh', but {stick}/{CLAIMS_DIR}/ebh-03.json installed it "
            f"for home 'sonnenhang'") in problems[1]


def test_one_laptop_claimed_twice_is_refused(capsys, listing, tmp_path):
    twin = Claim("ebh-04", "ebh", ("aa:bb:cc:00:00:03",), None, None, "", "2026-12-06T14:00:00Z")
    stick = _folder(tmp_path, SERIAL_CLAIM, twin)
    [problem] = _refused(capsys, listing, stick)
    assert "are the same laptop (mac aa:bb:cc:00:00:03) claimed for two devices ('ebh-03' and 'ebh-04')" in problem


@pytest.mark.parametrize("name, text, message", [
    ("broken.json", "{nope", "broken.json:1:1: not JSON (a claim the stick writes is JSON)"),
    ("ebh-05.json", json.dumps({"format": 9}), "ebh-05.json:1:1: claim format 9 is not 1"),
    ("big.json", " " * 20000, "big.json:1:1: larger than 16 KiB, not a claim"),
    ("latin1.json", "\udcff", None),  # written below as bytes
])
def test_a_bad_claim_file_refuses_the_whole_import(capsys, listing, tmp_path, name, text, message):
    stick = _folder(tmp_path, SERIAL_CLAIM, MAC_CLAIM)
    if message is None:
        (stick / CLAIMS_DIR / name).write_bytes(b'{"device": "\xff"}')
        message = "latin1.json:1:1: not UTF-8 text"
    else:
        (stick / CLAIMS_DIR / name).write_text(text)
    [problem] = _refused(capsys, listing, stick)
    assert problem.startswith(f"{stick}/{CLAIMS_DIR}/") and message in problem


def test_a_link_among_the_claims_is_not_followed(capsys, listing, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text(SERIAL_CLAIM.to_json())
    stick = _folder(tmp_path, MAC_CLAIM)
    (stick / CLAIMS_DIR / "ebh-03.json").symlink_to(secret)
    [problem] = _refused(capsys, listing, stick)
    assert "ebh-03.json:1:1: a link, not a claim file" in problem


def test_hidden_files_and_other_files_are_not_claims(capsys, listing, tmp_path):
    stick = _folder(tmp_path, SERIAL_CLAIM, MAC_CLAIM, extra={"._ebh-03.json": "\x00\x05Mac", "notes.txt": "x"})
    assert _run(capsys, stick, listing)[0] == EXIT_OK


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "nowhere", "does not exist (give the stick, e.g. /dev/sdb, or a folder with the claim files)"),
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "holds no claim files (*.json) and no palim-claims/"),
    (lambda tmp: tmp / "devices.yaml", "has no PALIMCLAIMS partition"),
])
def test_a_wrong_source_says_what_it_expected(capsys, listing, tmp_path, make, message):
    code, out, err = _run(capsys, make(tmp_path), listing)
    assert code == EXIT_INVALID and message in err and "Traceback" not in err
    assert listing.read_text(encoding="utf-8") == LIST


def test_a_stick_without_claims_changes_nothing(capsys, listing, tmp_path):
    (tmp_path / "stick" / CLAIMS_DIR).mkdir(parents=True)
    code, out, _ = _run(capsys, tmp_path / "stick", listing)
    assert code == EXIT_OK and "no claims on" in out and listing.read_text(encoding="utf-8") == LIST


def test_a_missing_or_broken_list_gets_validates_message(capsys, tmp_path):
    stick = _folder(tmp_path, SERIAL_CLAIM)
    code, _, err = _run(capsys, stick, tmp_path / "none.yaml")
    assert code == EXIT_INVALID and err.startswith(f"{tmp_path / 'none.yaml'}:1:1: the file does not exist")
    broken = tmp_path / "broken.yaml"
    broken.write_text(LIST.replace("server: https", "server: http"))
    code, _, err = _run(capsys, stick, broken)
    assert code == EXIT_INVALID and "defaults.server: must use https" in err
    assert broken.read_text() == LIST.replace("server: https", "server: http")


def test_a_full_disk_fails_cleanly(capsys, listing, tmp_path, monkeypatch):
    # A full disk cannot be made here (root writes anywhere in CI): write_atomic fails as it would.
    import errno

    from provisioning import yamledit

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(yamledit, "write_atomic", full)
    code, _, err = _run(capsys, _folder(tmp_path, SERIAL_CLAIM, MAC_CLAIM), listing)
    assert code == 1 and "No space left on device; the file is unchanged" in err
    assert listing.read_text(encoding="utf-8") == LIST


# --------------------------------------------------------------------------- a real FAT file system


def _fat(path: Path, *claims: Claim, label: str = CLAIMS_LABEL, folder: bool = True) -> Path:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run(["mkfs.vfat", "-C", "-n", label, str(path), "8192"], check=True, capture_output=True)
    if folder:
        subprocess.run(["mmd", "-i", str(path), f"::/{CLAIMS_DIR}"], check=True, env=env)
    for claim in claims:
        src = path.parent / claim.file_name
        src.write_text(claim.to_json(), encoding="utf-8")
        subprocess.run(["mcopy", "-i", str(path), str(src), f"::/{CLAIMS_DIR}/{claim.file_name}"], check=True,
                       env=env)
        src.unlink()
    return path


def _disk(tmp_path: Path, claims_part: Path) -> Path:
    """A GPT disk image as the stick has it: an EFI (FAT) partition first, then the claims partition."""
    disk = tmp_path / "stick.img"
    with open(disk, "wb") as handle:
        handle.truncate(40 * 1024 * 1024)
    subprocess.run(["sfdisk", "-q", str(disk)], input="label: gpt\nstart=2048, size=16384, type=uefi\n"
                   "start=18432, size=16384, type=linux\n", text=True, check=True)
    efi = _fat(tmp_path / "efi.img", label="EFI", folder=False)
    for part, sector in ((efi, 2048), (claims_part, 18432)):
        with open(disk, "r+b") as handle:
            handle.seek(sector * 512)
            handle.write(part.read_bytes())
    return disk


@pytest.mark.skipif(not TOOLS and not os.environ.get("CI"), reason="mtools and dosfstools (scripts/setup) missing")
def test_from_the_claims_partition_itself(capsys, listing, tmp_path):
    part = _fat(tmp_path / "claims.img", SERIAL_CLAIM, MAC_CLAIM)
    code, out, err = _run(capsys, part, listing)
    assert (code, err) == (EXIT_OK, "")
    assert f"ebh-03: match {{serial: PF2ABCD}} (from {part}:{CLAIMS_DIR}/ebh-03.json)" in out
    assert main(["validate", str(listing)]) == EXIT_OK


@pytest.mark.skipif(not TOOLS and not os.environ.get("CI"), reason="mtools and dosfstools (scripts/setup) missing")
def test_from_the_whole_stick_finds_the_labelled_partition(capsys, listing, tmp_path):
    disk = _disk(tmp_path, _fat(tmp_path / "claims.img", SERIAL_CLAIM, MAC_CLAIM))
    code, out, err = _run(capsys, disk, listing)
    assert (code, err) == (EXIT_OK, "")
    assert "imported 2 claim(s)" in out
    assert 'match: {mac: "aa:bb:cc:00:00:04"}' in listing.read_text(encoding="utf-8")


@pytest.mark.skipif(not TOOLS and not os.environ.get("CI"), reason="mtools and dosfstools (scripts/setup) missing")
def test_a_stick_with_a_broken_claim_refuses_all(capsys, listing, tmp_path):
    part = _fat(tmp_path / "claims.img", SERIAL_CLAIM)
    bad = tmp_path / "ebh-04.json"
    bad.write_text("{\"format\": 1, \"device\": \"ebh-04\"}")
    subprocess.run(["mcopy", "-i", str(part), str(bad), f"::/{CLAIMS_DIR}/ebh-04.json"], check=True,
                   env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    [problem] = _refused(capsys, listing, _disk(tmp_path, part))
    assert problem.startswith(f"{tmp_path / 'stick.img'}:{CLAIMS_DIR}/ebh-04.json:1:1: 'home' must be a text")


@pytest.mark.skipif(not TOOLS and not os.environ.get("CI"), reason="mtools and dosfstools (scripts/setup) missing")
def test_a_fat_image_that_is_not_the_stick(capsys, listing, tmp_path):
    code, _, err = _run(capsys, _fat(tmp_path / "other.img", label="USB", folder=False), listing)
    assert code == EXIT_INVALID and "has no PALIMCLAIMS partition with a palim-claims/ folder" in err


def test_a_place_no_laptop_took_stays_open(capsys, listing, tmp_path):
    code, out, _ = _run(capsys, _folder(tmp_path, SERIAL_CLAIM), listing)
    assert code == EXIT_OK and "imported 1 claim(s)" in out
    loaded = load_file(listing)  # ebh-04 keeps its empty match: an open place, still valid
    assert loaded.target("ebh-04").device.match is None
    assert loaded.target("ebh-03").device.match.serial == "PF2ABCD"


@pytest.mark.skipif(not TOOLS and not os.environ.get("CI"), reason="mtools and dosfstools (scripts/setup) missing")
def test_a_fresh_stick_has_no_claims_yet(capsys, listing, tmp_path):
    # As palim-provision image leaves it: the labelled partition, its folder made by the first install.
    code, out, _ = _run(capsys, _fat(tmp_path / "claims.img", folder=False), listing)
    assert code == EXIT_OK and "no claims on" in out and "yet" in out
    assert listing.read_text(encoding="utf-8") == LIST
