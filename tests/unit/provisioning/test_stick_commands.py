"""The installer stick's commands of palim-provision (provisioning/commands/image.py and install.py): wrong input
is refused before anything is built."""

import pytest

from provisioning.cli import main


@pytest.fixture
def listed(tmp_path, valid_text):
    path = tmp_path / "devices.yaml"
    path.write_text(valid_text, encoding="utf-8")
    return path


@pytest.mark.parametrize("extra, message", [
    (["--home", "nope"], "no home 'nope' (known: ebh)"),
    (["--out", "/nonexistent-folder/stick.img"], "give a file in an existing folder"),
    (["--kiosk-source", "/nonexistent.whl"], "give --kiosk-source DIR or a wheel"),
])
def test_bad_input_is_refused_before_anything_is_built(listed, tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.setenv("EBH_PSK", "geheim-wlan-123")
    out = tmp_path / "stick.img"
    args = ["image", str(listed), "--out", str(out), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "geheim" not in err
    assert list(tmp_path.iterdir()) == [listed]


def test_a_missing_wifi_password_is_named_and_nothing_is_built(listed, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("EBH_PSK", raising=False)
    assert main(["image", str(listed), "--out", str(tmp_path / "stick.img")]) == 2
    err = capsys.readouterr().err
    assert "EBH_PSK is not set" in err and "nothing was changed" in err
    assert list(tmp_path.iterdir()) == [listed]


def test_an_unknown_waived_check_is_refused(listed, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["image", str(listed), "--out", str(tmp_path / "s.img"), "--waive", "bluetooth"])
    assert exc.value.code == 2
    assert "invalid choice: 'bluetooth'" in capsys.readouterr().err


def test_install_runs_only_from_a_stick(tmp_path, capsys):
    assert main(["install", str(tmp_path)]) == 2
    assert "no installer stick's folder" in capsys.readouterr().err
