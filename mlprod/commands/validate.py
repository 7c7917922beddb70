"""`mlprod validate`: parse and validate the spec; report every problem, located."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlprod import CONCERNS
from mlprod.errors import ExitCode, SpecError


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def validate(
    spec: Annotated[Path, typer.Argument(help="The spec file.")] = Path("mlprod.yaml"),
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TEXT,
) -> int:
    """Validate mlprod.yaml. Writes nothing and never imports project code."""
    from mlprod.schema import load_spec

    try:
        loaded = load_spec(spec)
    except SpecError as exc:
        if format == Format.JSON:
            typer.echo(json.dumps({"valid": False, "problems": [p.as_dict() for p in exc.problems]}, indent=2))
            return ExitCode.INVALID
        raise
    s = loaded.spec
    declared = [c for c in CONCERNS if s.concern_mode(c) is not None]
    manual = [c for c in declared if s.concern_mode(c) == "manual"]
    stages = len(s.pipeline.stages) if s.pipeline else 0
    if format == Format.JSON:
        typer.echo(
            json.dumps(
                {
                    "valid": True,
                    "project": s.project.name,
                    "concerns": declared,
                    "manual": manual,
                    "stages": stages,
                    "cohorts": len(s.cohorts),
                    "datasets": len(s.data.datasets),
                },
                indent=2,
            )
        )
    else:
        typer.echo(
            f"{spec}: valid. {s.project.name}: {len(declared)}/10 concerns declared"
            f" ({len(manual)} manual), {stages} stages, {len(s.cohorts)} cohorts,"
            f" {len(s.data.datasets)} datasets."
        )
    return ExitCode.OK


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
