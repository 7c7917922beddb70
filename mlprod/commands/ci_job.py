"""The generated CI test job as a list of local steps (`mlprod ci run`).

`github_job` and `gitlab_job` read the job mlprod generated (the caller has checked the
file against the manifest) into `Step`s: a shell script, or a `uses:` action that
`mlprod ci run` gives its local meaning (checkout is the clone, setup-python the local
interpreter, upload-artifact a copy). Only the shapes mlprod writes are understood;
anything else (an unknown action, an `if:` other than `!cancelled()`, an expression on a
script line) is refused rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from mlprod.errors import RefusedError

GITHUB_FILE = ".github/workflows/mlprod.yml"
GITLAB_FILE = ".gitlab-ci.yml"
GITHUB_JOB = "test"
GITLAB_JOB = "mlprod-test"
#: The GitHub step that installs mlprod and the requirements (`--skip-install` skips it).
INSTALL_STEP = "Install"
#: Actions `mlprod ci run` knows the local meaning of.
KNOWN_ACTIONS = ("actions/checkout", "actions/setup-python", "actions/upload-artifact")
_ALWAYS = "${{ !cancelled() }}"
_MATRIX = re.compile(r"\$\{\{\s*matrix\.python-version\s*\}\}")
# GitLab install lines, as generator/ci_common.py writes them (default or release.ci.install).
_GITLAB_INSTALL = re.compile(r'^(python -m pip install |pip install |bash -c "\$MLPROD_INSTALL_\d+"$)')


@dataclass
class Step:
    """One step of the job: a shell script, or an action with its inputs."""

    name: str
    run: str | None = None
    uses: str | None = None  # the action without its @ref
    inputs: dict[str, str] = field(default_factory=dict)
    always: bool = False  # runs after an earlier step failed (`if: ${{ !cancelled() }}`)
    install: bool = False


@dataclass
class Job:
    """The test job: its steps, environment, Python matrix and (GitLab) artifact paths."""

    provider: str
    name: str
    env: dict[str, str]
    steps: list[Step]
    pythons: list[str]
    artifacts: list[str] = field(default_factory=list)  # GitLab `artifacts:paths`, copied at the end


def _load(text: str, file: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RefusedError(f"{file} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RefusedError(f"{file} is not a CI configuration (a mapping at the top)")
    return data


def _env(values: Any, file: str) -> dict[str, str]:
    """String environment from a workflow `env:` or GitLab `variables:` mapping."""
    out: dict[str, str] = {}
    for name, value in (values or {}).items():
        if isinstance(value, dict):  # GitLab: {value: ..., expand: false}
            value = value.get("value", "")
        if not isinstance(name, str) or isinstance(value, dict | list):
            raise RefusedError(f"{file}: the environment variable {name!r} is not a plain value")
        out[name] = "" if value is None else str(value)
    return out


def _no_expression(script: str, file: str, name: str) -> str:
    if "${{" in script:
        raise RefusedError(
            f"{file}: step {name!r} has an expression on its script line; mlprod never writes one"
        )
    return script


def github_job(text: str, python: str, job: str = GITHUB_JOB) -> Job:
    """The GitHub workflow's `job` as local steps (`python`: the matrix value used here)."""
    data = _load(text, GITHUB_FILE)
    spec = (data.get("jobs") or {}).get(job)
    if not isinstance(spec, dict):
        raise RefusedError(f"{GITHUB_FILE} has no job {job!r}")
    matrix = ((spec.get("strategy") or {}).get("matrix") or {}).get("python-version") or []
    env = {**_env(data.get("env"), GITHUB_FILE), **_env(spec.get("env"), GITHUB_FILE)}
    steps: list[Step] = []
    for raw in spec.get("steps") or []:
        name = _MATRIX.sub(python, str(raw.get("name", "")))
        condition = raw.get("if")
        if condition not in (None, _ALWAYS):
            raise RefusedError(f"{GITHUB_FILE}: step {name!r} has a condition mlprod ci run cannot evaluate")
        step = Step(name=name, always=condition == _ALWAYS, install=name == INSTALL_STEP)
        if "uses" in raw:
            action = str(raw["uses"]).split("@", 1)[0]
            if action not in KNOWN_ACTIONS:
                raise RefusedError(f"{GITHUB_FILE}: step {name!r} uses {action}, which mlprod never writes")
            step.uses = action
            step.inputs = {k: _MATRIX.sub(python, str(v)) for k, v in (raw.get("with") or {}).items()}
        else:
            step.run = _no_expression(str(raw.get("run", "")), GITHUB_FILE, name)
        if raw.get("env"):
            raise RefusedError(f"{GITHUB_FILE}: step {name!r} has its own env, which mlprod never writes")
        steps.append(step)
    return Job("github", job, env, steps, [str(v) for v in matrix])


def gitlab_job(text: str, python: str, job: str = GITLAB_JOB) -> Job:
    """The GitLab configuration's `job` as local steps, one per script line."""
    data = _load(text, GITLAB_FILE)
    spec = data.get(job)
    if not isinstance(spec, dict):
        raise RefusedError(f"{GITLAB_FILE} has no job {job!r}")
    matrix = [
        str(v)
        for entry in (spec.get("parallel") or {}).get("matrix") or []
        for v in entry.get("PYTHON_VERSION", [])
    ]
    env = {**_env(data.get("variables"), GITLAB_FILE), **_env(spec.get("variables"), GITLAB_FILE)}
    env["PYTHON_VERSION"] = python
    steps: list[Step] = [
        Step(name="Check out", uses="actions/checkout"),
        Step(name=f"Set up Python {python}", uses="actions/setup-python", inputs={"python-version": python}),
    ]
    installing = True
    for line in spec.get("script") or []:
        line = str(line)
        installing = installing and bool(_GITLAB_INSTALL.match(line))
        steps.append(Step(name=line, run=line, install=installing))
    artifacts = spec.get("artifacts") or {}
    return Job(
        "gitlab", job, env, steps, [str(v) for v in matrix], [str(p) for p in artifacts.get("paths") or []]
    )
