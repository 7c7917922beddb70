"""The pytest node ids of a generated test module, read from its text (no import, no collection).

Generated modules pass explicit `ids=` to every `parametrize`, always a module-level
constant holding a list of strings, so each node id follows from the text alone:
`<path>::<test function>[<id>]`, or `<path>::<test function>` without parameters. Ids
are escaped as pytest escapes them (non-ASCII and non-printable characters).
"""

from __future__ import annotations

import ast


def pytest_escaped(text: str) -> str:
    """`text` as pytest shows it in a node id (its `ascii_escaped`)."""
    out = text.encode("unicode_escape").decode("ascii")
    return "".join(c if 32 <= ord(c) < 127 else f"\\x{ord(c):02x}" for c in out)


def module_node_ids(path: str, text: str) -> list[str]:
    """The node ids of the generated test module `text` at `path` (relative to the spec folder)."""
    tree = ast.parse(text)
    constants: dict[str, object] = {}
    ids: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            params = [_param_ids(d, constants, node.name) for d in node.decorator_list if _is_parametrize(d)]
            if len(params) > 1:
                raise ValueError(f"{path}::{node.name}: one parametrize per generated test")
            base = f"{path}::{node.name}"
            ids.extend([f"{base}[{pytest_escaped(i)}]" for i in params[0]] if params else [base])
    return ids


def _is_parametrize(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "parametrize"
        and ast.unparse(node.func) == "pytest.mark.parametrize"
    )


def _param_ids(node: ast.expr, constants: dict[str, object], name: str) -> list[str]:
    assert isinstance(node, ast.Call)
    given = next((k.value for k in node.keywords if k.arg == "ids"), None)
    if not isinstance(given, ast.Name) or given.id not in constants:
        raise ValueError(f"{name}: parametrize needs ids= naming a module constant")
    value = constants[given.id]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: ids {given.id} must be a non-empty list of strings")
    if len(set(value)) != len(value):
        raise ValueError(f"{name}: ids {given.id} repeat a value")
    return value
