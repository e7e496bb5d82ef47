"""YAML with positions: plain data plus the file:line:col of every node, and pydantic errors in plain words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One validation problem, pointing into the source file."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.col}: {where}{self.message}"


@dataclass
class YamlDocument:
    """Plain data from a YAML file and the position of every node in it."""

    file: str
    data: Any
    marks: dict[tuple, tuple[int, int]]  # path -> (line, col) of the value, 1-based
    key_marks: dict[tuple, tuple[int, int]]  # path -> (line, col) of the mapping key
    scalars: dict[tuple, str]  # path -> source text of plain (unquoted) scalars
    problems: list[Problem]

    def locate(self, path: tuple) -> tuple[int, int]:
        """Position of the deepest known node on a path."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.marks:
                return self.marks[path[:end]]
        return (1, 1)

    def problem(self, path: tuple, message: str, at_key: bool = False) -> Problem:
        """A problem at a node, or at its key where the key is the mistake."""
        line, col = (self.key_marks.get(path) if at_key else None) or self.locate(path)
        return Problem(self.file, line, col, format_path(path), message)


def format_path(path: tuple) -> str:
    """Render a data path as `devices[3].match.mac`."""
    out = ""
    for part in path:
        if isinstance(part, str) and not part.isprintable():
            part = json.dumps(part)  # a key with a line break must not start a new line of the message
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# libyaml when present: 10,000-device lists validate in under 2 s instead of 5.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def first_alias(text: str) -> tuple[int, int] | None:
    """Where the first alias (*name) is, 1-based; None when there is none or the text is not YAML at all."""
    # Events are read once, in order: nothing here expands an alias, so nested or recursive ones cost nothing.
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent):
                return event.start_mark.line + 1, event.start_mark.column + 1
    except yaml.YAMLError:
        return None  # the parse below reports it with its position
    return None


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document keeping node positions; syntax errors and aliases become problems."""
    doc = YamlDocument(file, None, {}, {}, {}, [])
    bom = text.find("\ufeff", 1)  # at the very start a BOM is allowed (an editor's marker); anywhere else it hides
    if bom > 0:
        line = text.count("\n", 0, bom) + 1
        col = bom - (text.rfind("\n", 0, bom) + 1) + 1
        doc.problems.append(Problem(file, line, col, "", "an invisible byte order mark (BOM, U+FEFF) is here, "
                                                         "usually from another file pasted in: delete it (YAML "
                                                         "allows it only at the very start of a file)"))
        return doc
    alias = first_alias(text)
    if alias is not None:
        # A config or device list has no use for aliases, and nested ones expand to gigabytes ("billion laughs").
        doc.problems.append(Problem(file, *alias, "", "YAML aliases (*name) are not allowed here: write the value out"))
        return doc
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.problems.append(Problem(file, 1, 1, "", "the file is empty"))
            return doc
        doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        cut = _comment_in_braces(text, exc)
        if cut is not None:
            doc.problems.append(Problem(file, *cut))
            return doc
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        doc.problems.append(Problem(file, line, col, "", syntax_message(text, line, col, exc.problem or str(exc))))
        return doc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        doc.problems.append(Problem(file, line, col, "", f"not valid YAML: the control character U+{code:04X} "
                                                          "is not allowed"))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(file, 1, 1, "", f"not valid YAML: {str(exc).splitlines()[0]}"))
        return doc
    except (ValueError, RecursionError) as exc:
        # e.g. a number of thousands of digits (Python refuses to convert it) or nesting deeper than Python recurses.
        reason = ("a number with thousands of digits, which no setting needs" if "integer string" in str(exc)
                  else str(exc).splitlines()[0][:120])
        doc.problems.append(Problem(file, 1, 1, "", f"not usable YAML: {reason}"))
        return doc
    finally:
        loader.dispose()
    _walk(node, (), doc)
    return doc


def syntax_message(text: str, line: int, col: int, reason: str) -> str:
    """YAML's complaint at line:col in words an admin can act on: the tab and the colon in a value get their own."""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = here[:len(here) - len(here.lstrip())]
    if "\t" in indent or here[col - 1:col] == "\t":
        return ("this line is indented with a tab, and YAML takes only spaces: replace the tab with spaces "
                "(two for each level, like the lines around it)")
    key, _, value = here.strip().removeprefix("- ").partition(": ")
    # Only a colon inside a value: "  b: 2" under "a: 1" is a key indented too far, not a value to quote.
    if "mapping values" in reason and key.strip() and value.strip(": ") and col - 1 > here.find(": "):
        quoted = json.dumps(value.strip(), ensure_ascii=False)
        return (f"the value holds a colon and a space (': '), which YAML reads as a second key: put the whole "
                f"value in double quotes, like {key}: {quoted}")
    return f"not valid YAML: {reason}"


def _comment_in_braces(text: str, exc: yaml.MarkedYAMLError) -> tuple[int, int, str, str] | None:
    """{ssid: Park #2, ...}: YAML takes ' #2, ...' for a comment, so the braces never close and the error comes
    lines later. (line, col, path, message) at the ' #' when that is what happened."""
    if "flow" not in (exc.context or "") or exc.context_mark is None:
        return None
    lines = text.splitlines()
    index = exc.context_mark.line
    here = lines[index] if index < len(lines) else ""
    cut = here.find(" #", exc.context_mark.column)
    if cut < 0:
        return None
    start = max(here.rfind("{", 0, cut), here.rfind(",", 0, cut)) + 1
    key, _, value = here[start:cut].partition(":")
    end = min((i for i in (here.find(",", cut), here.find("}", cut)) if i >= 0), default=len(here))
    whole = json.dumps((value + here[cut:end]).strip(), ensure_ascii=False)
    return (index + 1, cut + 2, "", f"' #' starts a YAML comment here, so the rest of the line is lost and the "
                                    f"{{...}} never closes: put the value in double quotes, like "
                                    f"{key.strip()}: {whole}")


def not_utf8(data: bytes, exc: UnicodeDecodeError, file: str, what: str = "the file") -> Problem:
    """A file that is not UTF-8, at the line and column of its first bad byte, with the likely cause."""
    line = data.count(b"\n", 0, exc.start) + 1
    start = data.rfind(b"\n", 0, exc.start) + 1
    col = len(data[start:exc.start].decode("utf-8", "replace")) + 1
    guess = data[exc.start:exc.start + 1].decode("cp1252", "replace")
    return Problem(file, line, col, "", f"{what} is not UTF-8 text: the byte here (0x{data[exc.start]:02X}, "
                                        f"'{guess}' in Latin-1 or Windows-1252) is not UTF-8; save the file as "
                                        f"UTF-8 in your editor")


def _walk(node: yaml.Node, path: tuple, doc: YamlDocument) -> None:
    doc.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode) and not node.style:  # plain: None from PyYAML, "" from libyaml
        doc.scalars[path] = node.value
    elif isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = path + (key,)
            if key in seen:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                doc.problems.append(Problem(doc.file, line, col, format_path(child), "this key appears twice"))
            seen.add(key)
            doc.key_marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), doc)


_YAML_TYPE_NAMES = {bool: "a yes/no value", int: "a number", float: "a number"}


def explain_errors(exc: ValidationError, doc: YamlDocument, prefix: tuple = ()) -> list[Problem]:
    """Turn pydantic errors into plain-words problems at file positions."""
    problems = []
    for err in exc.errors(include_url=False):
        path = prefix + tuple(err["loc"])
        kind = err["type"]
        message = err["msg"]
        if kind == "extra_forbidden":
            problems.append(doc.problem(path, f"unknown key '{path[-1]}' (check the spelling)", at_key=True))
            continue
        if path in doc.scalars and doc.scalars[path] == "":  # "resident:" with nothing after it
            problems.append(doc.problem(path, f"has no value: write it after '{path[-1]}:' on the same line"))
            continue
        if kind == "missing":
            parent = path[:-1]
            problems.append(doc.problem(parent, f"'{path[-1]}' is missing"))
            continue
        if kind.startswith("value_error"):
            message = message.removeprefix("Value error, ")
        elif kind in ("string_type", "str_type") and path in doc.scalars:
            got = _YAML_TYPE_NAMES.get(type(err.get("input")), type(err.get("input")).__name__)
            message = (f"must be text, but YAML read the unquoted {doc.scalars[path]!r} as {got}; "
                       f"put it in quotes")
        elif kind == "literal_error":
            message = message.replace("Input should be", "must be")
        else:
            message = message.replace("Input should be", "must be").replace("Input should have", "must have")
        problems.append(doc.problem(path, message))
    problems.sort(key=lambda p: (p.line, p.col))
    return problems
