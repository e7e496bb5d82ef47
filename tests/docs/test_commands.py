"""Every command README.md and docs/*.md show in a ```sh block runs here, as written (issue 19).

One test per block, in the order of the text, in one throwaway copy of the repository per Markdown file (the blocks
of a file build on each other, as a reader's session does). A block marked `<!-- not run in CI: REASON -->` is not
run; test_not_run_blocks_are_exactly_these lists every one of them with its reason, so none is skipped silently.
The rules are in shellblocks.py; test_broken_snippets_fail proves that a changed command or output fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .shellblocks import TEST_SECRET, Block, DocError, blocks, command_env, fresh_clone, run_block, runnable

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
VENV_BIN = Path(sys.executable).parent


def _all_blocks() -> list[Block]:
    out = []
    for path in DOCS:
        out += blocks(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    return out


BLOCKS = _all_blocks()
RUN = [b for b in BLOCKS if b.not_run is None]

# What cannot run in CI, and why: the closing note of issue 19 lists the same. A new marked block must be added
# here, so marking a command "not run" is a visible decision in a diff, never a quiet one.
NOT_RUN = [
    ("README.md", "./scripts/setup && ./scripts/demo", "the demo is a GUI: a kiosk window on a desktop session"),
    ("README.md", "./scripts/setup && ./scripts/test",
     "this is CI itself (.ci/run runs exactly this), which runs this test"),
    ("README.md", "python -m kiosk --config examples/kiosk-real-server.yaml --windowed",
     "a GUI, and it calls a real Jitsi server"),
    ("README.md", "palim-kiosk --hash-pin",
     "asks for the PIN twice on a terminal (the hashing itself: tests/unit/kiosk/test_staff.py)"),
    ("README.md", "EBH_WIFI_PSK=… sudo -E palim-provision image devices.yaml --out palim-stick.img "
                  "--home erich-burger-heim",
     "needs root, the Debian mirror and PyPI, and minutes (tests/vm builds a stick the same way)"),
    ("README.md", "sudo ./scripts/test tests/system -v",
     "runs a part of the test suite this test belongs to (root, minutes; ./scripts/test runs tests/system in CI)"),
    ("README.md", './scripts/test -m "not system and not vm"', "runs the test suite this test belongs to"),
    ("README.md", "palim-provision release --version 1.4 --lock kiosk.lock --key-file city-release.key --out palim-repo",
     "downloads the Qt wheels (about 200 MB) from PyPI and packs them, minutes; "
     "tests/unit/provisioning/test_release.py builds and publishes the same way"),
    ("README.md", "sudo palim-kiosk-release status", "on a device, as root"),
    ("README.md", "EBH_WIFI_PSK=… ansible-playbook -i inventory.yml provisioning/ansible/site.yml --check --diff",
     "real devices over SSH (tests/vm runs this playbook against the installed VM, --limit ebh-01)"),
    ("README.md", "EBH_WIFI_PSK=… ansible-playbook -i inventory.yml provisioning/ansible/site.yml --diff",
     "real devices over SSH (tests/vm runs this playbook against the installed VM, --limit ebh-01)"),
    ("README.md", "palim-provision check", "the verdict is about the machine it runs on, and CI's is no donated "
                                           "device (the captured trees below are checked instead)"),
    ("README.md", 'ansible palim_kiosks -i inventory.yml -m fetch -a "src=/var/lib/palim-kiosk/usage.jsonl '
                  'dest=logs/"', "real devices over SSH"),
    ("README.md", "sudo blkdiscard -f /dev/sda", "erases a whole disk"),
    ("README.md", "sudo shred -v -n 1 /dev/sda", "erases a whole disk"),
    ("README.md", "sudo wipefs -a /dev/sdX", "erases the stick"),
    ("README.md", ".venv/bin/python bench/run.py",
     "a benchmark of about 25 minutes (tests/bench runs its --quick mode in every ./scripts/test)"),
    ("docs/benchmarks.md", ".venv/bin/python bench/run.py --runs 3 --idle 30 --cpu 30 --call 40 --label \"Device path\" "
                           "--json docs/benchmarks/wayland.json",
     "a benchmark of about 12 minutes that needs a quiet machine (tests/bench runs its --quick mode in every "
     "./scripts/test)"),
    ("docs/benchmarks.md", ".venv/bin/python bench/run.py",
     "a benchmark of about 25 minutes (tests/bench runs its --quick mode in every ./scripts/test)"),
    ("docs/benchmarks.md", ".venv/bin/python bench/run.py --quick --allow-unclean --screenshots shots",
     "tests/bench/test_bench_smoke.py runs this, with a second QtWebEngine process of its own alive, in every "
     "./scripts/test"),
    ("docs/benchmarks.md", "xvfb-run -a -s \"-screen 0 1280x800x24 -nolisten tcp\" .venv/bin/python bench/run.py "
                           "--display x11 --runs 3 --idle 30 --cpu 30 --call 40 --label \"Quiet machine\" "
                           "--json docs/benchmarks/run.json",
     "a benchmark of about 12 minutes that needs a quiet machine (tests/bench runs its --quick mode in every "
     "./scripts/test)"),
    ("docs/benchmarks.md", "xvfb-run -a -s \"-screen 0 1280x800x24 -nolisten tcp\" .venv/bin/python bench/run.py "
                           "--display x11 --runs 4 --idle 25 --cpu 5 --call 8 --no-cold --max-load 4 "
                           "--label \"Tap after idle\" --json docs/benchmarks/tap.json",
     "a benchmark of about 6 minutes that needs a quiet machine (tests/bench runs its --quick mode in every "
     "./scripts/test)"),
    ("docs/fleet.md", "sudo apt-get install prometheus prometheus-alertmanager wireguard-tools",
     "installs on the hub, as root (scripts/setup installs the same packages for the tests)"),
    ("docs/fleet.md", "sudo sh -c 'umask 077; wg genkey > /etc/wireguard/palim-hub.key'",
     "on the hub, as root; its private key never leaves it"),
    ("docs/fleet.md", "sudo wg pubkey < /etc/wireguard/palim-hub.key", "on the hub, as root; its private key never leaves it"),
    ("docs/fleet.md", "sudo systemctl enable --now wg-quick@palim-hub",
     "on the hub, as root (tests/system/test_fleet.py runs the same wg syncconf on its hub)"),
    ("docs/fleet.md", "sudo bash -c 'wg syncconf palim-hub <(cat <(wg-quick strip palim-hub) "
                      "/etc/wireguard/palim-peers.conf)'",
     "on the hub, as root (tests/system/test_fleet.py runs the same wg syncconf on its hub)"),
    ("docs/fleet.md", "sudo install -m 0640 -o root -g prometheus /dev/null /etc/prometheus/alertmanager-smtp-password",
     "on the hub, as root, with the city relay's password"),
    ("docs/fleet.md", "SMTP_PASSWORD=… sh -c 'printf %s \"$SMTP_PASSWORD\"' | sudo tee "
                      "/etc/prometheus/alertmanager-smtp-password > /dev/null",
     "on the hub, as root, with the city relay's password"),
    ("docs/fleet.md", "sudo promtool check config /etc/prometheus/prometheus.yml",
     "on the hub, as root (tests/unit/provisioning/test_monitoring.py checks the rendered files with the same "
     "promtool and amtool)"),
    ("docs/fleet.md", "sudo amtool check-config /etc/prometheus/alertmanager.yml",
     "on the hub, as root (tests/unit/provisioning/test_monitoring.py checks the rendered files with the same "
     "promtool and amtool)"),
    ("docs/fleet.md", "sudo systemctl reload prometheus prometheus-alertmanager",
     "on the hub, as root (tests/unit/provisioning/test_monitoring.py checks the rendered files with the same "
     "promtool and amtool)"),
    ("docs/fleet.md", "palim-provision status --prometheus http://127.0.0.1:9090 --html /var/www/html/palim-status.html "
                      "--language de",
     "asks the hub's Prometheus (tests/unit/provisioning/test_status.py runs it against a real Prometheus on "
     "loopback)"),
    ("docs/installer-stick.md", "EBH_WIFI_PSK=… sudo -E palim-provision image devices.yaml --out palim-stick.img "
                                "--home erich-burger-heim",
     "needs root, the Debian mirror and PyPI, and minutes (tests/vm builds a stick the same way)"),
    ("docs/installer-stick.md", "sudo dd if=palim-stick.img of=/dev/sdX bs=4M conv=fsync status=progress",
     "writes to a USB stick (sdX stands for it)"),
    ("docs/installer-stick.md", "sudo palim-provision claims import /dev/sdX devices.yaml",
     "reads a USB stick (sdX stands for it); the same import from a folder runs below"),
    ("docs/installer-stick.md", "sudo ./scripts/test tests/vm -v",
     "runs a part of the test suite this test belongs to (root, tens of minutes under TCG)"),
    ("docs/jitsi-server.md", "palim-provision server-check --devices devices.yaml",
     "asks the city's real Jitsi servers over the internet (tests/unit/provisioning/test_server_check.py runs it "
     "against the stand-in, set up well and badly)"),
    ("docs/jitsi-server.md", "palim-provision server-check https://konferenz.example.org --pin "
                             "3fe0bf83336ef9daa70a3c8d74c7e564beff1089c9efefbd763fc055d979294e --token-file "
                             "ebh-01.jwt --json",
     "asks a real Jitsi server over the internet, with a token only the city has"),
]


def _strip_comment(command: str) -> str:
    return re.sub(r"\s+#\s.*$", "", command)


def test_not_run_blocks_are_exactly_these():
    marked = [(b.file, _strip_comment(c), b.not_run) for b in BLOCKS if b.not_run is not None for c in b.commands]
    assert marked == NOT_RUN
    # The closing note's list, printed with -s or on failure
    print("\n".join(f"not run: {f}: {c}  -- {why}" for f, c, why in marked))


def test_most_commands_run():
    commands = [(b.file, c) for b in RUN for c in b.commands]
    assert len(commands) > len(NOT_RUN), f"{len(commands)} commands run, {len(NOT_RUN)} are not"
    print("\n".join(f"run: {f}: {c}" for f, c in commands))  # the closing note's list (-s)


@pytest.fixture(scope="module")
def workdirs(tmp_path_factory):
    """A fresh copy of the repository per Markdown file, and the commands' environment."""
    made: dict[str, tuple[Path, dict]] = {}

    def get(file: str) -> tuple[Path, dict]:
        if file not in made:
            base = tmp_path_factory.mktemp("doc-" + Path(file).stem)
            made[file] = (fresh_clone(ROOT, base / "palim-kiosk"), command_env(base / "home", VENV_BIN))
        return made[file]

    return get


@pytest.mark.parametrize("block", RUN, ids=[f"{b.file}:{b.line}" for b in RUN])
def test_documented_commands_run_as_written(block, workdirs):
    workdir, env = workdirs(block.file)
    run_block(block, workdir, env)


# --------------------------------------------------------------------------- the machinery catches changes


GOOD = """\
Intro.

<!-- creates: out.txt -->
```sh
echo hello > out.txt && echo done
EBH_WIFI_PSK=… sh -c 'test -n "$EBH_WIFI_PSK" && echo "got ${#EBH_WIFI_PSK} characters"'
```
```text output
done
got … characters
```

<!-- exit: 3 -->
```sh
sh -c 'echo nope; exit 3'
```
"""

BROKEN = {
    "a documented output line changed": GOOD.replace("\ndone\n", "\nfinished\n"),
    "output lines out of order": GOOD.replace("done\ngot … characters", "got … characters\ndone"),
    "a command changed its exit code": GOOD.replace("exit 3'", "exit 0'"),
    "a command fails": GOOD.replace("echo hello > out.txt", "false"),
    "a documented file does not appear": GOOD.replace("creates: out.txt", "creates: out.txt missing.pdf"),
    "a line only partly printed": GOOD.replace("\ndone\n", "\ndon\n"),
}


def _run_all(markdown: str, tmp_path: Path) -> None:
    env = command_env(tmp_path / "home", VENV_BIN)
    for block in blocks(markdown, "snippet.md"):
        run_block(block, tmp_path, env)


def test_a_good_snippet_passes(tmp_path):
    _run_all(GOOD, tmp_path)


@pytest.mark.parametrize("case", BROKEN)
def test_broken_snippets_fail(case, tmp_path):
    with pytest.raises(AssertionError, match="snippet.md:"):
        _run_all(BROKEN[case], tmp_path)


@pytest.mark.parametrize("markdown, message", [
    ("<!-- not run in CI: -->\n```sh\nls\n```\n", "needs a value"),
    ("<!-- not run in CI -->\n```sh\nls\n```\n", "unknown note"),
    ("<!-- skip: yes -->\n```sh\nls\n```\n", "unknown note"),
    ("<!-- exit: two -->\n```sh\nls\n```\n", "takes a number"),
    ("```text output\nx\n```\n", "must follow a sh block"),
    ("```sh\nls \\\n```\n", "ends in a backslash"),
])
def test_malformed_notes_are_errors_not_skips(markdown, message):
    with pytest.raises(DocError, match=message):
        blocks(markdown, "snippet.md")


def test_a_placeholder_other_than_a_secret_cannot_run():
    assert TEST_SECRET in runnable("EBH_WIFI_PSK=… palim-provision validate devices.yaml")
    with pytest.raises(DocError, match="only for secrets"):
        runnable("palim-provision apply devices.yaml --root …")


def test_a_marked_block_is_never_run(tmp_path):
    (block,) = blocks("<!-- not run in CI: a real device -->\n```sh\ntouch ran\n```\n", "snippet.md")
    with pytest.raises(DocError, match="not run in CI: a real device"):
        run_block(block, tmp_path, command_env(tmp_path / "home", VENV_BIN))
    assert not (tmp_path / "ran").exists()


# --------------------------------------------------------------------------- links stay inside the repository


def _cited(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    return [link for link in links if not re.match(r"[a-z]+:", link) and not link.startswith("#")]


@pytest.mark.parametrize("doc", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_linked_file_is_in_the_repository(doc):
    tracked = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.splitlines())
    for link in _cited(doc):
        target = (doc.parent / link.split("#")[0]).resolve()
        assert target.is_relative_to(ROOT), f"{doc.name} links outside the repository: {link}"
        relative = str(target.relative_to(ROOT))
        assert target.exists() and (relative in tracked or any(t.startswith(relative + "/") for t in tracked)), \
            f"{doc.name} links to {link}, which is not in the repository"


TOP = ("kiosk", "provisioning", "tests", "scripts", "docs", "assets", "bench", "examples", "jitsi_standin", ".ci")


@pytest.mark.parametrize("doc", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_file_named_in_backticks_is_in_the_repository(doc):
    """`kiosk/config.py`, `tests/unit/...`: a path the text names as the project's must be there (a placeholder
    like <lang> or a wildcard is not a file name)."""
    text = doc.read_text(encoding="utf-8")
    named = {m for m in re.findall(r"`([\w.-]+/[\w./-]*)`", text) if m.split("/")[0] in TOP}
    missing = sorted(m for m in named if not (ROOT / m).exists())
    assert not missing, f"{doc.name} names files that are not in the repository: {missing}"
