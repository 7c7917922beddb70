"""`mlprod demo`: the credit example end to end, in its own git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from mlprod.errors import CheckFailed, ExitCode, RefusedError

GIT_IDENTITY = (
    "-c",
    "user.name=mlprod demo",
    "-c",
    "user.email=demo@mlprod.invalid",
    "-c",
    "commit.gpgsign=false",
)


class Steps:
    """Prints each step with its time; stops at the first failing one with its output."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = dict(os.environ)
        # On a 2-core machine scikit-learn's OpenMP threads can make a fit 100x slower when
        # another process is busy; one thread is plenty for this example.
        self.env.setdefault("OMP_NUM_THREADS", "1")
        self.env.setdefault("MPLBACKEND", "Agg")
        self.n = 0
        self.last_output = ""

    def run(
        self, title: str, *argvs: Sequence[str], ok_codes: tuple[int, ...] = (0,), show: bool = False
    ) -> int:
        """Run one step (one or more commands in turn) and print its time."""
        self.n += 1
        typer.echo(f"[{self.n}] {title} ...", nl=False)
        start = time.perf_counter()
        for argv in argvs:
            proc = subprocess.run(list(argv), cwd=self.folder, env=self.env, capture_output=True, text=True)
            if proc.returncode not in ok_codes:
                break
        took = time.perf_counter() - start
        self.last_output = proc.stdout + proc.stderr
        typer.echo(f" {took:.1f}s")
        if proc.returncode not in ok_codes:
            typer.echo(proc.stdout + proc.stderr, err=True)
            raise CheckFailed(
                f"demo step {title!r} failed (exit {proc.returncode}); the project is in {self.folder}"
            )
        if show:
            typer.echo(proc.stdout.rstrip())
        return proc.returncode

    def mlprod(self, title: str, *args: str, ok_codes: tuple[int, ...] = (0,), show: bool = False) -> int:
        return self.run(title, [sys.executable, "-m", "mlprod", *args], ok_codes=ok_codes, show=show)


def _ci_job(steps: Steps) -> tuple[str, str]:
    """Run the generated CI test job on a clone of the demo's commit (`mlprod ci run --skip-install`).

    The job runs the generated tests, so the demo does not run them a second time; returns
    the job's JUnit report and its one-line result.
    """
    from mlprod.commands.ci import ARTIFACTS

    argv = [sys.executable, "-m", "mlprod", "ci", "run", "--skip-install"]
    code = steps.run("run the CI job your push will run (mlprod ci run)", argv, ok_codes=(0, 1))
    output = steps.last_output.strip().splitlines()
    line = output[-1] if output else "the CI job your push will run: no result"
    if code != 0:  # say what failed: the job's step lines, then the failing step's output
        typer.echo(steps.last_output.rstrip(), err=True)
    return (ARTIFACTS / "junit.xml").as_posix(), line


def demo(
    directory: Annotated[Path, typer.Argument(help="Folder to create the demo in.")] = Path("mlprod-demo"),
) -> int:
    """Scaffold the credit example, train, lock, record, generate, test, evaluate and score."""
    from mlprod.commands.init import Template, scaffold

    folder = directory.absolute()
    if (folder / "mlprod.yaml").exists():
        raise RefusedError(
            f"{directory} already holds an mlprod project; nothing was changed",
            hint="run `mlprod score` inside it, remove it to start again, or pass another folder",
        )
    # `scaffold` would refuse too, but its hint names `--force`, which demo does not have.
    if folder.is_dir() and not folder.is_symlink() and any(folder.iterdir()):
        raise RefusedError(
            f"{directory} is not empty; nothing was written",
            hint="pass a new or empty folder: mlprod demo DIR",
        )
    started = time.perf_counter()
    typer.echo(f"mlprod demo: the German credit example in {directory}")
    typer.echo("[0] scaffold the credit template ...", nl=False)
    t0 = time.perf_counter()
    try:
        scaffold(folder, Template.CREDIT, "credit_default")
    except BaseException:
        typer.echo(" failed")  # end the step's line before the error is shown
        raise
    typer.echo(f" {time.perf_counter() - t0:.1f}s")
    steps = Steps(folder)
    steps.run(
        "prepare data splits, train 0.9.0 and 1.0.0, simulate serving (committed as evidence)",
        [sys.executable, "prepare.py"],
    )
    has_git = shutil.which("git") is not None
    if has_git:
        steps.run("create a git repository", ["git", "init", "-q"])
    steps.mlprod("validate the spec", "validate")
    steps.mlprod("lock data and artifact hashes (mlprod.lock)", "lock")
    steps.mlprod("record golden predictions", "record")
    steps.mlprod("generate tests, CI, notebooks, collaboration files", "generate")
    steps.mlprod("evaluate the model and write the model card", "evaluate")
    if has_git:
        steps.run(
            "commit everything",
            ["git", *GIT_IDENTITY, "add", "-A"],
            ["git", *GIT_IDENTITY, "commit", "-q", "-m", "mlprod demo: credit example"],
        )
    if has_git:
        junit, ci_line = _ci_job(steps)
    else:
        junit, ci_line = "reports/junit.xml", None
        steps.run(
            "run the generated tests",
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/mlprod",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={junit}",
            ],
            ok_codes=(0, 1),
        )
    typer.echo("")
    code = subprocess.run(
        [sys.executable, "-m", "mlprod", "score", "--results", junit, "--badge", "reports/badge.svg"],
        cwd=folder,
        env=steps.env,
    ).returncode
    total = time.perf_counter() - started
    typer.echo(f"\nDone in {total:.0f}s. Open next, in {directory}:")
    typer.echo("  MODEL_CARD.md                   the model card, with measured numbers")
    typer.echo("  tests/mlprod/                   the generated tests (pytest tests/mlprod)")
    typer.echo(
        "  monitoring/*.ipynb              drift, bias, latency and baseline notebooks (mlprod monitor)"
    )
    typer.echo("  .github/workflows/mlprod.yml    the CI that runs them on every push and daily")
    if not has_git:
        typer.echo("git is not installed: no concern can score 2 (versioned) without it.")
    if ci_line is not None:
        typer.echo(f"\n{ci_line}")
    ci_failed = ci_line is not None and ": passed (" not in ci_line
    return ExitCode.OK if code == 0 and not ci_failed else ExitCode.CHECK_FAILED


def register(app: typer.Typer) -> None:
    app.command("demo", short_help="The credit example end to end.")(demo)
