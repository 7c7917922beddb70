"""Values in their safe form for each target language.

Templates receive only `Safe` strings (or numbers), made by these functions; the jinja
environment's `finalize` hook refuses anything else, so a value that skipped its escaping
fails the build instead of reaching a file. No user string is ever rendered as a template.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any


class Safe(str):
    """Text already escaped for the place it is rendered in."""

    __slots__ = ()


def py(value: Any) -> Safe:
    """A Python literal (`repr`) of plain data: str, int, float, bool, None, lists, dicts."""
    _check_plain(value)
    return Safe(repr(value))


def yaml_scalar(value: Any) -> Safe:
    """A YAML flow value: JSON is valid YAML, and JSON strings are double-quoted and escaped."""
    _check_plain(value)
    return Safe(json.dumps(value, ensure_ascii=True, sort_keys=True))


_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md(value: Any) -> Safe:
    """Inline Markdown text: HTML-escaped, Markdown punctuation backslash-escaped, one line."""
    text = "" if value is None else str(value)
    # Control characters and everything str.splitlines() breaks at (\x0b, \x0c, \x1c-\x1e,
    # \x85, \u2028, \u2029) become spaces: the text stays on its one line in every viewer.
    text = _BREAKS.sub(" ", text)
    # `'` stays as it is: its entity `&#x27;` would have its `#` escaped below and show as
    # the literal text "&#x27;" (an apostrophe is not special in Markdown text anyway).
    text = html.escape(text, quote=False).replace('"', "&quot;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return Safe(text)


def comment(value: Any) -> Safe:
    """Text for a one-line comment: control characters and newlines removed."""
    text = "" if value is None else str(value)
    return Safe(re.sub(r"[\x00-\x1f\x7f]+", " ", text))


def trusted(value: str) -> Safe:
    """A constant written by mlprod itself (never a spec value)."""
    return Safe(value)


def _check_plain(value: Any) -> None:
    if value is None or isinstance(value, bool | int | float | str):
        return
    if isinstance(value, list | tuple):
        for v in value:
            _check_plain(v)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k)
            _check_plain(v)
        return
    raise TypeError(f"not plain data: {type(value).__name__}")
