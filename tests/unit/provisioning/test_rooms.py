"""rooms --fill: new rooms go in, nothing else in the file changes."""

import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.fields import MIN_ROOM_BITS, room_entropy_bits
from provisioning.cli import main
from provisioning.rooms import fill_rooms, generate_room

ROOM = re.compile(r"^palim-[a-z2-7]{26}$")


def test_generated_rooms_are_unguessable_and_distinct():
    rooms = {generate_room() for _ in range(2000)}
    assert len(rooms) == 2000
    assert all(ROOM.match(r) and room_entropy_bits(r) >= MIN_ROOM_BITS for r in rooms)


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz äöüß-", min_size=1, max_size=20).map(str.strip).filter(
    lambda s: s and s[0].isalpha() and s[-1].isalpha()
    # YAML's special words are not text (validate refuses them) and ruamel re-spells null: fill refuses those files.
    and s.lower() not in {"null", "yes", "no", "on", "off", "true", "false", "y", "n"})
comments = st.one_of(st.none(), st.text(alphabet="abcdefghij klmnop:-'#äü", max_size=30))


@st.composite
def device_lists(draw):
    """A device list in block style with comments anywhere, some devices with rooms and some without."""
    lines = ["# the device list", "version: 1", "devices:"]
    expected_missing = []
    for index in range(draw(st.integers(1, 8))):
        comment = draw(comments)
        if comment is not None:
            lines.append(f"  # {comment}")
        lines.append(f"  - id: dev-{index}" + (f"   # {c}" if (c := draw(comments)) else ""))
        keys = [("home", "ebh"), ("resident", f'"{draw(words)}"'), ("label", draw(words))]
        has_room = draw(st.booleans())
        if has_room:
            keys.insert(draw(st.integers(0, 3)), ("room", generate_room()))
        else:
            expected_missing.append(f"dev-{index}")
        for key, value in keys:
            trailing = draw(comments)
            lines.append(f"    {key}: {value}" + (f"  # {trailing}" if trailing else ""))
        if draw(st.booleans()):
            lines.append(f'    match: {{mac: "00:11:22:33:44:{index:02x}"}}')
    return "\n".join(lines) + "\n", expected_missing


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(device_lists())
def test_fill_adds_rooms_and_changes_nothing_else(case):
    text, missing = case
    new_text, added = fill_rooms(text)
    assert [a.device for a in added] == missing
    before, after = yaml.safe_load(text), yaml.safe_load(new_text)
    rooms = {a.device: a.room for a in added}
    for old, new in zip(before["devices"], after["devices"]):
        expected = dict(old, room=rooms[old["id"]]) if old["id"] in rooms else old
        assert new == expected
    # Every original line survives unchanged and in order, comments included; the only new lines are the rooms.
    added_lines = [line for line in new_text.splitlines() if any(a.room in line for a in added)]
    kept = [line for line in new_text.splitlines() if line not in added_lines]
    assert kept == text.splitlines()
    assert all(ROOM.match(line.split("room: ")[1]) for line in added_lines)
    # Running it again changes nothing.
    assert fill_rooms(new_text) == (new_text, [])


def test_fill_puts_the_room_after_the_resident_and_fills_empty_rooms():
    text = ("devices:\n  - id: a\n    resident: Erna   # Zimmer 1\n    label: x\n"
            "  - id: b\n    room:     # todo\n    resident: Karl\n")
    new_text, added = fill_rooms(text, new_room=iter(["palim-" + "a2" * 13, "palim-" + "b3" * 13]).__next__)
    assert new_text == ("devices:\n  - id: a\n    resident: Erna   # Zimmer 1\n    room: palim-" + "a2" * 13 +
                        "\n    label: x\n  - id: b\n    room: palim-" + "b3" * 13 + " # todo\n    resident: Karl\n")
    assert [(a.device, a.line) for a in added] == [("a", 4), ("b", 7)]


def test_cli_fill_writes_atomically_with_a_backup_and_is_idempotent(tmp_path, capsys, valid_text):
    path = tmp_path / "devices.yaml"
    text = valid_text.replace("    room: palim-ztrcxt2gj4ooxf57vnkpbgxi37\n", "")
    path.write_text(text)
    assert main(["rooms", str(path), "--fill"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"devices\.yaml:17: ebh-02: room palim-[a-z2-7]{26}\n", out)
    assert "added 1 room(s)" in out
    assert (tmp_path / "devices.yaml.palim-bak").read_text() == text
    filled = path.read_text()
    assert main(["rooms", str(path), "--fill"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert path.read_text() == filled
    assert main(["validate", str(path), "--skip-secrets"]) == 0


def test_cli_fill_refuses_a_file_it_would_reformat(tmp_path, capsys):
    path = tmp_path / "devices.yaml"
    text = "devices:\n  - {id: a,   resident: Erna}\n"
    path.write_text(text)
    assert main(["rooms", str(path), "--fill"]) in (0, 2)
    if path.read_text() != text:  # when ruamel keeps the flow mapping's spacing the fill is fine
        assert "palim-" in path.read_text()
    else:
        assert "nothing was written" in capsys.readouterr().err


def test_cli_rooms_bad_input_has_no_traceback(tmp_path, capsys):
    assert main(["rooms", str(tmp_path / "missing.yaml"), "--fill"]) == 2
    assert "the file does not exist" in capsys.readouterr().err
    (tmp_path / "x.yaml").write_text("devices: [a\n")
    assert main(["rooms", str(tmp_path / "x.yaml"), "--fill"]) == 2
    assert "not valid YAML" in capsys.readouterr().err
