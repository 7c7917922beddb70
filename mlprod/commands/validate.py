"""`mlprod validate`: parse and validate the spec; report every problem, located.

It never writes a file and never imports project code: `module:callable` references are
checked against the entry-point grammar only.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mlprod import CONCERNS
from mlprod.errors import ExitCode, RefusedError, SpecError, SpecNotFound


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def summary(spec: Any) -> dict[str, Any]:
    """What a valid spec declares: concerns (and which are manual), stages, cohorts, data sets."""
    declared = [c for c in CONCERNS if spec.concern_mode(c) is not None]
    return {
        "project": spec.project.name,
        "concerns": declared,
        "manual": [c for c in declared if spec.concern_mode(c) == "manual"],
        "stages": len(spec.pipeline.stages) if spec.pipeline else 0,
        "cohorts": len(spec.cohorts),
        "datasets": len(spec.data.datasets),
    }


def validate(
    path: Annotated[Path | None, typer.Argument(help="The spec file (default mlprod.yaml).")] = None,
    spec_option: Annotated[
        Path | None, typer.Option("--spec", help="The spec file, as the other commands take it.")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="Output format: text or json.")] = Format.TEXT,
) -> int:
    """Validate mlprod.yaml and list every problem. Writes nothing, imports no project code."""
    from mlprod.errors import UsageError
    from mlprod.schema import load_spec

    if path is not None and spec_option is not None and path != spec_option:
        raise UsageError(f"two spec files given ({path} and --spec {spec_option}); pass one")
    spec = path or spec_option or Path("mlprod.yaml")

    try:
        loaded = load_spec(spec)
    except SpecError as exc:
        if format == Format.JSON:
            typer.echo(
                json.dumps({"valid": False, "problems": [p.as_dict() for p in exc.problems]}, indent=2)
            )
            return ExitCode.INVALID
        raise
    except (SpecNotFound, RefusedError) as exc:  # no file (exit 2), or an unreadable one (exit 3)
        if format == Format.JSON:
            report = {"valid": False, "error": exc.message, "hint": exc.hint, "problems": []}
            typer.echo(json.dumps(report, indent=2))
            return exc.exit_code
        raise
    info = summary(loaded.spec)
    if format == Format.JSON:
        typer.echo(json.dumps({"valid": True, "file": str(spec), **info}, indent=2))
        return ExitCode.OK
    concerns = ", ".join(info["concerns"]) or "none"
    manual = f" ({len(info['manual'])} manual)" if info["manual"] else ""
    typer.echo(
        f"{spec}: valid. {info['project']}: {len(info['concerns'])}/{len(CONCERNS)} concerns declared"
        f"{manual} [{concerns}], {info['stages']} stages, {info['cohorts']} cohorts,"
        f" {info['datasets']} datasets."
    )
    return ExitCode.OK


def register(app: typer.Typer) -> None:
    app.command("validate", short_help="Validate the spec; locate every problem.")(validate)
