"""`mlprod score`: rate the project 0/1/2 per concern from evidence, and gate CI on it."""

from __future__ import annotations

import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlprod.errors import ExitCode, RefusedError

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


def write_badge(path: Path, report: ScoreReport) -> None:
    """Write the SVG badge atomically (temporary file, then rename)."""
    from mlprod.score.badge import render_badge

    if path.is_symlink():
        raise RefusedError(f"refusing to write the badge through a symlink: {path}")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(
            render_badge(report.total, report.max, failing=report.failing), encoding="utf-8", newline="\n"
        )
        os.replace(tmp, path)
    except OSError as exc:
        raise RefusedError(f"cannot write the badge {path}: {exc}") from None


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
        write_badge(badge, report)
    return ExitCode.OK if report.passed else ExitCode.CHECK_FAILED


def register(app: typer.Typer) -> None:
    app.command("score", short_help="Rate the ten concerns 0/1/2; gate CI.")(score)
