"""`mlprod score`: rate the project 0/1/2 per concern from evidence, and gate CI on it."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlprod.errors import ExitCode

if TYPE_CHECKING:
    from mlprod.generator.rubric import ConcernScore, ScoreReport


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def today_from_env() -> date:
    """Today: `MLPROD_TODAY` (ISO date) when set, else the local date."""
    from mlprod.today import today

    return today()


# --- renderers -----------------------------------------------------------------------


def weakest_text(report: ScoreReport) -> str:
    """The weakest concerns and their level, in words."""
    if report.weakest_level == 2:
        return "none, every concern is at level 2"
    names = "all concerns" if len(report.weakest) == len(report.concerns) else ", ".join(report.weakest)
    return f"{names} (level {report.weakest_level})"


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
    lines = [f"mlprod score: {report.project} (today {today})", "", head + "  why not 2"]
    pad = " " * (len(head) + 2)
    for row in report.concerns:
        line = (
            f"  {row.id:<{width}}  {_colour(row.level, str(row.level), colour):>{5 + (9 if colour else 0)}}"
        )
        if show_tests:
            line += f"  {_tests_cell(row):>11}"
        lines.append(f"{line}  {row.why or 'ok'}".rstrip())
        if row.fix:
            lines.append(f"{pad}fix: {row.fix}")
        if row.tests is not None and row.tests.failures:
            for name in row.tests.failures[:5]:
                lines.append(f"{pad}failed: {name}")
            if len(row.tests.failures) > 5:
                lines.append(f"{pad}... and {len(row.tests.failures) - 5} more failed")
    lines += [
        "",
        f"total {report.total}/{report.max}; weakest: {weakest_text(report)}",
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
    lines = [
        f"### mlprod score: {report.total}/{report.max}",
        "",
        "| concern | level | tests (passed/failed/skipped) | why not 2 | fix |",
        "|---|---|---|---|---|",
    ]
    for row in report.concerns:
        cells = [f"{row.id}", str(row.level), _tests_cell(row), row.why, row.fix]
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    lines += [
        "",
        f"**Total {report.total}/{report.max}.** Weakest: {md_cell(weakest_text(report))}."
        f" {md_cell(report.interpretation)}.",
    ]
    failures = [(r.id, f) for r in report.concerns if r.tests is not None for f in r.tests.failures]
    if failures:
        lines += ["", "Failed tests:", ""]
        lines += [f"- {md_cell(cid)}: {md_cell(name)}" for cid, name in failures[:50]]
    gate = "passed" if report.passed else "**failed**: " + md_cell("; ".join(report.gate_failures))
    lines += ["", f"Gate (min total {report.min_total}, min each {report.min_each}): {gate}", ""]
    return "\n".join(lines)


def write_badge(path: Path, report: ScoreReport, root: Path | None = None, *, force: bool = False) -> None:
    """Write the SVG badge inside the project (`root`, default the working folder) safely.

    Through the one safe writer (mlprod.generator.writer.write_file): no symlinked folder,
    target or temporary file is followed (git commits symlinks, so a pull request can plant
    one), and an existing file that is not an mlprod badge is not overwritten unless `force`.
    """
    import re

    from mlprod.generator import writer
    from mlprod.generator.badge import render_badge

    def is_badge(data: bytes) -> bool:
        title = re.search(rb"<title>mlprod[^<]*</title>", data)
        return data.lstrip().startswith(b"<svg") and title is not None

    base = root if root is not None else Path.cwd()
    rel = writer.project_rel(base, path)
    writer.write_file(
        base,
        rel,
        render_badge(report.total, report.max),
        owned=is_badge,
        force=force,
        hint="choose another --badge path, or delete the file first",
    )


# --- the command ---------------------------------------------------------------------


def score(
    spec: Annotated[Path, typer.Option("--spec", help="The spec file.")] = Path("mlprod.yaml"),
    results: Annotated[
        Path | None,
        typer.Option("--results", help="JUnit XML from `pytest --junitxml` of the generated tests."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TEXT,
    badge: Annotated[Path | None, typer.Option("--badge", help="Also write an SVG badge here.")] = None,
    min_total: Annotated[
        int | None, typer.Option("--min-total", min=0, max=20, help="Override score.min_total.")
    ] = None,
    min_each: Annotated[
        int | None, typer.Option("--min-each", min=0, max=2, help="Override score.min_each.")
    ] = None,
) -> int:
    """Rate each concern 0/1/2 from evidence; exit 1 below the bar or on failed tests."""
    from mlprod.generator.rubric import score_project

    report = score_project(
        spec, results=results, today=today_from_env(), min_total=min_total, min_each=min_each
    )
    if format == Format.JSON:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    elif format == Format.MARKDOWN:
        typer.echo(render_markdown(report))
    else:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        typer.echo(render_text(report, colour=colour))
    if badge is not None:
        write_badge(badge, report, spec.absolute().parent)
    return ExitCode.OK if report.passed else ExitCode.CHECK_FAILED


def register(app: typer.Typer) -> None:
    app.command("score", short_help="Rate the ten concerns 0/1/2; gate CI.")(score)
