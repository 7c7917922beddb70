"""`.gitlab-ci.yml`: the same checks as the GitHub workflow, for GitLab CI.

Jobs:
- `mlprod-test` (every pipeline except scheduled ones): one job per Python of the matrix
  (`release.ci.python`, else the locked Python; `parallel:matrix`, image
  `python:<version>`); JUnit results through `artifacts:reports:junit`, the score as
  `reports/score.md`.
- `mlprod-monitor` (scheduled pipelines only): the determinism, infrastructure and bias
  tests against the current data. GitLab keeps the schedule itself in the project settings
  (CI/CD > Schedules); `release.ci.schedule` is the cron to enter there.

Spec values are global variables with `expand: false`, so GitLab does not expand `$...`
inside them; script lines are constants and quote the variables they use.
"""

from __future__ import annotations

from typing import Any

from mlprod.generator.base import Artifact, Context, Kind, unit
from mlprod.generator.ci_common import JUNIT, REPORTS, CIPlan, ci_plan, dump_yaml, providers

PATH = ".gitlab-ci.yml"
TEST_JOB = "mlprod-test"
MONITOR_JOB = "mlprod-monitor"
_SCHEDULED = '$CI_PIPELINE_SOURCE == "schedule"'


def _job(pythons: list[str], stage: str) -> dict[str, Any]:
    return {
        "stage": stage,
        "image": "python:$PYTHON_VERSION",
        "parallel": {"matrix": [{"PYTHON_VERSION": list(pythons)}]},
    }


def _artifacts() -> dict[str, Any]:
    return {
        "when": "always",
        "paths": [f"{REPORTS}/"],
        "reports": {"junit": JUNIT},
    }


def _test_job(plan: CIPlan) -> dict[str, Any]:
    job = _job(plan.pythons, "test")
    job["rules"] = [{"if": _SCHEDULED, "when": "never"}, {"when": "on_success"}]
    script = [
        *plan.install_lines,
        *plan.setup_lines,
        plan.validate,
        f"mlprod generate --check{plan.spec_option}",
        f"mkdir -p {REPORTS}",
    ]
    score = f"mlprod score{plan.spec_option} --format markdown"
    # Run the score even when tests fail (it reports them), then fail the job for either.
    if plan.automated:
        script.append(f'pytest "$MLPROD_TESTS" --junitxml={JUNIT} || touch {REPORTS}/tests-failed')
        score = f"mlprod score{plan.spec_option} --results {JUNIT} --format markdown"
    script += [
        f"{score} > {REPORTS}/score.md || touch {REPORTS}/score-failed",
        f"cat {REPORTS}/score.md",
        f"test ! -e {REPORTS}/tests-failed && test ! -e {REPORTS}/score-failed",
    ]
    job["script"] = script
    job["artifacts"] = _artifacts()
    return job


def _monitor_job(plan: CIPlan) -> dict[str, Any]:
    job = _job(plan.pythons[:1], "monitor")
    job["rules"] = [{"if": _SCHEDULED}]
    files = " ".join(plan.test_files)
    job["script"] = [*plan.install_lines, *plan.setup_lines, f"pytest {files} --junitxml={JUNIT}"]
    job["artifacts"] = _artifacts()
    return job


def render_gitlab(plan: CIPlan) -> str:
    """The `.gitlab-ci.yml` text (without the generated-file header)."""
    variables: dict[str, Any] = {"OMP_NUM_THREADS": "1"}
    for name, value in plan.env.items():
        variables[name] = {"value": value, "expand": False}
    config: dict[str, Any] = {
        "stages": ["test", "monitor"] if plan.scheduled else ["test"],
        "variables": variables,
        TEST_JOB: _test_job(plan),
    }
    if plan.scheduled:
        config[MONITOR_JOB] = _monitor_job(plan)
    return dump_yaml(config)


@unit("ci_gitlab")
def ci_gitlab(ctx: Context) -> list[Artifact]:
    """The GitLab CI configuration, when GitLab is one of the CI providers."""
    if "gitlab" not in providers(ctx.spec):
        return []
    content = render_gitlab(ci_plan(ctx.spec, ctx.version, ctx.spec_file))
    return [Artifact(PATH, content, Kind.YAML, concern="release")]
