"""What a command says, printed in one place: text to stdout, warnings and errors to stderr, or one JSON document
(--json). Commands return their exit code; the codes are the same for every command."""

from __future__ import annotations

import json
import sys
from typing import Any

from kiosk.core.yamlpos import Problem

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # as a shell tool killed by SIGPIPE: the reader (head, less) stopped reading


class Output:
    """The one way a command prints: as it goes, so a long build says what it does before it does it."""

    def say(self, text: str = "", end: str = "\n") -> None:
        """A line of the command's result (stdout)."""
        print(text, end=end)

    def note(self, text: str) -> None:
        """A line about the run, not its result (stderr): what was skipped, what a log could not read."""
        print(text, file=sys.stderr)

    def warning(self, problem: Problem) -> None:
        """A problem that does not stop the command, as FILE:LINE:COL: warning: path: message."""
        self.note(f"{problem.file}:{problem.line}:{problem.col}: warning: {problem.path}: {problem.message}")

    def problems(self, problems: list[Problem]) -> int:
        """Every problem of an input that cannot be used, then how many; the code for 'the input is wrong'."""
        for problem in problems:
            self.note(str(problem))
        noun = "problem" if len(problems) == 1 else "problems"
        self.note(f"{len(problems)} {noun}; nothing was changed")
        return EXIT_INVALID

    def fail(self, message: str, code: int) -> int:
        """The command cannot go on: say why, return its exit code."""
        self.note(f"palim-provision: {message}")
        return code

    def json(self, data: Any, indent: int = 1, ascii_only: bool = True) -> None:
        """The result as one JSON document (--json)."""
        print(json.dumps(data, indent=indent, ensure_ascii=ascii_only))


__all__ = ["Output", "EXIT_OK", "EXIT_FAILED", "EXIT_INVALID", "EXIT_BROKEN_PIPE"]
