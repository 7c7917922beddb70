"""`mlprod ci run`: the generated CI test job, locally, on a fresh clone of HEAD.

Users want to know before they push. The command clones HEAD of the project's git
repository into a temporary folder (nothing uncommitted travels), checks that the CI file
there is the one mlprod generated (its hash in `.mlprod/manifest.json`), and runs the test
job step by step in the clone: each `run:`/`script:` block with the job's environment in
the project's folder; `actions/checkout` is the clone, `actions/setup-python` this
interpreter (in a fresh virtual environment unless `--skip-install`), and
`actions/upload-artifact` a copy into `--artifacts`. It prints each step with its time and
result and exits with the job's result: 0 passed, 1 failed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlprod.errors import ExitCode, RefusedError, UsageError

from .ci_job import GITHUB_FILE, GITLAB_FILE, Job, Step, github_job, gitlab_job

#: What a failing step shows of its output (the end, where the error is).
TAIL_LINES = 60
ARTIFACTS = Path("reports") / "ci-run"
_MARK = ".mlprod-ci-run"  # marks a folder `ci run` wrote, so it may replace it next time


class Provider(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"


@dataclass
class Outcome:
    """The job's result: passed, the failing step, and the tests of its JUnit report."""

    passed: bool
    failed_step: str | None
    tests: int
    failures: int
    skipped: int
    junit: Path | None


def _git(args: list[str], cwd: Path) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RefusedError(f"git {args[0]} failed: {exc}") from None
    if proc.returncode != 0:
        raise RefusedError(f"git {args[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def clone_head(root: Path, into: Path) -> tuple[Path, str, bool]:
    """Clone HEAD of the repository holding `root` into `into`.

    Returns the project's folder in the clone, the commit and whether `root` has changes.
    """
    if shutil.which("git") is None:
        raise UsageError("mlprod ci run needs git: it runs the job on a clone of HEAD")
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], root)).resolve()
    except RefusedError:
        raise UsageError(
            f"{root} is not in a git repository",
            hint="the job runs on a clone of HEAD: git init and commit first",
        ) from None
    rel = root.resolve().relative_to(top)
    head = _git(["rev-parse", "HEAD"], root)
    dirty = bool(_git(["status", "--porcelain", "--", "."], root))
    _git(["clone", "-q", "--no-checkout", str(top), str(into)], root)
    _git(["checkout", "-q", "--detach", head], into)
    return into / rel, head, dirty


def verified_config(project: Path, path: str) -> str:
    """The CI file's text, only if `.mlprod/manifest.json` records exactly these bytes."""
    from mlprod.generator.manifest import read_manifest

    file = project / path
    if file.is_symlink() or not file.is_file():
        raise RefusedError(
            f"{path} is not in the commit", hint="run `mlprod generate` and commit the files it writes"
        )
    manifest, _ = read_manifest(project)
    entry = manifest.files.get(path)
    data = file.read_bytes()
    if entry is None or entry.managed or hashlib.sha256(data).hexdigest() != entry.sha256:
        raise RefusedError(
            f"{path} in the commit is not the file mlprod generated (it is missing from "
            ".mlprod/manifest.json, or was edited since); mlprod ci run runs only a job it wrote",
            hint="run `mlprod generate` (or `mlprod generate --force` to replace an edited file) and commit",
        )
    return data.decode("utf-8")


def _job_venv(venv: Path) -> Path:
    """The job's virtual environment, made from this interpreter when it does not exist yet."""
    if _python_of(venv).is_file():
        return venv
    typer.echo(f"creating a virtual environment for the job in {venv} ...")
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        raise RefusedError(
            f"cannot create a virtual environment in {venv}: {made.stderr.strip()}",
            hint="install Python's venv module, or pass --skip-install to use this environment",
        )
    return venv


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


def _shims(folder: Path) -> Path:
    """A bin folder whose python, pip, pytest and mlprod are this interpreter's (--skip-install).

    The job's lines call them by name; this interpreter may not have them on PATH (a user
    site install, `python -m mlprod`), so each is a small script running `sys.executable`.
    """
    import shlex

    folder.mkdir(parents=True, exist_ok=True)
    exe = shlex.quote(sys.executable)
    for name, args in (("python", ""), ("python3", ""), ("pip", " -m pip"), ("pytest", " -m pytest")):
        _script(folder / name, f'exec {exe}{args} "$@"')
    _script(folder / "mlprod", f'exec {exe} -m mlprod "$@"')
    return folder


def _script(path: Path, line: str) -> None:
    path.write_text(f"#!/bin/sh\n{line}\n", encoding="utf-8")
    path.chmod(0o755)


def job_env(job: Job, project: Path, bindir: Path, scratch: Path, venv: Path | None) -> dict[str, str]:
    """The job's environment: this one without pytest's and a venv's variables, plus the job's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_", "CI_"))}
    env.pop("VIRTUAL_ENV", None)
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(bindir), env.get("PATH", "")])
    env["CI"] = "true"
    if job.provider == Provider.GITHUB:
        summary = scratch / "step-summary.md"
        summary.touch()
        env.update(GITHUB_WORKSPACE=str(project), GITHUB_STEP_SUMMARY=str(summary), RUNNER_TEMP=str(scratch))
    else:
        env.update(CI_PROJECT_DIR=str(project), CI_PIPELINE_SOURCE="push", CI_JOB_NAME=job.name)
    env.update(job.env)
    return env


def _run_script(step: Step, cwd: Path, env: dict[str, str], scratch: Path) -> tuple[int, str]:
    script = scratch / "step.sh"
    script.write_text(step.run or "", encoding="utf-8")
    # GitHub's `shell: bash` and GitLab's runner shell both stop at the first failing command.
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    return proc.returncode, proc.stdout


def _inside(base: Path, rel: str) -> Path:
    target = (base / rel).resolve()
    if not target.is_relative_to(base.resolve()):
        raise RefusedError(f"the job names {rel!r}, which is outside the clone")
    return target


def copy_artifact(source: Path, dest: Path) -> str:
    """Copy a job's artifact folder or file into `dest` (replacing an earlier copy of ours)."""
    if dest.is_symlink() or (dest.exists() and not (dest / _MARK).is_file()):
        raise RefusedError(f"{dest} exists and was not written by mlprod ci run; nothing was copied")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / _MARK).write_text("written by mlprod ci run\n", encoding="utf-8")
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True, symlinks=True)
    elif source.is_file():
        shutil.copy2(source, dest / source.name)
    else:
        return f"nothing at {source.name}"
    return f"copied to {dest}"


def run_job(
    job: Job,
    project: Path,
    env: dict[str, str],
    scratch: Path,
    artifacts: Path,
    skip_install: bool,
    python: str,
) -> str | None:
    """Run the steps in order; print each with its time and result. The failing step's name, or None."""
    failed: str | None = None
    for number, step in enumerate(job.steps, start=1):
        label = f"[{number}] {step.name}"
        if failed is not None and not step.always:
            typer.echo(f"{label} ... skipped (an earlier step failed)")
            continue
        if step.install and skip_install:
            typer.echo(f"{label} ... skipped (--skip-install: this environment)")
            continue
        typer.echo(f"{label} ...", nl=False)
        start = time.perf_counter()
        code, output, note = 0, "", ""
        if step.uses == "actions/checkout":
            note = "the clone of HEAD"
        elif step.uses == "actions/setup-python":
            note = f"this interpreter, Python {python}"
        elif step.uses == "actions/upload-artifact":
            source = _inside(project, step.inputs.get("path", ""))
            note = copy_artifact(source, artifacts / step.inputs.get("name", "artifact"))
        else:
            summary = Path(env.get("GITHUB_STEP_SUMMARY", scratch / "none"))
            before = summary.stat().st_size if summary.is_file() else 0
            code, output = _run_script(step, project, env, scratch)
            if code != 0 and summary.is_file():  # what the step wrote to the job summary
                with summary.open(encoding="utf-8", errors="replace") as fh:
                    fh.seek(before)
                    output += fh.read()
        took = time.perf_counter() - start
        result = "ok" if code == 0 else f"failed (exit {code})"
        typer.echo(f" {result} {took:.1f}s" + (f" ({note})" if note else ""))
        if code != 0:
            tail = output.rstrip().splitlines()[-TAIL_LINES:]
            typer.echo("\n".join(f"    {line}" for line in tail), err=True)
            failed = failed or step.name
    if job.provider == Provider.GITLAB and job.artifacts:  # `artifacts: when: always`
        for path in job.artifacts:
            copy_artifact(_inside(project, path), artifacts / job.name)
    return failed


def junit_counts(path: Path) -> tuple[int, int, int]:
    """(tests, failed or errors, skipped) of a JUnit report."""
    cases = list(ET.parse(path).getroot().iter("testcase"))
    failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    return len(cases), failed, skipped


def run_ci(
    root: Path,
    provider: Provider = Provider.GITHUB,
    *,
    skip_install: bool = False,
    venv: Path | None = None,
    artifacts: Path | None = None,
) -> Outcome:
    """Clone HEAD, check the generated job, run it; the job's outcome (see module docstring)."""
    from mlprod.generator.ci_common import JUNIT, running_python

    python = running_python()
    artifacts = (artifacts or root / ARTIFACTS).absolute()
    with tempfile.TemporaryDirectory(prefix="mlprod-ci-") as tmp:
        scratch = Path(tmp)
        project, head, dirty = clone_head(root, scratch / "clone")
        typer.echo(f"mlprod ci run: the {provider.value} test job on a clone of {head[:12]}")
        if dirty:
            typer.echo("note: uncommitted changes are not in the clone; the job runs the last commit")
        path = GITHUB_FILE if provider == Provider.GITHUB else GITLAB_FILE
        text = verified_config(project, path)
        job = github_job(text, python) if provider == Provider.GITHUB else gitlab_job(text, python)
        if job.pythons and python not in job.pythons:
            typer.echo(f"note: the job runs Python {', '.join(job.pythons)}; this is Python {python}")
        bindir = _shims(scratch / "bin")
        if not skip_install:
            venv = _job_venv((venv or scratch / "venv").absolute())
            bindir = _python_of(venv).parent
        else:
            venv = None
        env = job_env(job, project, bindir, scratch, venv)
        started = time.perf_counter()
        failed = run_job(job, project, env, scratch, artifacts, skip_install, python)
        junit = project / JUNIT
        tests = junit_counts(junit) if junit.is_file() else (0, 0, 0)
        kept = None
        if junit.is_file():
            kept = artifacts / "junit.xml"
            artifacts.mkdir(parents=True, exist_ok=True)
            shutil.copy2(junit, kept)
        result = "passed" if failed is None else "failed"
        typer.echo(f"job {job.name}: {result} in {time.perf_counter() - started:.0f}s")
    return Outcome(failed is None, failed, *tests, kept)


def ci_run(
    spec: Annotated[Path, typer.Option("--spec", help="The spec file; its folder is the project.")] = Path(
        "mlprod.yaml"
    ),
    provider: Annotated[Provider, typer.Option("--provider", help="Which generated job.")] = Provider.GITHUB,
    skip_install: Annotated[
        bool, typer.Option("--skip-install", help="Skip the install step; use this environment.")
    ] = False,
    venv: Annotated[
        Path | None,
        typer.Option(
            "--venv", help="Virtual environment of the job (created if missing; default: a new one)."
        ),
    ] = None,
    artifacts: Annotated[
        Path | None,
        typer.Option("--artifacts", help="Copy uploaded artifacts here (default: reports/ci-run)."),
    ] = None,
) -> int:
    """Run the generated CI test job locally, step by step, on a fresh clone of HEAD."""
    root = spec.absolute().parent
    if not spec.is_file():
        raise UsageError(f"no spec file at {spec}", hint="run it in the project folder, or pass --spec")
    outcome = run_ci(root, provider, skip_install=skip_install, venv=venv, artifacts=artifacts)
    typer.echo(summary_line(outcome))
    return ExitCode.OK if outcome.passed else ExitCode.CHECK_FAILED


def summary_line(outcome: Outcome) -> str:
    """'the CI job your push will run: passed (N tests)', or what fails."""
    skipped = f", {outcome.skipped} skipped" if outcome.skipped else ""
    if outcome.passed:
        return f"the CI job your push will run: passed ({outcome.tests} tests{skipped})"
    if outcome.failures:
        return (
            f"the CI job your push will run: fails ({outcome.failures} of {outcome.tests} tests failing"
            f"{skipped}; first failing step: {outcome.failed_step})"
        )
    return f"the CI job your push will run: fails at step {outcome.failed_step}"


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The generated CI, locally.", no_args_is_help=True)
    group.command("run", short_help="Run the generated CI test job on a clone of HEAD.")(ci_run)
    app.add_typer(group, name="ci", short_help="Run the generated CI job locally.")
