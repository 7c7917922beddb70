"""The score's output formats: a terminal table, Markdown (CI step summary, PR comment), JSON.

Failures are loud in every form: a failing concern's row reads FAILING with the count and
the first failing test, the total reads `20/20, 3 tests failing`, and no word of praise
stands beside a failure.
"""

from __future__ import annotations

import json

from .report import ConcernScore, ScoreReport


def weakest_text(report: ScoreReport) -> str:
    """The weakest concerns and their level, in words."""
    if report.weakest_level == 2:
        return "none, every concern is at level 2"
    names = "all concerns" if len(report.weakest) == len(report.concerns) else ", ".join(report.weakest)
    return f"{names} (level {report.weakest_level})"


def failing_text(row: ConcernScore) -> str:
    """`FAILING: 3 of 12 tests failed (first: tests/mlprod/test_bias.py::test_x)`, or ''."""
    t = row.tests
    if t is None or not t.failed:
        return ""
    first = f" (first: {t.failures[0]})" if t.failures else ""
    return f"FAILING: {t.failed} of {t.passed + t.failed + t.skipped} tests failed{first}"


def row_text(row: ConcernScore) -> str:
    """What a row says: FAILING first, then why it is not 2; 'ok' only at 2 with no failure."""
    parts = [p for p in (failing_text(row), row.why) if p]
    return "; ".join(parts) if parts else "ok"


def _tests_cell(row: ConcernScore) -> str:
    t = row.tests
    return "-" if t is None else f"{t.passed}/{t.failed}/{t.skipped}"


def _colour(level: int, text: str, enabled: bool) -> str:
    if not enabled:
        return text
    code = {0: "31", 1: "33", 2: "32"}[level]
    return f"\x1b[{code}m{text}\x1b[0m"


def render_text(report: ScoreReport, colour: bool = False) -> str:
    """A plain table with aligned columns; ANSI colours only when asked (a tty)."""
    show_tests = report.results_given
    width = max(len(c.id) for c in report.concerns)
    head = f"  {'concern':<{width}}  level"
    if show_tests:
        head += "  tests p/f/s"
    today = report.today.isoformat() if report.today else ""
    lines = [f"mlprod score: {report.project} (today {today})", ""]
    if report.notes:
        lines += [f"note: {n}" for n in report.notes] + [""]
    lines.append(head + "  why not 2")
    pad = " " * (len(head) + 2)
    for row in report.concerns:
        level = _colour(row.level, str(row.level), colour)
        line = f"  {row.id:<{width}}  {level:>{5 + (9 if colour else 0)}}"
        if show_tests:
            line += f"  {_tests_cell(row):>11}"
        lines.append(f"{line}  {row_text(row)}".rstrip())
        if row.fix:
            lines.append(f"{pad}fix: {row.fix}")
        if row.tests is not None and row.tests.failures:
            for name in row.tests.failures[:5]:
                lines.append(f"{pad}failed: {name}")
            if len(row.tests.failures) > 5:
                lines.append(f"{pad}... and {len(row.tests.failures) - 5} more failed")
    lines += [
        "",
        f"total {report.total_text}; weakest: {weakest_text(report)}",
        report.interpretation,
    ]
    if report.results_given and report.unmapped_tests:
        lines.append(f"{report.unmapped_tests} test(s) in the results map to no concern")
    bar = f"min total {report.min_total}, min each {report.min_each}"
    if report.passed:
        lines.append(f"gate: passed ({bar})")
    else:
        lines.append(f"gate: FAILED ({bar}): {'; '.join(report.gate_failures)}")
    return "\n".join(lines)


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no HTML, no column breaks, one line.

    Inside a `code span` entities and backslashes are shown literally, so only `|` is
    escaped there (GitHub's tables read `\\|` in a code span as a pipe).
    """
    text = " ".join(text.split())
    if text.count("`") % 2:  # an unpaired backtick: no code spans at all
        return _md_text(text).replace("`", "\\`")
    parts = text.split("`")
    return "`".join(p.replace("|", "\\|") if i % 2 else _md_text(p) for i, p in enumerate(parts))


def _md_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|")


def render_markdown(report: ScoreReport) -> str:
    """A Markdown table for a CI step summary or a pull-request comment."""
    lines = [f"### mlprod score: {report.total_text}", ""]
    if report.notes:
        lines += [f"- {md_cell(n)}" for n in report.notes] + [""]
    lines += [
        "| concern | level | tests (passed/failed/skipped) | why not 2 | fix |",
        "|---|---|---|---|---|",
    ]
    for row in report.concerns:
        why = row_text(row) if row.failing or row.why else ""
        cells = [f"{row.id}", str(row.level), _tests_cell(row), why, row.fix]
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    lines += [
        "",
        f"**Total {md_cell(report.total_text)}.** Weakest: {md_cell(weakest_text(report))}."
        f" {md_cell(report.interpretation)}.",
    ]
    failures = [(r.id, f) for r in report.concerns if r.tests is not None for f in r.tests.failures]
    if failures:
        lines += ["", "Failed tests:", ""]
        lines += [f"- {md_cell(cid)}: {md_cell(name)}" for cid, name in failures[:50]]
    gate = "passed" if report.passed else "**failed**: " + md_cell("; ".join(report.gate_failures))
    lines += ["", f"Gate (min total {report.min_total}, min each {report.min_each}): {gate}", ""]
    return "\n".join(lines)


def render_json(report: ScoreReport) -> str:
    """The stable JSON form (docs/score.md)."""
    return json.dumps(report.as_dict(), indent=2)
