"""A bare typer app with one command and a callback, like mlprod's: the start-up baseline."""

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug")] = False) -> None:
    pass


@app.command()
def validate(spec: Annotated[Path, typer.Argument()] = Path("mlprod.yaml")) -> None:
    typer.echo(f"{spec}: ok")


if __name__ == "__main__":
    app()
