"""`mlprod init`: a new project from a bundled template, or a spec for an existing repository."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlprod.errors import ExitCode, RefusedError, UsageError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
DIR_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Template(StrEnum):
    CREDIT = "credit"
    MINIMAL = "minimal"


def check_name(name: str) -> str:
    """Project names follow the spec's identifier rule; checked before cookiecutter sees them."""
    import keyword

    if not NAME_RE.match(name) or keyword.iskeyword(name):
        raise UsageError(
            f"{name!r} is not a valid project name",
            hint="use lower-case letters, digits and '_', starting with a letter (e.g. credit_default)",
        )
    return name


def template_context(template: Template, name: str, directory: str, on: dt.date) -> dict[str, str]:
    """The cookiecutter answers: the name, dates relative to today and the running Python."""
    if template == Template.CREDIT:
        from mlprod.generator.ci_common import running_python

        deployed = on - dt.timedelta(days=26)
        return {
            "directory": directory,
            "project_name": name,
            "deployed": deployed.isoformat(),
            "expires": (deployed + dt.timedelta(days=365)).isoformat(),
            "next_planned": (deployed + dt.timedelta(days=304)).isoformat(),
            # The locked Python (reproducibility.python, the CI's): the one init runs on.
            "python": running_python(),
        }
    return {"directory": directory, "project_name": name, "signoff_on": on.isoformat()}


def scaffold(target: Path, template: Template, name: str, *, force: bool = False) -> Path:
    """Render the bundled cookiecutter template into `target`; return the project folder."""
    check_name(name)
    target = target.absolute()
    if not DIR_RE.match(target.name):
        raise UsageError(
            f"{target.name!r} is not a usable folder name", hint="use letters, digits, '.', '_', '-'"
        )
    if target.is_symlink():
        raise RefusedError(f"{target} is a symlink; refusing to write through it")
    if target.exists() and not target.is_dir():
        raise RefusedError(f"{target} exists and is not a folder")
    if target.exists() and any(target.iterdir()) and not force:
        raise RefusedError(
            f"{target} is not empty; nothing was written", hint="choose a new folder, or pass --force"
        )
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.main import cookiecutter

    import mlprod.templates

    source = Path(mlprod.templates.__file__).parent / "project" / template.value
    from mlprod.today import today

    context = template_context(template, name, target.name, today())
    with tempfile.TemporaryDirectory(prefix="mlprod-init-") as tmp:
        # A private cookiecutter config so nothing is written to the user's home (replays).
        config = Path(tmp) / "config.yaml"
        config.write_text(f'cookiecutters_dir: "{tmp}/cc"\nreplay_dir: "{tmp}/replay"\n', encoding="utf-8")
        try:  # rendered into a private folder, then copied through the safe writer
            out = cookiecutter(
                str(source),
                no_input=True,
                extra_context=context,
                output_dir=str(Path(tmp) / "out"),
                config_file=str(config),
                accept_hooks=False,
            )
        except CookiecutterException as exc:
            raise RefusedError(f"could not create the project: {exc}") from None
        except OSError as exc:
            raise RefusedError(f"could not create the project: {exc}") from None
        copy_into(Path(out), target, force=force)
    return target


def copy_into(rendered: Path, target: Path, *, force: bool) -> None:
    """Copy the rendered project into `target` through the safe writer.

    No symlink in `target` is followed; a file already there is replaced only with `force`.
    """
    from mlprod.generator import writer

    try:
        target.mkdir(exist_ok=True)
    except OSError as exc:
        raise RefusedError(f"could not create {target}: {exc.strerror or exc}") from None
    files = sorted(p for p in rendered.rglob("*") if p.is_file() and not p.is_symlink())
    with writer.interruptible(), writer.ProjectDir(target) as pd:
        for path in files:
            rel = path.relative_to(rendered).as_posix()
            if not force and pd.read_bytes(rel) is not None:
                raise RefusedError(f"{target / rel} exists; nothing more was written", hint="pass --force")
            pd.write(rel, path.read_bytes())


def next_steps(template: Template, folder: Path) -> str:
    """The "Next:" line after a scaffold: one plain sentence with the commands in order."""
    import shlex

    cd = f"cd {shlex.quote(str(folder))}"
    if template == Template.CREDIT:
        return (
            f"Next: {cd}, then run python prepare.py, mlprod lock, mlprod record, mlprod generate, "
            "pytest tests/mlprod and mlprod score."
        )
    return f"Next: {cd}, add your data and model, then run mlprod validate and mlprod score."


def init(
    directory: Annotated[
        Path | None, typer.Argument(help="Folder to create (default: the project name).")
    ] = None,
    template: Annotated[
        Template, typer.Option("--template", help="Which project template.")
    ] = Template.CREDIT,
    name: Annotated[str | None, typer.Option("--name", help="Project name: [a-z][a-z0-9_]*.")] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Do not prompt; use defaults.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty folder.")] = False,
    existing: Annotated[
        bool, typer.Option("--existing", help="Write mlprod.yaml for a repository that has data and a model.")
    ] = False,
    data: Annotated[
        Path | None, typer.Option("--data", help="With --existing: a CSV or Parquet file.")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="With --existing: the column predicted.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="With --existing: module:callable returning the model.")
    ] = None,
) -> int:
    """Create a new project, or (--existing) a spec inferred from a repository's data."""
    if existing:
        if data is None or target is None:
            raise UsageError("--existing needs --data PATH and --target COLUMN")
        from mlprod.generator.infer import write_existing_spec

        spec_path = (directory or Path(".")) / "mlprod.yaml"
        summary = write_existing_spec(spec_path, data=data, target=target, model=model)
        typer.echo(summary)
        return ExitCode.OK
    default_name = "credit_default" if template == Template.CREDIT else "churn"
    if name is None and not no_input:
        try:
            name = typer.prompt("Project name", default=default_name)
        except typer.Abort:  # no terminal (stdin closed): say how to run without prompts
            typer.echo("", err=True)
            raise UsageError(
                "no project name given (the prompt got no answer)",
                hint="pass --name NAME, or --no-input to use the default",
            ) from None
    if name is None:
        name = default_name
    check_name(name)
    folder = directory if directory is not None else Path(name.replace("_", "-"))
    out = scaffold(folder, template, name, force=force)
    typer.echo(f"Created {out} from the {template.value} template.")
    typer.echo(next_steps(template, folder))
    return ExitCode.OK


def register(app: typer.Typer) -> None:
    app.command("init", short_help="Scaffold a project, or infer a spec.")(init)
