"""`mlprod score`: rate the project 0/1/2 per concern from evidence, and gate CI on it."""

from __future__ import annotations

import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlprod.errors import ExitCode

if TYPE_CHECKING:
    from mlprod.score.report import ScoreReport


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def today_from_env() -> date:
    """Today: `MLPROD_TODAY` (ISO date) when set, else the local date."""
    from mlprod.today import today

    return today()


def write_badge(path: Path, report: ScoreReport, root: Path | None = None, *, force: bool = False) -> None:
    """Write the SVG badge inside the project (`root`, default the working folder) safely.

    Through the one safe writer (mlprod.generator.writer.write_file): no symlinked folder,
    target or temporary file is followed (git commits symlinks, so a pull request can plant
    one), and an existing file that is not an mlprod badge is not overwritten unless `force`.
    """
    import re

    from mlprod.generator import writer
    from mlprod.score.badge import render_badge

    def is_badge(data: bytes) -> bool:
        title = re.search(rb"<title>mlprod[^<]*</title>", data)
        return data.lstrip().startswith(b"<svg") and title is not None

    base = root if root is not None else Path.cwd()
    rel = writer.project_rel(base, path)
    writer.write_file(
        base,
        rel,
        render_badge(report.total, report.max, failing=report.failing),
        owned=is_badge,
        force=force,
        hint="choose another --badge path, or delete the file first",
    )


# --- the command ---------------------------------------------------------------------


def score(
    spec: Annotated[Path, typer.Option("--spec", help="The spec file.")] = Path("mlprod.yaml"),
    results: Annotated[
        list[Path] | None,
        typer.Option(
            "--results",
            help="JUnit XML from `pytest --junitxml` of the generated tests; repeat it for the union of "
            "several jobs. Without it, the last run record (.mlprod/last-run.json).",
        ),
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
    from mlprod.score.formats import render_json, render_markdown, render_text
    from mlprod.score.rubric import score_project

    report = score_project(
        spec, results=list(results or []), today=today_from_env(), min_total=min_total, min_each=min_each
    )
    if format == Format.JSON:
        typer.echo(render_json(report))
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
