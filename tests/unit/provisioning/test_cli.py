"""The command line: argument parsing, help with examples, exit codes 0/1/2, plain-words messages for wrong input.

Each command's work is tested in the module that does it; here only what the command line adds.
"""

import json
import os
import re
from pathlib import Path

import pytest

from provisioning.commands import validate as validate_command
from provisioning.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, main

from .helpers import VALID

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "provisioning" / "examples" / "devices.yaml"
PSK = "Geheim;Passwort 42"
NO_PIN = ("none of the 2 devices has a staff PIN (admin_pin_hash), so staff can never leave the kiosk on them (for "
          "the service screen, the Wi-Fi, a restart): make one with 'palim-kiosk --hash-pin' and write it as "
          "admin_pin_hash under defaults (or a home, or the device)")
COMMANDS = ["validate", "rooms", "render", "apply", "inventory", "hub-config", "cards", "check", "report", "extract",
            "server-check", "tokens", "settings", "image", "install", "helper-sheet", "claims", "release", "status"]


@pytest.fixture
def listing(tmp_path) -> Path:
    path = tmp_path / "devices.yaml"
    path.write_text(VALID)
    return path


def _exit(capsys, argv) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of argparse's own exits (help, usage errors)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


# --------------------------------------------------------------------------- parsing and help


def test_main_help_lists_every_command_with_examples_and_exit_codes(capsys):
    code, out, _ = _exit(capsys, ["--help"])
    assert code == 0
    listed = out.split("  COMMAND\n", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^    ([\w-]+)", listed, re.M) == COMMANDS  # so every command's --help is tested below
    assert "examples:" in out and "exit codes: 0 ok, 2 the input is wrong" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_commands_help_shows_examples_of_itself(capsys, command):
    code, out, err = _exit(capsys, [command, "--help"])
    assert (code, err) == (0, "")
    assert out.startswith(f"usage: palim-provision {command}")
    assert "examples:" in out and f"palim-provision {command}" in out.split("examples:", 1)[1]


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["validate"], "the following arguments are required: FILE"),
    (["render", "devices.yaml"], "the following arguments are required: --out"),
    (["extract", "devices.yaml"], "the following arguments are required: --device"),
    (["rooms", "--new", "drei"], "argument --new: invalid int value: 'drei'"),
    (["cards", "devices.yaml", "--out", "k.pdf", "--paper", "a3"], "argument --paper: invalid choice: 'a3'"),
    (["report", "logs", "--format", "xlsx"], "argument --format: invalid choice: 'xlsx'"),
])
def test_bad_arguments_exit_2_with_the_usage(capsys, argv, message):
    code, out, err = _exit(capsys, argv)
    assert code == EXIT_INVALID and out == ""
    assert err.startswith("usage: palim-provision") and message in err and "Traceback" not in err


# --------------------------------------------------------------------------- wrong input: a message, exit 2


@pytest.mark.parametrize("argv, message", [
    (["validate", "{tmp}/missing.yaml"], "missing.yaml:1:1: the file does not exist"),
    (["validate", "{tmp}"], "this is a directory, not a device list"),
    (["validate", "{tmp}/broken.yaml"], "broken.yaml:"),
    (["render", "{tmp}/missing.yaml", "--out", "{tmp}/out"], "the file does not exist"),
    (["apply", "{tmp}/missing.yaml", "--dry-run"], "the file does not exist"),
    (["cards", "{tmp}/missing.yaml", "--out", "{tmp}/k.pdf"], "the file does not exist"),
    (["cards", "{listing}", "--out", "{tmp}"], "is a directory; give a file name like"),
    (["cards", "{listing}", "--out", "{tmp}/nowhere/k.pdf"], "does not exist"),
    (["cards", "{listing}", "--out", "{tmp}/k.pdf", "--home", "nope"], "no home 'nope' (known: ebh)"),
    (["cards", "{listing}", "--out", "{tmp}/k.pdf", "--device", "nope"], "no device with id 'nope'"),
    (["rooms", "--new", "0"], "--new takes a number from 1 to 10000"),
    (["rooms"], "rooms needs FILE (or --new N)"),
    (["rooms", "{tmp}/missing.yaml", "--fill"], "the file does not exist"),
    (["check", "--sysfs-root", "{tmp}/nowhere"], "is not a directory"),
    (["check", "--sysfs-root", "{tmp}"], "holds neither proc/meminfo nor sys/class"),
])
def test_wrong_input_gives_a_message_and_no_traceback(tmp_path, capsys, listing, argv, message):
    (tmp_path / "broken.yaml").write_text("version: 1\nhomes: [\n")
    argv = [a.format(tmp=tmp_path, listing=listing) for a in argv]
    assert main(argv) == EXIT_INVALID
    captured = capsys.readouterr()
    assert message in captured.err, captured.err
    assert "Traceback" not in captured.err + captured.out


def test_several_problems_are_listed_then_counted(tmp_path, capsys):
    path = tmp_path / "devices.yaml"
    path.write_text(VALID.replace("home: ebh\n", "home: nowhere\n"))
    assert main(["validate", str(path), "--skip-secrets"]) == EXIT_INVALID
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith(f"{path}:") for line in err[:2])
    assert err[-1] == "2 problems; nothing was changed"


# --------------------------------------------------------------------------- commands


def test_validate_warns_about_a_password_that_is_not_here_and_strict_refuses(listing, capsys, monkeypatch):
    monkeypatch.delenv("EBH_PSK", raising=False)
    assert main(["validate", str(listing)]) == EXIT_OK  # the list is fine; render and apply will need the password
    captured = capsys.readouterr()
    assert captured.err == (f"{listing}:2:1: warning: defaults: {NO_PIN}\n"
                            f"{listing}:7:41: warning: homes.ebh.wifi.psk_env: the environment variable EBH_PSK is "
                            f"not set (it must hold the Wi-Fi password)\n")
    assert captured.out == (f"{listing}: valid: 2 devices in 1 homes; 1 Wi-Fi password not available here "
                            f"(render and apply need it; --strict makes this an error)\n")
    assert main(["validate", str(listing), "--strict"]) == EXIT_INVALID
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{listing}:7:41: homes.ebh.wifi.psk_env: the environment variable EBH_PSK is not set "
                   f"(it must hold the Wi-Fi password)", "1 problem; nothing was changed"]
    assert main(["validate", str(listing), "--skip-secrets"]) == EXIT_OK
    assert capsys.readouterr() == (f"{listing}: valid: 2 devices in 1 homes\n",
                                   f"{listing}:2:1: warning: defaults: {NO_PIN}\n")
    monkeypatch.setenv("EBH_PSK", PSK)
    for argv in (["validate", str(listing)], ["validate", str(listing), "--strict"]):
        assert main(argv) == EXIT_OK
        out = capsys.readouterr().out
        assert out == f"{listing}: valid: 2 devices in 1 homes, every Wi-Fi password readable\n" and PSK not in out


def test_validate_refuses_a_password_that_is_there_but_wrong_even_without_strict(listing, capsys, monkeypatch):
    monkeypatch.setenv("EBH_PSK", "short")
    assert main(["validate", str(listing)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert f"{listing}:7:41: homes.ebh.wifi.psk_env: the Wi-Fi password in $EBH_PSK has 5 characters; a WPA " \
           "password has 8 to 63 (or is 64 hex digits): check that the whole password is there" in err
    assert "short" not in err


def test_validate_warns_about_a_missing_secrets_file(tmp_path, capsys):
    path = tmp_path / "devices.yaml"
    path.write_text(VALID.replace("psk_env: EBH_PSK", "psk_file: secrets/ebh.psk"))
    assert main(["validate", str(path)]) == EXIT_OK
    assert f"warning: homes.ebh.wifi.psk_file: the secrets file {tmp_path}/secrets/ebh.psk does not exist" \
        in capsys.readouterr().err
    assert main(["validate", str(path), "--strict"]) == EXIT_INVALID


def test_render_and_apply_always_need_the_password(listing, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("EBH_PSK", raising=False)
    (tmp_path / "root").mkdir()
    for argv in (["render", str(listing), "--out", str(tmp_path / "out")],
                 ["apply", str(listing), "--device", "ebh-01", "--root", str(tmp_path / "root"), "--dry-run"]):
        assert main(argv) == EXIT_INVALID
        assert "the environment variable EBH_PSK is not set" in capsys.readouterr().err


def test_the_example_list_validates_on_a_fresh_clone(capsys, monkeypatch):
    monkeypatch.delenv("EBH_WIFI_PSK", raising=False)
    assert not (EXAMPLE.parent / "secrets").exists()
    assert main(["validate", str(EXAMPLE)]) == EXIT_OK
    err = capsys.readouterr().err
    assert err.count(": warning: ") == 3 and "none of the 12 devices has a staff PIN" in err


def test_rooms_new_prints_fresh_names(capsys):
    assert main(["rooms", "--new", "3"]) == EXIT_OK
    names = capsys.readouterr().out.split()
    assert len(set(names)) == 3 and all(name.startswith("palim-") for name in names)


def test_rooms_lists_the_devices_without_a_room(listing, capsys):
    listing.write_text(VALID.replace("    room: palim-ztrcxt2gj4ooxf57vnkpbgxi37\n", ""))
    assert main(["rooms", str(listing)]) == EXIT_OK
    assert capsys.readouterr().out == (f"ebh-02: no room yet\n1 of 2 devices without a room; "
                                       f"run 'palim-provision rooms {listing} --fill'\n")


def test_cli_render_writes_tree_and_manifest(tmp_path, monkeypatch, capsys):
    (tmp_path / "devices.yaml").write_text(VALID)
    monkeypatch.setenv("EBH_PSK", "geheim-genug")
    assert main(["render", str(tmp_path / "devices.yaml"), "--out", str(tmp_path / "out")]) == 0
    assert "rendered ebh-02: 16 files" in capsys.readouterr().out
    base = tmp_path / "out" / "ebh-01"
    manifest = json.loads((base / "manifest.json").read_text())
    for entry in manifest["files"]:
        path = base / entry["path"].lstrip("/")
        assert oct(path.stat().st_mode & 0o7777) == oct(int(entry["mode"], 8))
    assert main(["render", str(tmp_path / "devices.yaml"), "--device", "nope", "--out", str(tmp_path)]) == 2
    assert "no device with id 'nope' (known: ebh-01, ebh-02)" in capsys.readouterr().err
    monkeypatch.delenv("EBH_PSK")
    assert main(["render", str(tmp_path / "devices.yaml"), "--out", str(tmp_path / "out")]) == 2
    assert "EBH_PSK is not set" in capsys.readouterr().err


def test_render_into_an_unwritable_place_exits_1(listing, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EBH_PSK", PSK)
    (tmp_path / "out").write_text("a file, not a folder")
    assert main(["render", str(listing), "--device", "ebh-01", "--out", str(tmp_path / "out")]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith(f"palim-provision: could not write {tmp_path / 'out'}") and "Traceback" not in err


def test_cli_apply_twice_into_a_staging_root(tmp_path, monkeypatch, capsys):
    (tmp_path / "devices.yaml").write_text(VALID)
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("EBH_PSK", PSK)
    args = ["apply", str(tmp_path / "devices.yaml"), "--device", "ebh-02", "--root", str(root)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("16 changed, 0 unchanged")
    assert "step skipped: install runtime packages (apt): staging root" in out
    assert PSK not in out, [l for l in out.splitlines() if PSK in l]
    assert "+psk=<hidden, new>" in out
    assert main(args) == 0
    assert capsys.readouterr().out.rstrip().endswith("0 changed, 16 unchanged")
    assert main(["apply", str(tmp_path / "devices.yaml"), "--device", "x", "--root", str(root)]) == 2
    assert main(["apply", str(tmp_path / "devices.yaml"), "--root", str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_cli_apply_write_failure_exits_1_without_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "devices.yaml").write_text(VALID)
    monkeypatch.setenv("EBH_PSK", PSK)

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    assert main(["apply", str(tmp_path / "devices.yaml"), "--device", "ebh-01", "--root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "FAILED: writing /etc/palim-kiosk/kiosk.yaml failed: Permission denied" in captured.out
    assert "applying ebh-01 failed (are you root?)" in captured.err
    assert not Path(tmp_path / "etc/palim-kiosk/kiosk.yaml").exists()


def test_apply_json_reports_changes_and_masks_the_password(tmp_path, capsys, monkeypatch):
    listing = tmp_path / "devices.yaml"
    listing.write_text(VALID)
    monkeypatch.setenv("EBH_PSK", PSK)
    (tmp_path / "root").mkdir()
    args = ["apply", str(listing), "--device", "ebh-01", "--root", str(tmp_path / "root"), "--json"]
    assert main(args + ["--dry-run"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert report["dry_run"] and len(report["changed"]) == 16 and report["unchanged"] == 0
    assert "+psk=<hidden" in report["diff"] and PSK not in out and "Geheim" not in out
    assert main(args) == 0 and main(args) == 0
    report = json.loads(capsys.readouterr().out.split("\n}\n")[1] + "\n}")
    assert report["changed"] == [] and report["summary"] == "0 changed, 16 unchanged"


def test_apply_without_device_recognises_this_machine(listing, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EBH_PSK", PSK)
    monkeypatch.setattr("provisioning.apply.local_identity", lambda: ({"3c:52:82:1a:2b:3c"}, None))
    assert main(["apply", str(listing), "--root", str(tmp_path), "--dry-run"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("this device is ebh-01 (MAC 3c:52:82:1a:2b:3c; serial unknown)\n")
    assert out.rstrip().endswith("16 would change, 0 unchanged")
    monkeypatch.setattr("provisioning.apply.local_identity", lambda: ({"00:11:22:33:44:55"}, "ABC"))
    assert main(["apply", str(listing), "--root", str(tmp_path), "--dry-run"]) == EXIT_INVALID
    assert capsys.readouterr().err == (f"palim-provision: this device (MAC 00:11:22:33:44:55; serial ABC) matches no "
                                       f"device in {listing}; give --device ID\n")


def test_apply_json_after_a_failure_exits_1_with_the_error(listing, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EBH_PSK", PSK)

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    args = ["apply", str(listing), "--device", "ebh-01", "--root", str(tmp_path), "--json"]
    assert main(args) == EXIT_FAILED
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["error"] == "writing /etc/palim-kiosk/kiosk.yaml failed: Permission denied"
    assert report["lines"][-1] == "16 changed, 0 unchanged" and PSK not in captured.out and captured.err == ""


def test_extract_and_inventory_refuse_bad_input_with_exit_2(tmp_path, capsys):
    assert main(["extract", str(EXAMPLE), "--device", "nope"]) == 2
    assert "no device with id 'nope'" in capsys.readouterr().err
    assert main(["inventory", str(tmp_path / "missing.yaml")]) == 2
    assert "the file does not exist" in capsys.readouterr().err


def test_inventory_and_extract_print_yaml(capsys):
    assert main(["inventory", str(EXAMPLE)]) == EXIT_OK
    assert capsys.readouterr().out.startswith("# Ansible inventory of the Palim fleet: ")
    assert main(["extract", str(EXAMPLE), "--device", "ebh-01"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("# Device list for ebh-01 only, extracted by palim-provision")


@pytest.mark.parametrize("args, message", [
    (["/nonexistent/logs"], "does not exist"),
    (["{empty}"], "no usage logs"),
    (["{empty}", "--since", "gestern"], "--since must be a date"),
    (["{empty}", "--since", "2026-12-01", "--until", "2026-11-01"], "--since is after --until"),
])
def test_report_bad_arguments_exit_2(tmp_path, capsys, args, message):
    args = [a.replace("{empty}", str(tmp_path)) for a in args]
    assert main(["report", *args]) == 2
    assert message in capsys.readouterr().err


def test_report_csv_notes_go_to_stderr(tmp_path, capsys):
    log = tmp_path / "ebh-01.jsonl"
    log.write_text('{"event": "call", "start": "2026-11-02T10:00:00+01:00", "duration_s": 60}\nkaputt\n')
    assert main(["report", str(log), "--format", "csv"]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "home,week,calls,hours,devices"
    assert "warning: 1 broken line(s) skipped" in captured.err and "warning" not in captured.out


def test_an_interrupt_exits_130(capsys, monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(validate_command, "validate", interrupted)
    assert main(["validate", "devices.yaml"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
