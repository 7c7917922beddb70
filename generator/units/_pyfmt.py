"""Python literals of plain data, laid out as `ruff format` (black style) would lay them out.

Generated test files carry the spec's values as module-level constants. `safe.py()` gives
one-line `repr` literals; these helpers give the same literals (strings, numbers, bools,
None, lists, tuples, dicts) with ruff's quote preference and line breaking, so the
generated files pass `ruff format --check` without running ruff at generation time.
"""

from __future__ import annotations

from typing import Any

from mlprod.generator.safe import Safe

WIDTH = 88  # ruff format's default line length: generated files must pass with defaults
INDENT = "    "


def _string(s: str) -> str:
    """A string literal: double quotes unless single quotes need fewer escapes (ruff's rule)."""
    quote = "'" if s.count('"') > s.count("'") else '"'
    out = []
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif c == quote:
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        else:  # control and separator characters: repr's escape (\n, \x1b, \u2028)
            out.append(repr(c)[1:-1])
    return quote + "".join(out) + quote


def _scalar(v: Any) -> str:
    if v is None or isinstance(v, bool):
        return repr(v)
    if isinstance(v, int | float):
        text = repr(v)
        if text in ("inf", "-inf", "nan"):
            raise ValueError("non-finite numbers have no Python literal")
        return text
    if isinstance(v, str):
        return _string(v)
    raise TypeError(f"not plain data: {type(v).__name__}")


def _brackets(v: list | tuple | dict) -> tuple[str, str]:
    if isinstance(v, dict):
        return "{", "}"
    if isinstance(v, tuple):
        return "(", ")"
    return "[", "]"


def _items(v: list | tuple | dict) -> list[tuple[str, Any]]:
    """(prefix, value) pairs: dict items get their `key: ` prefix."""
    if isinstance(v, dict):
        return [(_scalar(k) + ": ", val) for k, val in v.items()]
    return [("", x) for x in v]


def flat(v: Any) -> str:
    """The one-line literal."""
    if isinstance(v, list | tuple | dict):
        opening, closing = _brackets(v)
        parts = [p + flat(x) for p, x in _items(v)]
        inner = ", ".join(parts)
        if isinstance(v, tuple) and len(v) == 1:
            inner += ","
        return opening + inner + closing
    return _scalar(v)


def layout(v: Any, indent: int = 0, head: str = "", tail: str = "") -> str:
    """`head + literal + tail` at `indent` levels, split across lines only when it does not fit.

    A split collection has one element per line with a trailing comma (the collection is
    exploded, as ruff does for literals); each element is laid out the same way in turn.
    """
    pad = INDENT * indent
    one = pad + head + flat(v) + tail
    if len(one) <= WIDTH or not isinstance(v, list | tuple | dict) or not v:
        return one
    opening, closing = _brackets(v)
    lines = [pad + head + opening]
    for prefix, x in _items(v):
        lines.append(layout(x, indent + 1, prefix, ","))
    lines.append(pad + closing + tail)
    return "\n".join(lines)


def assign(name: str, value: Any) -> Safe:
    """`NAME = <literal>` as formatted Python source (name is a constant chosen by mlprod)."""
    if not name.isidentifier():
        raise ValueError(f"not an identifier: {name!r}")
    return Safe(layout(value, 0, f"{name} = "))


def literal(value: Any) -> Safe:
    """A short inline literal (for call arguments inside templates)."""
    return Safe(flat(value))
