"""Readers of a generated model card: front matter, and Markdown tables under a heading."""

from __future__ import annotations

import re

import yaml

_PIPE = re.compile(r"(?<!\\)\|")


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    end = text.index("\n---\n", 3)
    return yaml.safe_load(text[4:end])


def split_row(line: str) -> list[str]:
    """Cells of a table row, split on unescaped pipes, with Markdown escapes undone."""
    cells = _PIPE.split(line.strip())[1:-1]
    return [
        re.sub(r"\\(.)", r"\1", c.strip()).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        for c in cells
    ]


def tables(text: str) -> list[list[str]]:
    """Every table as its lines (header, separator, rows)."""
    out: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def table_under(text: str, heading: str) -> list[dict[str, str]]:
    """The first table after `heading` as a list of {column: cell} dicts."""
    start = text.index(f"\n{heading}\n")
    lines = tables(text[start:])[0]
    header = split_row(lines[0])
    return [dict(zip(header, split_row(line), strict=True)) for line in lines[2:]]


def pipe_counts(line: str) -> int:
    return len(_PIPE.findall(line))
