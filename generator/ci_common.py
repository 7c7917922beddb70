"""What the GitHub and GitLab CI units share: the plan of a CI run and a safe YAML dumper.

The safety rule for CI files: no spec value is ever written on a `run:`/`script:` line or
inside `${{ }}`. Every shell line below is a constant written by mlprod; the few spec
values a step needs (the tests folder, the lockfile, user install commands) travel in
environment variables, are emitted by the YAML dumper, and are quoted where the shell
expands them (`"$MLPROD_TESTS"`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml
from mlprod.schema.models import Spec
from mlprod.schema.types import Mode

from mlprod import CONCERNS

#: Concerns whose generated tests the scheduled monitoring job runs against current data.
SCHEDULED_CONCERNS: tuple[str, ...] = ("determinism", "infrastructure", "bias")
#: The spec file name the mlprod commands read when not told otherwise.
DEFAULT_SPEC = "mlprod.yaml"
#: Where a CI run writes its JUnit results and score report (a constant, never a spec value).
REPORTS = "reports"
JUNIT = f"{REPORTS}/junit.xml"

# The mlprod version lands on an install line; it is ours, but check its shape anyway.
_VERSION_RE = re.compile(r"^[0-9A-Za-z.+!\-]+$")


class Block(str):
    """A constant multi-line shell script: emitted as a YAML literal block (`|`)."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes `Block` strings as literal blocks and indents lists."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent sequences under their key, as GitHub's and GitLab's documentation do.
        super().increase_indent(flow, False)


def _block(dumper: yaml.SafeDumper, data: Block) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")


_Dumper.add_representer(Block, _block)


def dump_yaml(data: Any) -> str:
    """YAML text of plain data in insertion order; every spec value goes through the dumper."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=False,  # non-ASCII and control characters become escapes
        width=1_000_000,  # never fold a line: a run line stays one line
    )


@dataclass(frozen=True)
class CIPlan:
    """The provider-independent content of a CI configuration."""

    pythons: list[str]
    automated: list[str]  # automated concerns, rubric order
    scheduled: list[str]  # automated concerns the scheduled job runs
    tests: str  # outputs.tests (a spec value: environment only)
    schedule: str  # cron (validated pattern)
    install_env: dict[str, str] = field(default_factory=dict)  # spec values
    install_lines: list[str] = field(default_factory=list)  # constants only
    setup_env: dict[str, str] = field(default_factory=dict)  # spec values (release.ci.setup)
    setup_lines: list[str] = field(default_factory=list)  # constants only
    pins: dict[str, str] = field(default_factory=dict)
    spec_file: str = DEFAULT_SPEC  # the spec's file name (a spec value when not the default)

    @property
    def env(self) -> dict[str, str]:
        """Environment of every job: the spec values steps need, by constant names."""
        spec = {} if self.spec_file == DEFAULT_SPEC else {"MLPROD_SPEC": self.spec_file}
        return {"MLPROD_TESTS": self.tests, **spec, **self.install_env, **self.setup_env}

    @property
    def validate(self) -> str:
        """The validate command line (a spec not named mlprod.yaml is passed by variable)."""
        return "mlprod validate" + ("" if self.spec_file == DEFAULT_SPEC else ' "$MLPROD_SPEC"')

    @property
    def spec_option(self) -> str:
        """` --spec "$MLPROD_SPEC"` for `generate` and `score`, or nothing for mlprod.yaml."""
        return "" if self.spec_file == DEFAULT_SPEC else ' --spec "$MLPROD_SPEC"'

    @property
    def test_files(self) -> list[str]:
        """Shell words naming the scheduled concerns' test files (constants + "$MLPROD_TESTS")."""
        return [f'"$MLPROD_TESTS/test_{c}.py"' for c in self.scheduled]


def automated_concerns(spec: Spec) -> list[str]:
    """Concerns with generated tests, in rubric order."""
    return [c for c in CONCERNS if spec.concern_mode(c) == Mode.AUTOMATED]


def providers(spec: Spec) -> list[str]:
    """CI providers to generate for.

    With a `release` section, `release.ci.providers` decides (default github). Without it,
    a GitHub workflow is still generated when any concern is automated, because generated
    tests only count for the rubric when CI runs them.
    """
    if spec.release is not None:
        return [str(p) for p in spec.release.ci.providers]
    return ["github"] if automated_concerns(spec) else []


def running_python() -> str:
    """major.minor of the interpreter running mlprod."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def ci_pythons(spec: Spec) -> list[str]:
    """The CI's Python matrix: `release.ci.python` when given, else the locked Python.

    The locked Python is `reproducibility.python`, else the interpreter running `generate`
    (`validate` refuses a `release.ci.python` holding any other version than the locked one,
    since a job on another Python fails the reproducibility check by construction).
    """
    ci = spec.release.ci if spec.release is not None else None
    if ci is not None and ci.python:
        return list(dict.fromkeys(ci.python))
    repro = spec.reproducibility
    return [repro.python if repro is not None and repro.python else running_python()]


def ci_plan(spec: Spec, version: str, spec_file: str = DEFAULT_SPEC) -> CIPlan:
    """The plan both CI units render (`spec_file`: the spec's name in the project root)."""
    ci = spec.release.ci if spec.release is not None else None
    automated = automated_concerns(spec)
    env, lines = _install(spec, version)
    setup_env, setup_lines = _setup(spec)
    return CIPlan(
        pythons=ci_pythons(spec),
        automated=automated,
        scheduled=[c for c in automated if c in SCHEDULED_CONCERNS],
        tests=spec.outputs.tests,
        schedule=ci.schedule if ci is not None else "0 6 * * *",
        install_env=env,
        install_lines=lines,
        setup_env=setup_env,
        setup_lines=setup_lines,
        pins=dict(ci.pins) if ci is not None else {},
        spec_file=spec_file,
    )


def _install(spec: Spec, version: str) -> tuple[dict[str, str], list[str]]:
    """Install step: environment (spec values) and shell lines (constants).

    `release.ci.install` replaces the default install entirely (so it must install mlprod
    itself, e.g. from a private index). Each command is stored in MLPROD_INSTALL_<n> and
    run with `bash -c "$MLPROD_INSTALL_<n>"`: the command is executed, as its author asked,
    but never spliced into the CI file's own script, so it cannot add steps or keys or
    reach `${{ }}` evaluation on the script line.
    """
    ci = spec.release.ci if spec.release is not None else None
    if ci is not None and ci.install:
        given = {f"MLPROD_INSTALL_{i}": cmd for i, cmd in enumerate(ci.install, start=1)}
        return given, [f'bash -c "$MLPROD_INSTALL_{i}"' for i in range(1, len(ci.install) + 1)]
    if not _VERSION_RE.match(version):
        raise ValueError(f"unexpected mlprod version {version!r}")
    env: dict[str, str] = {}
    lines = ["python -m pip install --upgrade pip"]
    repro = spec.reproducibility
    if repro is not None and repro.lockfile:
        env["MLPROD_LOCKFILE"] = repro.lockfile
        lines.append('pip install -r "$MLPROD_LOCKFILE"')
    lines.append(f'pip install "mlprod[checks]=={version}"')
    return env, lines


def _setup(spec: Spec) -> tuple[dict[str, str], list[str]]:
    """Setup step (`release.ci.setup`): environment (spec values) and shell lines (constants).

    The commands fetch byte-identical data and models before the tests (`dvc pull`,
    `mlflow artifacts download ...`). As with `release.ci.install`, each is stored in
    MLPROD_SETUP_<n> and run with `bash -c "$MLPROD_SETUP_<n>"`, never spliced into a line.
    """
    ci = spec.release.ci if spec.release is not None else None
    if ci is None or not ci.setup:
        return {}, []
    env = {f"MLPROD_SETUP_{i}": cmd for i, cmd in enumerate(ci.setup, start=1)}
    return env, [f'bash -c "$MLPROD_SETUP_{i}"' for i in range(1, len(ci.setup) + 1)]
