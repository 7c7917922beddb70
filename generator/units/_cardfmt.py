"""Formatting helpers of the model card: escaped cells, tables, numbers, links, hashes.

Every spec or evaluation string goes through `cell` (`md_text`: HTML-escaped, the Markdown
characters that could be misread escaped, one line); numbers are formatted here; only constants of
mlprod itself are written as they are. Links are made only from a validated http(s) URL or a
validated email address (mailto), so a user string can never become a `javascript:` link.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

_HEX = re.compile(r"^[0-9a-f]{64}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
# No spaces, quotes, angle brackets, parentheses or backslashes: nothing that can end the link.
_URL = re.compile(r"^https?://[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+$")


# Control characters and everything str.splitlines() treats as a line break (\x0b, \x0c,
# \x1c-\x1e, \x85, \u2028, \u2029): a viewer that splits on them would break a table row.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


# Always special inline: escapes, code spans, emphasis, links/images, table cells, GFM strikethrough.
_INLINE = re.compile(r"([\\`*\[\]|~])")
# Special only where a line (or a cell's inline text) starts: headings, lists, quotes, breaks.
_LEADING = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[+-](?=\s|$)|=+(?=\s*$)|-+(?=\s*$)|\d{1,9}(?=[.)](?:\s|$)))")


def _underscore(text: str) -> str:
    """`_` escaped unless it sits between two letters or digits (`credit_default`), where
    CommonMark never opens or closes emphasis with it."""
    out = []
    for i, ch in enumerate(text):
        inside = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        out.append(ch if ch != "_" or inside else "\\_")
    return "".join(out)


def md_text(value: Any) -> str:
    """Inline Markdown that shows `value` literally, escaping only what Markdown would misread.

    HTML is entity-escaped (`&`, `<`, `>`: no raw HTML, entity or autolink); backslashes,
    backticks, `*`, `[`, `]`, `|` and `~` are always escaped (so no link, image, code span,
    emphasis or table cell can form, and `(`, `!` and `:` stay harmless); `_` only where
    it could delimit emphasis; a heading, list or rule marker (`#`, `+`, `-`, `=`, `1.`) only
    at the start, where it would begin one. Dates and identifiers stay readable
    (`2026-12-01`, `credit_default`). Line breaks become spaces.
    """
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    text = html.escape(text, quote=False)
    text = _INLINE.sub(r"\\\1", text).replace("](", "]\\(")  # never a `](` left, escaped or not
    text = _underscore(text)
    match = _LEADING.match(text)
    if match:
        marker = match.group(2)
        escaped = f"{marker}\\" if marker[0].isdigit() else f"\\{marker}"
        text = match.group(1) + escaped + text[match.end() :]
    return text


def cell(value: Any) -> str:
    """User text for a table cell or a line (escaped, one line; None -> an en dash)."""
    if value is None or value == "":
        return "–"
    return md_text(value)


def num(value: Any, digits: int = 3) -> str:
    """A number with `digits` decimals (large values with 4 significant digits); 'n/a' if missing."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    if isinstance(value, int):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:.4g}"
    text = f"{value:.{digits}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text  # no "-0.000"


def sha(value: Any, short: bool = True) -> str:
    """A sha256 as a code span (12 hex digits when short); anything else escaped."""
    if isinstance(value, str) and _HEX.match(value):
        return f"`{value[:12] if short else value}`"
    return "unknown" if value is None else cell(value)


def ok(passed: Any, judged: Any = True) -> str:
    """A result word for a table."""
    if judged is False:
        return "not judged"
    return "pass" if passed is True else "**fail**" if passed is False else "–"


def contact(value: str | None) -> str:
    """An owner's contact: a link only for a validated email or http(s) URL, else escaped text."""
    if not value:
        return "–"
    text = value.strip()
    if _EMAIL.match(text):
        return f"[{cell(text)}](mailto:{text})"
    if _URL.match(text):
        return f"[{cell(text)}]({text})"
    return cell(value)


def table(header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table; cells must already be escaped (see `cell`, `num`)."""
    sep = [{"r": "---:", "c": ":---:"}.get(a, "---") for a in (align or ["l"] * len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def bullet_list(items: Iterable[str]) -> str:
    """Markdown bullets of already-escaped items (empty string for none)."""
    return "".join(f"- {i}\n" for i in items)


def names(values: Iterable[Any]) -> str:
    """A comma-separated list of escaped names, or an en dash."""
    out = [cell(v) for v in values]
    return ", ".join(out) if out else "–"


def get(data: Any, *path: Any) -> Any:
    """Nested lookup in untrusted JSON data: None when any step is missing or of the wrong type."""
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def items(data: Any, *path: Any) -> list[Any]:
    """A list in untrusted JSON data (empty when missing); only dict entries are kept."""
    value = get(data, *path)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def is_hex(value: Any) -> bool:
    return isinstance(value, str) and bool(_HEX.match(value))
