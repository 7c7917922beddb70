"""Property: any mutation of the reference spec gives a valid spec or located problems, never a crash."""

from __future__ import annotations

from helpers import credit_spec_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlprod.schema import Spec, parse_spec_text

from mlprod.errors import SpecError

CREDIT = credit_spec_text()
LINES = CREDIT.splitlines()

# Values that trip YAML, the schema or the rules in different ways.
TRICKY = [
    "",
    "no",
    "yes",
    "on",
    "1.10",
    "1:30",
    "012",
    "2026-01-01",
    '"2026-02-30"',
    "[1, 2]",
    "{a: 1}",
    "[]",
    "{}",
    ".nan",
    ".inf",
    "-1",
    "0",
    "'x'",
    "null",
    "~",
    "&a x",
    "*a",
    "!!str x",
    "!!python/object:os.system",
    "[",
    "}",
    "'",
    '"',
    "x: y",
    "1e999",
    "true",
    "99999999999999999999999",
    "- a",
    "|",
    ">",
    "Train-Set",
    "../up",
    "/abs",
    ".git/x",
    "a:b",
    "class",
    "1.0",
    "v1",
    "\t",
    "%YAML 1.1",
    "---",
    "...",
    "é",
    "\x00",
]
KEYS = [
    "name",
    "version",
    "stages",
    "inputs",
    "<<",
    "x",
    "on",
    "by",
    "bins",
    "where",
    "path",
    "expect",
    "  ",
    "?",
]


def _split(line: str) -> tuple[str, str] | None:
    head, sep, _ = line.partition(": ")
    return (head, sep) if sep and "#" not in head else None


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, int, str]]:
    kinds = st.sampled_from(
        ["value", "key", "indent", "dedent", "delete", "insert", "swap", "chars", "duplicate"]
    )
    payload = st.one_of(st.sampled_from(TRICKY), st.sampled_from(KEYS), st.text(max_size=12))
    steps = st.tuples(kinds, st.integers(0, len(LINES) - 1), payload)
    return draw(st.lists(steps, min_size=1, max_size=4))


def _apply(steps: list[tuple[str, int, str]]) -> str:
    lines = list(LINES)
    for kind, index, payload in steps:
        i = index % max(len(lines), 1)
        if not lines:
            lines = [payload]
            continue
        line = lines[i]
        parts = _split(line)
        if kind == "value" and parts:
            lines[i] = parts[0] + parts[1] + payload
        elif kind == "key" and parts:
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = indent + payload + ": " + line.split(": ", 1)[1]
        elif kind == "indent":
            lines[i] = " " * (1 + len(payload) % 4) + line
        elif kind == "dedent":
            lines[i] = line[1 + len(payload) % 4 :]
        elif kind == "delete":
            del lines[i]
        elif kind == "insert":
            lines.insert(i, payload)
        elif kind == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif kind == "chars":
            cut = len(payload) % (len(line) + 1)
            lines[i] = line[:cut] + payload + line[cut:]
        elif kind == "duplicate":
            lines.insert(i, line)
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_mutated_spec_is_valid_or_located(steps: list[tuple[str, int, str]]) -> None:
    text = _apply(steps)
    n_lines = text.count("\n") + 1
    try:
        spec = parse_spec_text(text)
    except SpecError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.line >= 1 and p.col >= 1, p
            assert p.line <= n_lines, p
            assert p.message.strip(), p
            assert "Traceback" not in p.message
    else:
        assert isinstance(spec, Spec)


def test_a_no_op_mutation_keeps_the_spec_valid() -> None:
    # `swap` on the last line does nothing, so the harness itself round-trips the text.
    assert _apply([("swap", len(LINES) - 1, "")]) == CREDIT
    assert parse_spec_text(CREDIT).project.name == "credit_default"
