"""`.github/workflows/mlprod.yml`: the generated checks on every change and on a schedule.

Jobs:
- `test` (push, pull request): one job per Python of the matrix (`release.ci.python`, else
  the locked Python); checks out, installs, fetches data and models (`release.ci.setup`,
  when given), validates the spec, checks the generated files are current, runs the generated
  tests with JUnit output, appends the score to the step summary and uploads the reports.
- `monitor` (cron `release.ci.schedule`, or started by hand): runs the determinism,
  infrastructure and bias tests against the current data, so monitoring is continuous.
- `serving` (push, pull request; only when the spec declares `serving`): starts the
  server with `serving.start` (or, without it, uses the URL in the repository variable
  MLPROD_SERVING_URL, e.g. a staging endpoint), waits for its health URL and runs the
  generated serving tests against it (docs/serving.md).

Spec values reach steps only through `env:` (see generator/ci_common.py). GitHub evaluates
`${{ }}` in every string of a workflow, env values included, so a spec value containing
`${{` is refused rather than written.
"""

from __future__ import annotations

from typing import Any

from mlprod.generator.actions import uses
from mlprod.generator.base import Artifact, Context, Kind, unit
from mlprod.generator.ci_common import JUNIT, REPORTS, Block, CIPlan, ci_plan, dump_yaml, providers
from mlprod.schema.models import Serving

from mlprod.errors import RefusedError

PATH = ".github/workflows/mlprod.yml"
#: Job names and step names, in order: the tests assert exactly these.
TEST_JOB = "test"
MONITOR_JOB = "monitor"
SERVING_JOB = "serving"
#: Where the serving job's server listens: `serving.start` must bind this port.
SERVING_PORT = 8080

#: The step running `release.ci.setup` (after Install, before the tests).
SETUP_STEP = "Fetch data and models"
_SETUP = "Set up Python ${{ matrix.python-version }}"


def _refuse_expressions(env: dict[str, str]) -> None:
    for name, value in env.items():
        if "${{" in value:
            raise RefusedError(
                f"a spec value for {name} contains '${{{{', which GitHub Actions would evaluate "
                "as an expression",
                hint="remove it from mlprod.yaml; give secrets to CI through the repository's "
                "settings and refer to them by environment variable in your own scripts",
            )


def _common_steps(plan: CIPlan) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [
        {"name": "Check out", "uses": uses("actions/checkout", plan.pins)},
        {
            "name": _SETUP,
            "uses": uses("actions/setup-python", plan.pins),
            "with": {"python-version": "${{ matrix.python-version }}"},
        },
        {"name": "Install", "run": Block("\n".join(plan.install_lines) + "\n")},
    ]
    if plan.setup_lines:  # release.ci.setup: fetch the data and models the tests read
        steps.append({"name": SETUP_STEP, "run": Block("\n".join(plan.setup_lines) + "\n")})
    return steps


def _upload(plan: CIPlan, name: str) -> dict[str, Any]:
    return {
        "name": "Upload reports",
        "if": "${{ !cancelled() }}",
        "uses": uses("actions/upload-artifact", plan.pins),
        "with": {
            "name": f"{name}-py${{{{ matrix.python-version }}}}",
            "path": f"{REPORTS}/",
            "if-no-files-found": "ignore",
        },
    }


def _test_job(plan: CIPlan) -> dict[str, Any]:
    steps = _common_steps(plan)
    steps.append({"name": "Validate the spec", "run": plan.validate})
    steps.append(
        {"name": "Check generated files are current", "run": f"mlprod generate --check{plan.spec_option}"}
    )
    score = f"mlprod score{plan.spec_option} --format markdown"
    if plan.automated:
        steps.append(
            {"name": "Run mlprod tests", "run": f'pytest "$MLPROD_TESTS" --junitxml={JUNIT}'},
        )
        score = f"mlprod score{plan.spec_option} --results {JUNIT} --format markdown"
    steps.append(
        {"name": "Score", "if": "${{ !cancelled() }}", "run": f'{score} >> "$GITHUB_STEP_SUMMARY"'},
    )
    steps.append(_upload(plan, "mlprod-reports"))
    return {
        "name": "mlprod checks (Python ${{ matrix.python-version }})",
        "if": "github.event_name == 'push' || github.event_name == 'pull_request'",
        "runs-on": "ubuntu-latest",
        "strategy": {"fail-fast": False, "matrix": {"python-version": list(plan.pythons)}},
        "env": plan.env,
        "steps": steps,
    }


def _monitor_job(plan: CIPlan) -> dict[str, Any]:
    steps = _common_steps(plan)
    files = " ".join(plan.test_files)
    steps.append({"name": "Run monitoring tests", "run": f"pytest {files} --junitxml={JUNIT}"})
    steps.append(_upload(plan, "mlprod-monitoring"))
    return {
        "name": "mlprod monitoring",
        "if": "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'",
        "runs-on": "ubuntu-latest",
        # One Python is enough to watch the data; the first listed is the primary one.
        "strategy": {"matrix": {"python-version": [plan.pythons[0]]}},
        "env": plan.env,
        "steps": steps,
    }


def _serving_job(plan: CIPlan, serving: Serving) -> dict[str, Any]:
    """Start the server (or use the staging URL), wait for health (bounded), run the serving tests.

    Spec values travel as environment values under constant names: the start command in
    MLPROD_SERVING_START (run with `bash -c`, like release.ci.install), the health path in
    MLPROD_SERVING_HEALTH; the URL variable's *name* (validated: [A-Z_][A-Z0-9_]*) is an
    env key whose value mlprod writes.
    """
    env = dict(plan.env)
    env["MLPROD_SERVING_HEALTH"] = serving.health_path
    if serving.start is not None:
        env["MLPROD_SERVING_START"] = serving.start
        env["MLPROD_SERVING_URL"] = f"http://127.0.0.1:{SERVING_PORT}"
    else:  # a deployed (staging) endpoint: its URL and header values from the repository settings
        env["MLPROD_SERVING_URL"] = "${{ vars.MLPROD_SERVING_URL }}"
        for n, var in enumerate(sorted(serving.headers_env.values()), start=1):
            env[var] = f"${{{{ secrets.MLPROD_SERVING_HEADER_{n} }}}}"
    _refuse_expressions(
        {"MLPROD_SERVING_START": serving.start or "", "MLPROD_SERVING_HEALTH": serving.health_path}
    )
    env[serving.url_env] = env["MLPROD_SERVING_URL"]
    steps = _common_steps(plan)
    if serving.start is not None:
        steps.append(
            {
                "name": "Start the model server",
                "run": Block(
                    f"mkdir -p {REPORTS}\n"
                    f'nohup bash -c "$MLPROD_SERVING_START" > {REPORTS}/serving-server.log 2>&1 &\n'
                ),
            }
        )
    steps.append(
        {
            "name": "Wait for the model server",
            "run": Block(
                'test -n "$MLPROD_SERVING_URL" || { echo "no serving URL: tests will be skipped"; exit 0; }\n'
                "for i in $(seq 1 60); do\n"
                '  if curl -fsS -o /dev/null "$MLPROD_SERVING_URL$MLPROD_SERVING_HEALTH"; then exit 0; fi\n'
                "  sleep 2\n"
                "done\n"
                'echo "no 200 from $MLPROD_SERVING_URL$MLPROD_SERVING_HEALTH within 120 s" >&2\n'
                f"cat {REPORTS}/serving-server.log >&2 || true\n"
                "exit 1\n"
            ),
        }
    )
    steps.append(
        {"name": "Run serving tests", "run": f'pytest "$MLPROD_TESTS/test_serving.py" --junitxml={JUNIT}'}
    )
    steps.append(_upload(plan, "mlprod-serving"))
    return {
        "name": "mlprod serving checks",
        "if": "github.event_name == 'push' || github.event_name == 'pull_request'",
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 30,
        "strategy": {"matrix": {"python-version": [plan.pythons[0]]}},
        "env": env,
        "steps": steps,
    }


def render_workflow(plan: CIPlan, serving: Serving | None = None) -> str:
    """The workflow text (without the generated-file header)."""
    _refuse_expressions(plan.env)
    on: dict[str, Any] = {"push": None, "pull_request": None}
    jobs: dict[str, Any] = {TEST_JOB: _test_job(plan)}
    if plan.scheduled:
        on["schedule"] = [{"cron": plan.schedule}]
        on["workflow_dispatch"] = None
        jobs[MONITOR_JOB] = _monitor_job(plan)
    if serving is not None:
        jobs[SERVING_JOB] = _serving_job(plan, serving)
    workflow = {
        "name": "mlprod",
        "on": on,
        "permissions": {"contents": "read"},
        # One run per branch and trigger; a newer push cancels the older run.
        "concurrency": {
            "group": "mlprod-${{ github.ref }}-${{ github.event_name }}",
            "cancel-in-progress": True,
        },
        # Fits and predictions single-threaded: CI runners are small and shared.
        "env": {"OMP_NUM_THREADS": "1"},
        "jobs": jobs,
    }
    return dump_yaml(workflow)


@unit("ci_github")
def ci_github(ctx: Context) -> list[Artifact]:
    """The GitHub Actions workflow, when GitHub is one of the CI providers."""
    if "github" not in providers(ctx.spec):
        return []
    content = render_workflow(ci_plan(ctx.spec, ctx.version, ctx.spec_file), ctx.spec.serving)
    return [Artifact(PATH, content, Kind.YAML, concern="release")]
