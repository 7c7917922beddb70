"""GitHub Actions expressions (`if:`, `continue-on-error:`) evaluated as far as they are
constant: `false && github.ref`, `1 == 2`, `!true` are False whatever the run; anything
that depends on the run (a context, a function call) is unknown unless a known context
value is given (`github.event_name` per trigger).

The rules are GitHub's: `a && b` is `a` when `a` is falsy, else `b`; `a || b` is `a` when
`a` is truthy, else `b`; `false`, `0`, `''`, `null` are falsy; `==` compares strings
case-insensitively and a number with a string as numbers.
"""

from __future__ import annotations

import re
from typing import Any

UNKNOWN: Any = object()
_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|'(?P<str>(?:[^']|'')*)'|(?P<op>&&|\|\||==|!=|<=|>=|[!<>()])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.\-*\[\]']*(?:\s*\()?)|(?P<comma>,))"
)


class _Unparsed(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _Unparsed
        pos = m.end()
        if m.group("num") is not None:
            out.append(("val", float(m.group("num"))))
        elif m.group("str") is not None:
            out.append(("val", m.group("str").replace("''", "'")))
        elif m.group("op"):
            out.append(("op", m.group("op")))
        elif m.group("comma"):
            out.append(("op", ","))
        else:
            name = m.group("name")
            literal = {"true": True, "false": False, "null": None}
            if name.endswith("("):
                out.append(("call", name[:-1].strip()))
            elif name in literal:
                out.append(("val", literal[name]))
            else:
                out.append(("ctx", name))
    return out


def _truthy(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    return value not in (False, None, 0, 0.0, "")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if value is None:
        return 0.0
    if isinstance(value, float):
        return value
    try:
        return float(str(value).strip() or 0)
    except ValueError:
        return float("nan")


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a.lower()
        y: Any = b.lower()
    else:
        x, y = _number(a), _number(b)
    return {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], context: dict[str, Any]) -> None:
        self.tokens, self.i, self.context = tokens, 0, context

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        if self.i >= len(self.tokens):
            raise _Unparsed
        self.i += 1
        return self.tokens[self.i - 1]

    def either(self) -> Any:
        left = self.both()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.both()
            truth = _truthy(left)
            left = (
                left
                if truth is True
                else right
                if truth is False
                else (UNKNOWN if _truthy(right) is not True else True)
            )
        return left

    def both(self) -> Any:
        left = self.negation()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.negation()
            truth = _truthy(left)
            left = (
                right
                if truth is True
                else left
                if truth is False
                else (UNKNOWN if _truthy(right) is not False else False)
            )
        return left

    def negation(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            truth = _truthy(self.negation())
            return UNKNOWN if truth is UNKNOWN else not truth
        left = self.primary()
        token = self.peek()
        if token and token[0] == "op" and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return _compare(token[1], left, self.primary())
        return left

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "val":
            return value
        if kind == "ctx":
            return self.context.get(value, UNKNOWN)
        if kind == "call":
            depth = 1
            while depth:
                token = self.take()
                depth += {("op", "("): 1, ("op", ")"): -1}.get(token, 0)
            return UNKNOWN
        if (kind, value) == ("op", "("):
            inner = self.either()
            if self.take() != ("op", ")"):
                raise _Unparsed
            return inner
        raise _Unparsed


def truth(value: Any, context: dict[str, Any] | None = None) -> bool | None:
    """The truth of a YAML value used as a GitHub condition; None when it depends on the run.

    A string is an expression, with or without `${{ }}` (as `if:` reads it).
    """
    if isinstance(value, bool | int | float):
        return bool(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("${{") and text.endswith("}}") and text.count("${{") == 1:
        text = text[3:-2]
    elif "${{" in text:
        return None  # text around an expression: a non-empty string
    try:
        parser = _Parser(_tokens(text), context or {})
        result = parser.either()
        if parser.peek() is not None:
            return None
    except _Unparsed:
        return None
    out = _truthy(result)
    return None if out is UNKNOWN else bool(out)
