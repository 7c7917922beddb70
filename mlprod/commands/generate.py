"""`mlprod generate`: render every artifact of the spec; `--check`, `--diff`, `--dry-run`, `--force`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlprod.errors import ExitCode, MlprodError, UsageError

_CHECK_WORDS = {"create": "missing", "refuse": "hand-edited/foreign", "leave": "left (edited)"}


def generate(
    spec: Annotated[Path, typer.Option("--spec", help="The spec file.")] = Path("mlprod.yaml"),
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 with a diff when files are stale.")
    ] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff of the changes, then write.")] = (
        False
    ),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write nothing; list what would change.")] = (
        False
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite hand-edited or foreign files at generated paths.")
    ] = False,
) -> int:
    """Generate tests, CI configs, notebooks and the model card from mlprod.yaml."""
    from mlprod.generator.engine import Action, Mode, generate_project

    if check and dry_run:
        raise UsageError("--check and --dry-run cannot be combined")
    mode = Mode.CHECK if check else Mode.DRY_RUN if dry_run else Mode.WRITE
    report = generate_project(spec, mode=mode, force=force)
    for note in report.notes:
        typer.echo(note, err=True)
    if mode == Mode.CHECK:
        if not report.changed:
            typer.echo(f"mlprod generate --check: {len(report.actions)} generated files are current.")
            stale_card = _stale_card(spec)
            if stale_card:
                typer.echo(f"note: {stale_card}.", err=True)
            return ExitCode.OK
        text = report.diff()
        if text:
            typer.echo(text, nl=False)
        stale = [a for a in report.actions if a.action != Action.UNCHANGED]
        typer.echo(f"mlprod generate --check: {len(stale) or 'the manifest'} out of date:", err=True)
        for a in stale:
            what = _CHECK_WORDS.get(a.action, a.action.value)
            typer.echo(f"  {what:<20} {a.path}" + (f" ({a.reason})" if a.reason else ""), err=True)
        stale_card = _stale_card(spec)
        typer.echo("Run `mlprod generate` to update them.", err=True)
        if stale_card:
            typer.echo(f"Also: {stale_card}.", err=True)
        return ExitCode.CHECK_FAILED
    if diff:
        typer.echo(report.diff(), nl=False)
    typer.echo(report.summary())
    stale_card = _stale_card(spec)
    if stale_card:
        typer.echo(f"stale model card: {stale_card}.", err=True)
    note = _workflow_outside_repo_top(spec, [a.path for a in report.actions])
    if note:
        typer.echo(note, err=True)
    if mode == Mode.DRY_RUN and report.refused:
        typer.echo("mlprod generate would refuse the files above (use --force to overwrite them).", err=True)
        return ExitCode.REFUSED
    return ExitCode.OK


def _stale_card(spec: Path) -> str | None:
    """Why the model card's measured sections are out of date and the command refreshing them."""
    from mlprod.generator.units.model_card import stale_reason
    from mlprod.schema import load_spec

    try:
        loaded = load_spec(spec)
    except MlprodError:  # generate_project already reported a broken spec
        return None
    return stale_reason(loaded.spec, loaded.root)


def _workflow_outside_repo_top(spec: Path, paths: list[str]) -> str | None:
    """A note when the GitHub workflow lands below the git top folder, where GitHub never runs it."""
    import subprocess

    if not any(p.startswith(".github/workflows/") for p in paths):
        return None
    root = spec.absolute().parent
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() == root.resolve():
        return None
    rel = root.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    tests = next((p.rsplit("/", 1)[0] for p in paths if p.endswith("/conftest.py")), "<outputs.tests>")
    return (
        f"note: GitHub runs workflows only from the repository's top folder, not from {rel}/.github/; "
        f"add a job there that runs `pytest {rel}/{tests}` (mlprod score checks for it)"
    )


def register(app: typer.Typer) -> None:
    app.command("generate", short_help="Render tests, CI, notebooks, model card.")(generate)
