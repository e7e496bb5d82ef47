"""The commands the README and docs/ show, found with markdown-it-py and run as written.

The rules the Markdown follows (README.md, "Every command here is run by a test", says the same for its readers):

- Every ```sh block is a list of commands, one a line (a line ending in a backslash goes on in the next one);
  `# …` comments are the shell's own. The block's commands run in order, each with `bash -o pipefail -c`, in one
  throwaway working folder per Markdown file: a copy of the repository's files, as a fresh clone has them.
- `NAME=…` stands for a secret the reader supplies (a Wi-Fi password): the test puts in a test password. Any other
  `…` in a command is an error, so a placeholder can never hide in a command that is "run as written".
- An HTML comment right before the block says more, one `key: value` a line:
  `not run in CI: REASON` (the block is listed with its reason instead of run; REASON must be given),
  `exit: N` (every command of the block exits N; without it 0), `creates: PATH PATH` (files that must exist in the
  working folder afterwards). Any other key is an error.
- A ```text output block right after it is what the block prints (stdout and stderr together): every line of it
  must appear, whole and in this order, among the lines the commands print; `…` in a line stands for any text.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

SECRET = "…"
# What `NAME=…` becomes: a valid WPA password (8 to 63 characters), with a space and a shell character in it.
TEST_SECRET = "Test-Passwort; 42 nur fuer die Doku"
KEYS = ("not run in CI", "exit", "creates")
COMMENT = re.compile(r"<!--(.*?)-->", re.S)


class DocError(Exception):
    """The Markdown breaks the rules above (not: a command failed)."""


@dataclass
class Block:
    """One ```sh block and what the Markdown says about it."""

    file: str
    line: int  # 1-based line of the opening fence
    commands: list[str]
    not_run: str | None = None
    exit: int = 0
    creates: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _commands(text: str, where: str) -> list[str]:
    commands, pending = [], ""
    for raw in text.splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    if pending:
        raise DocError(f"{where}: the block ends in a backslash")
    return commands


def _directives(comments: list[str], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for comment in comments:
        for body in COMMENT.findall(comment):
            for line in filter(None, (part.strip() for part in body.splitlines())):
                key, sep, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if not sep or key not in KEYS:
                    raise DocError(f"{where}: unknown note before a sh block: {line!r} (known: {', '.join(KEYS)})")
                if not value:
                    raise DocError(f"{where}: '{key}:' needs a value (a reason, an exit code or paths)")
                out[key] = value
    return out


def blocks(markdown: str, file: str) -> list[Block]:
    """Every ```sh block of a Markdown text, with the notes before it and the output block after it."""
    tokens = [t for t in MarkdownIt("commonmark").parse(markdown) if t.nesting == 0 or t.type.endswith("_open")]
    found = []
    for i, token in enumerate(tokens):
        if token.type != "fence" or token.info.strip() != "sh":
            if token.type == "fence" and token.info.split()[:2] == ["text", "output"]:
                previous = tokens[i - 1] if i else None
                if previous is None or previous.type != "fence" or previous.info.strip() != "sh":
                    raise DocError(f"{file}:{token.map[0] + 1}: a 'text output' block must follow a sh block")
            continue
        where = f"{file}:{token.map[0] + 1}"
        comments = []
        j = i - 1
        while j >= 0 and tokens[j].type == "html_block":
            comments.insert(0, tokens[j].content)
            j -= 1
        notes = _directives(comments, where)
        block = Block(file, token.map[0] + 1, _commands(token.content, where))
        block.not_run = notes.get("not run in CI")
        if "exit" in notes:
            if not notes["exit"].isdigit():
                raise DocError(f"{where}: 'exit:' takes a number, not {notes['exit']!r}")
            block.exit = int(notes["exit"])
        block.creates = notes.get("creates", "").split()
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if following is not None and following.type == "fence" and following.info.split()[:2] == ["text", "output"]:
            block.output = following.content.splitlines()
        if not block.commands:
            raise DocError(f"{where}: a sh block without a command")
        found.append(block)
    return found


def runnable(command: str) -> str:
    """The command as it runs: `NAME=…` gets the test password; any other `…` is refused."""
    text = re.sub(r"\b([A-Z][A-Z0-9_]*)=" + SECRET, lambda m: f"{m.group(1)}={shlex.quote(TEST_SECRET)}", command)
    if SECRET in text:
        raise DocError(f"'…' is only for secrets (NAME=…); this command cannot run as written: {command}")
    return text


def _matches(expected: str, line: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split(SECRET))
    return re.fullmatch(pattern, line.rstrip()) is not None


def check_output(expected: list[str], printed: str) -> list[str]:
    """Problems: the expected lines that are not found, whole and in order, among the printed ones."""
    lines = printed.splitlines()
    at = 0
    for wanted in expected:
        for k in range(at, len(lines)):
            if _matches(wanted, lines[k]):
                at = k + 1
                break
        else:
            return [f"this documented output line was not printed (in this order): {wanted!r}"]
    return []


@dataclass
class Ran:
    command: str
    code: int
    output: str


def run_block(block: Block, workdir: Path, env: dict[str, str], timeout: float = 600) -> list[Ran]:
    """Run the block's commands in workdir; AssertionError with everything printed when the text is not kept."""
    __tracebackhide__ = True
    if block.not_run is not None:
        raise DocError(f"{block.where} is marked 'not run in CI: {block.not_run}'")
    ran: list[Ran] = []
    problems: list[str] = []
    for command in block.commands:
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", runnable(command)], cwd=workdir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              text=True, timeout=timeout)
        ran.append(Ran(command, proc.returncode, proc.stdout))
        if proc.returncode != block.exit:
            problems.append(f"exit code {proc.returncode}, the text says {block.exit}: {command}")
            break
    if not problems:
        problems += check_output(block.output, "".join(r.output for r in ran))
        problems += [f"the text says {path} appears; it does not" for path in block.creates
                     if not (workdir / path).exists()]
    if TEST_SECRET in "".join(r.output for r in ran):
        problems.append("the test password was printed")
    if problems:
        shown = "\n".join(f"$ {r.command}\n{r.output}[exit {r.code}]" for r in ran)
        raise AssertionError(f"{block.where}: " + "; ".join(problems) + f"\n--- what ran ---\n{shown}")
    return ran


def fresh_clone(repo: Path, dest: Path) -> Path:
    """A copy of the repository's files (tracked and new ones, as `git ls-files` lists them), like a fresh clone;
    the venv is linked in, since ./scripts/ use .venv/bin."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = repo / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (dest / ".venv").symlink_to(repo / ".venv")
    return dest


def command_env(home: Path, venv_bin: Path) -> dict[str, str]:
    """The environment the commands get: the venv's tools first on PATH, none of this machine's Ansible settings
    or secrets, a home folder of their own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "PALIM_")) and not k.endswith("_PSK") and k != "VIRTUAL_ENV"}
    home.mkdir(parents=True, exist_ok=True)
    config = home / "ansible.cfg"
    config.write_text("[defaults]\n")
    env.update(PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', os.defpath)}", HOME=str(home), LANG="C.UTF-8",
               ANSIBLE_CONFIG=str(config), ANSIBLE_HOME=str(home / ".ansible"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(home / ".ansible-tmp"), ANSIBLE_REMOTE_TEMP=str(home / ".ansible-tmp"),
               ANSIBLE_RETRY_FILES_ENABLED="0")
    return env
