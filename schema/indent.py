"""Which line a YAML indentation error is about.

PyYAML reports a misindented key on that line or on the next one, with a message about
mapping values or block ends. `misindented_line` finds the line that disagrees with its
neighbours, so `validate` can point at the line the user broke and say how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlprod.errors import Problem

#: PyYAML problems that a misindented line causes (reported on it or on the line after it).
INDENT_PROBLEMS = (
    "mapping values are not allowed",
    "did not find expected key",
    "expected <block end>",
    "did not find expected '-' indicator",
)


@dataclass(frozen=True)
class _Misindented:
    """A line whose indentation disagrees with the lines around it."""

    line: int  # 1-based
    col: int  # 1-based column of its first character
    expected: int  # 1-based column of its neighbours' keys

    def problem(self, file: str, raw: str) -> Problem:
        """The located problem, with the fix and PyYAML's own words."""
        move = "left" if self.col > self.expected else "right"
        spaces = abs(self.col - self.expected)
        return Problem(
            file,
            self.line,
            self.col,
            "",
            f"this line is indented to column {self.col}, but the lines around it start at column "
            f"{self.expected}; hint: move it {spaces} space{'s' if spaces != 1 else ''} {move} "
            f"(YAML: {raw})",
        )


def _content_lines(lines: list[str]) -> list[int]:
    """0-based indexes of lines holding YAML content (not blank, not only a comment)."""
    return [i for i, text in enumerate(lines) if text.strip() and not text.lstrip().startswith("#")]


def _key_col(text: str) -> int:
    """0-based column where a line's key or value starts (after `- ` of a list item)."""
    stripped = text.lstrip(" ")
    col = len(text) - len(stripped)
    while stripped.startswith("- "):
        rest = stripped[2:].lstrip(" ")
        col += len(stripped) - len(rest)
        stripped = rest
    return col


def _opens_block(text: str) -> bool:
    body = re.split(r"\s#", text, maxsplit=1)[0].rstrip()
    return body.endswith(":") or body.endswith("-") or body.endswith("|") or body.endswith(">")


def misindented_line(lines: list[str], reported: int) -> _Misindented | None:
    """The line the user broke, for an indentation error PyYAML reports at line `reported`.

    PyYAML notices a misindented line on that line or on the next one. Of the reported
    line (L), the content line before it (P) and the one after it (N), the broken one is
    the odd one out: L when P and N agree and L does not; P when L and N agree, P does not,
    and P does not open a block (whose children are indented deeper by design).
    """
    content = _content_lines(lines)
    at = next((k for k, i in enumerate(content) if i + 1 >= reported), None)
    if at is None or at == 0:
        return None
    L, P = content[at], content[at - 1]
    N = content[at + 1] if at + 1 < len(content) else None
    col = {i: _key_col(lines[i]) for i in (L, P, N) if i is not None}
    if N is not None and col[L] != col[P] and col[P] == col[N] and not _opens_block(lines[P]):
        return _Misindented(L + 1, col[L] + 1, col[P] + 1)
    if N is not None and col[L] == col[N] != col[P] and not _opens_block(lines[P]):
        return _Misindented(P + 1, col[P] + 1, col[L] + 1)
    return None
