"""The `mlprod` command line: a thin typer layer over plain functions.

Each command lives in `mlprod/commands/<name>.py` and exposes `register(app)`. Command
modules import heavy libraries (pandas, jinja2, nbclient, cookiecutter) only inside the
function that needs them, so `mlprod validate` and `mlprod score` start fast.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import traceback
from typing import Annotated

import typer

from mlprod import __version__
from mlprod.errors import ExitCode, MlprodError

#: Command modules, in the order `mlprod --help` lists them.
COMMANDS: tuple[str, ...] = (
    "init",
    "validate",
    "generate",
    "lock",
    "record",
    "evaluate",
    "monitor",
    "score",
    "ci",
    "demo",
)

app = typer.Typer(
    name="mlprod",
    help="The production checklist of an ML system, as code: validate the spec, generate "
    "tests, CI, notebooks and a model card, and score the project 0/1/2 on ten concerns.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlprod {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    if debug:
        os.environ["MLPROD_DEBUG"] = "1"


_registered: set[str] = set()


def _register_all(args: list[str] | None = None) -> None:
    """Register command modules, once each; for `mlprod CMD ...` only CMD's module.

    Importing just the invoked command keeps start-up flat as commands are added; help,
    no arguments and unknown commands register all so they can be listed or suggested.
    """
    first = next((a for a in args or [] if not a.startswith("-")), None)
    for name in (first,) if first in COMMANDS else COMMANDS:
        if name in _registered:
            continue
        module = f"mlprod.commands.{name}"
        try:
            command = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a missing dependency inside the module is a real error
                raise
            continue
        command.register(app)
        _registered.add(name)


_CHOICE_RE = re.compile(r"^(?:Value error, )?(?P<value>'[^']*') is not one of (?P<choices>.*?)\.?$")


def _plain_message(exc: Exception) -> None:
    """A plain sentence for a bad choice, instead of pydantic's `Value error, 'x' is not one of ...`."""
    message = getattr(exc, "message", None)
    if not isinstance(message, str):
        return
    match = _CHOICE_RE.match(message)
    if match:
        choices = [c.strip().strip("'") for c in match["choices"].split(",")]
        exc.message = f"{match['value']} is not a choice; use one of: {', '.join(choices)}."  # type: ignore[attr-defined]
    elif message.startswith("Value error, "):
        exc.message = message.removeprefix("Value error, ")  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn every error into a message and an exit code."""
    try:  # typer >= 0.20 vendors click as typer._click
        from typer import _click as click  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - older typer
        import click  # type: ignore[no-redef]

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MLPROD_DEBUG") == "1"
    # `--debug` sets MLPROD_DEBUG for this run (and the subprocesses it starts); put it back
    # afterwards so one in-process call with --debug does not leak tracebacks into the next.
    debug_env = os.environ.get("MLPROD_DEBUG")
    _register_all(args)
    code: int
    try:
        result = app(args=args, prog_name="mlprod", standalone_mode=False)
        code = int(result) if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except click.exceptions.ClickException as exc:  # usage errors, missing arguments
        if type(exc).__name__ == "NoArgsIsHelpError":
            typer.echo(exc.format_message() if hasattr(exc, "format_message") else str(exc))
            code = ExitCode.OK
        else:
            _plain_message(exc)
            exc.show()
            code = ExitCode.INVALID
    except typer.Abort:
        typer.echo("aborted", err=True)
        code = ExitCode.CHECK_FAILED
    except MlprodError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(exc.render(), err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    except Exception as exc:  # a bug: say so plainly, no traceback without --debug
        if debug:  # the traceback, but still exit 4 (re-raising would exit 1)
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in mlprod. Re-run with --debug for the traceback and report it.",
            err=True,
        )
        code = ExitCode.INTERNAL
    finally:
        if debug_env is None:
            os.environ.pop("MLPROD_DEBUG", None)
        else:
            os.environ["MLPROD_DEBUG"] = debug_env
    if argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
