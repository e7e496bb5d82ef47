"""Reading a Jitsi server's JavaScript settings without running them: esprima's syntax tree, object literals only.

`config.js` and `interface_config.js` are `var config = {...}` / `var interfaceConfig = {...}` plus, now and then,
`config.x = ...` assignments; `external_api.js` must define JitsiMeetExternalAPI. Comments and strings can never
be mistaken for settings, because only the tree's nodes are looked at. No Qt, nothing is ever evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

UNKNOWN = object()  # a value the syntax tree holds but that is no plain literal (a function call, a variable)


def _parse(source: str):
    import esprima  # imported here: only the check needs the parser

    return esprima.parseScript(source, {"tolerant": True})


def _children(node: Any) -> Iterator[Any]:
    for value in vars(node).values():
        if isinstance(value, list):
            yield from (v for v in value if hasattr(v, "type"))
        elif hasattr(value, "type"):
            yield value


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(_children(current))


def _key(prop: Any) -> str | None:
    key = prop.key
    if not prop.computed and key.type == "Identifier":
        return key.name
    if key.type == "Literal" and isinstance(key.value, str):
        return key.value
    return None


def literal(node: Any) -> Any:
    """A syntax tree's plain value: literals, objects, arrays, -1, !0; UNKNOWN for anything computed."""
    kind = node.type
    if kind == "Literal":
        return node.value
    if kind == "ObjectExpression":
        out: dict[str, Any] = {}
        for prop in node.properties:
            name = _key(prop) if prop.type == "Property" else None
            if name is not None:
                out[name] = literal(prop.value)
        return out
    if kind == "ArrayExpression":
        return [literal(e) if e is not None else None for e in node.elements]
    if kind == "UnaryExpression":
        value = literal(node.argument)
        if value is UNKNOWN:
            return UNKNOWN
        if node.operator == "!":
            return not value
        if node.operator == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
        if node.operator == "void":
            return None
        return UNKNOWN
    if kind == "Identifier" and node.name == "undefined":
        return None
    if kind == "TemplateLiteral" and not node.expressions:
        return "".join(q.value.cooked for q in node.quasis)
    return UNKNOWN


def _member_path(node: Any, root: str) -> list[str] | None:
    """['hosts', 'muc'] for config.hosts.muc (or config['hosts'].muc); None when it is not under root."""
    path: list[str] = []
    while node.type == "MemberExpression":
        prop = node.property
        if not node.computed and prop.type == "Identifier":
            path.append(prop.name)
        elif prop.type == "Literal" and isinstance(prop.value, str):
            path.append(prop.value)
        else:
            return None
        node = node.object
    if node.type == "Identifier" and node.name == root and path:
        return path[::-1]
    return None


def read_object(source: str, name: str) -> dict[str, Any]:
    """The object literal of `var NAME = {...}` (also let/const), with top-level `NAME.a.b = value` applied.

    Raises ValueError when the script does not parse or declares no such object."""
    try:
        tree = _parse(source)
    except Exception as exc:  # esprima raises its own Error class, with the line in its message
        raise ValueError(f"it is no JavaScript this check can read ({exc})") from None
    found: dict[str, Any] | None = None
    for statement in tree.body:
        if statement.type == "VariableDeclaration":
            for declarator in statement.declarations:
                if (declarator.id.type == "Identifier" and declarator.id.name == name
                        and declarator.init is not None and declarator.init.type == "ObjectExpression"):
                    found = literal(declarator.init)
        elif found is not None and statement.type == "ExpressionStatement":
            expression = statement.expression
            if expression.type == "AssignmentExpression" and expression.operator == "=":
                path = _member_path(expression.left, name)
                if path:
                    target = found
                    for part in path[:-1]:
                        if not isinstance(target.get(part), dict):
                            target[part] = {}
                        target = target[part]
                    target[path[-1]] = literal(expression.right)
    if found is None:
        raise ValueError(f"it declares no 'var {name} = {{...}}'")
    return found


def defines_external_api(source: str) -> bool | None:
    """True when the script defines JitsiMeetExternalAPI (declares it, or assigns it to a property such as
    window.JitsiMeetExternalAPI or exports.JitsiMeetExternalAPI); None when it is no JavaScript at all."""
    name = "JitsiMeetExternalAPI"
    try:
        tree = _parse(source)
    except Exception:  # noqa: BLE001 (syntax newer than esprima's ES2017, such as {...spread}: read the tokens)
        return _assigned_in_tokens(source, name)
    for node in _walk(tree):
        kind = node.type
        if kind in ("FunctionDeclaration", "ClassDeclaration", "VariableDeclarator"):
            if node.id is not None and node.id.type == "Identifier" and node.id.name == name:
                return True
        elif kind == "AssignmentExpression":
            left = node.left
            if left.type == "Identifier" and left.name == name:
                return True
            if left.type == "MemberExpression":
                prop = left.property
                if (not left.computed and prop.type == "Identifier" and prop.name == name) or \
                        (prop.type == "Literal" and prop.value == name):
                    return True
    return False


def get(value: dict[str, Any], dotted: str, default: Any = None) -> Any:
    """value['a']['b'] for 'a.b'; default when a part is missing."""
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def _assigned_in_tokens(source: str, name: str) -> bool | None:
    """For a script the parser refuses: whether the lexer sees NAME assigned (`NAME =` or `.NAME =`); None when even
    the lexer cannot read it (no JavaScript at all). Comments and strings are no tokens, so they never count."""
    import esprima

    try:
        tokens = esprima.tokenize(source)
    except Exception:  # noqa: BLE001 (esprima's own Error class)
        return None
    for token, following in zip(tokens, tokens[1:]):
        if token.type == "Identifier" and token.value == name and following.value == "=":
            return True
    return False
