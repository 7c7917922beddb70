"""What `generate` writes for a spec with `serving`: test_serving.py and the CI serving job.

The generated tests carry their own concern each (determinism or infrastructure); the CI
job starts the server through an environment variable, never a `run:` line or `${{ }}`.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS / "generator"))

from helpers import credit_spec_text  # noqa: E402
from injection_corpus import CORPUS  # noqa: E402
from mlprod.generator.base import Context  # noqa: E402
from mlprod.generator.units import suites  # noqa: E402
from mlprod.generator.units.ci_github import ci_github  # noqa: E402
from mlprod.generator.units.suites import render_suites  # noqa: E402
from mlprod.schema import parse_spec_text  # noqa: E402

from mlprod.errors import RefusedError, SpecError  # noqa: E402

SERVING = {
    "url_env": "STAGING_MODEL_URL",
    "protocol": "records",
    "start": "uvicorn serve:app --host 127.0.0.1 --port 8080",
    "load": {"rate_per_s": 20, "duration_s": 5, "warmup_s": 1},
    "budget": {"p50_ms": 50, "p99_ms": 300},
}


def spec_text(serving: dict[str, Any] | None = SERVING, change: Any = None) -> str:
    data = yaml.safe_load(credit_spec_text())
    if serving is not None:
        data["serving"] = serving
    if change is not None:
        change(data)
    return yaml.safe_dump(data, sort_keys=False, width=10_000)


def ctx_of(text: str, root: Path = Path(".")) -> Context:
    return Context(parse_spec_text(text), "0" * 64, "0.1.0", root, "mlprod.yaml")


def serving_file(text: str) -> str | None:
    arts = {a.path: a for a in render_suites(ctx_of(text))}
    art = arts.get("tests/mlprod/test_serving.py")
    if art is not None:
        assert art.concern is None  # it serves two concerns: every concern's suite depends on it
    return art.content if art else None


def marked_concerns(source: str) -> dict[str, str]:
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            (mark,) = node.decorator_list
            assert isinstance(mark, ast.Call) and ast.unparse(mark.func) == "pytest.mark.mlprod"
            out[node.name] = ast.literal_eval(mark.keywords[0].value)
    return out


def test_serving_tests_are_marked_with_their_own_concern() -> None:
    source = serving_file(spec_text())
    assert source is not None
    assert marked_concerns(source) == {
        "test_served_predictions_match_golden_file": "determinism",
        "test_served_predictions_repeat": "determinism",
        "test_served_latency_under_load": "infrastructure",
        "test_served_bad_requests_rejected": "infrastructure",
    }
    assert "pytestmark" not in source
    assert "'STAGING_MODEL_URL'" in source or '"STAGING_MODEL_URL"' in source


def test_marked_concerns_reads_the_same_markers() -> None:
    source = serving_file(spec_text())
    assert source is not None
    assert suites.marked_concerns(source) == marked_concerns(source)


def test_no_serving_section_no_file() -> None:
    assert serving_file(spec_text(None)) is None


def test_only_automated_concerns_and_declared_budgets_get_tests() -> None:
    def manual_determinism(d: dict[str, Any]) -> None:
        d["determinism"]["mode"] = "manual"

    no_budget = {k: v for k, v in SERVING.items() if k != "budget"}
    source = serving_file(spec_text(no_budget, manual_determinism))
    assert source is not None
    assert marked_concerns(source) == {"test_served_bad_requests_rejected": "infrastructure"}

    def no_infra_no_golden(d: dict[str, Any]) -> None:
        del d["infrastructure"]
        del d["determinism"]["golden"]

    source = serving_file(spec_text(SERVING, no_infra_no_golden))
    assert source is not None
    assert marked_concerns(source) == {"test_served_predictions_repeat": "determinism"}


def test_generated_serving_file_is_ruff_clean(tmp_path: Path) -> None:
    source = serving_file(spec_text())
    assert source is not None
    path = tmp_path / "test_serving.py"
    path.write_text(source, encoding="utf-8")
    # From the file's own folder, as in a user's project (mlprod is third-party there).
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "."],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def _workflow(text: str) -> dict[str, Any]:
    (art,) = ci_github(ctx_of(text))
    return yaml.safe_load(art.content)


def _runs(job: dict[str, Any]) -> list[str]:
    return [line for step in job["steps"] for line in str(step.get("run", "")).splitlines()]


def test_ci_serving_job_starts_the_server_through_the_environment() -> None:
    wf = _workflow(spec_text())
    assert list(wf["jobs"]) == ["test", "monitor", "serving"]
    job = wf["jobs"]["serving"]
    assert [s["name"] for s in job["steps"]] == [
        "Check out",
        "Set up Python ${{ matrix.python-version }}",
        "Install",
        "Start the model server",
        "Wait for the model server",
        "Run serving tests",
        "Upload reports",
    ]
    assert job["env"]["MLPROD_SERVING_START"] == SERVING["start"]
    assert job["env"]["STAGING_MODEL_URL"] == job["env"]["MLPROD_SERVING_URL"] == "http://127.0.0.1:8080"
    runs = _runs(job)
    assert 'nohup bash -c "$MLPROD_SERVING_START" > reports/serving-server.log 2>&1 &' in runs
    assert all("uvicorn" not in line and "STAGING_MODEL_URL" not in line for line in runs)
    assert "for i in $(seq 1 60); do" in runs  # the health wait is bounded
    assert 'pytest "$MLPROD_TESTS/test_serving.py" --junitxml=reports/junit.xml' in runs
    assert "serving" not in _workflow(spec_text(None))["jobs"]


def test_ci_without_start_points_at_a_staging_endpoint_from_repository_settings() -> None:
    serving = {k: v for k, v in SERVING.items() if k != "start"}
    serving["headers_env"] = {"Authorization": "MODEL_TOKEN", "X-Tenant": "MODEL_TENANT"}
    job = _workflow(spec_text(serving))["jobs"]["serving"]
    assert "Start the model server" not in [s["name"] for s in job["steps"]]
    assert job["env"]["MLPROD_SERVING_URL"] == "${{ vars.MLPROD_SERVING_URL }}"
    assert job["env"]["MODEL_TENANT"] == "${{ secrets.MLPROD_SERVING_HEADER_1 }}"
    assert job["env"]["MODEL_TOKEN"] == "${{ secrets.MLPROD_SERVING_HEADER_2 }}"


def test_generated_workflow_with_serving_passes_the_github_schema(tmp_path: Path) -> None:
    (art,) = ci_github(ctx_of(spec_text()))
    path = tmp_path / "mlprod.yml"
    path.write_text(art.content, encoding="utf-8")
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    proc = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("s", CORPUS, ids=range(len(CORPUS)))
def test_start_command_is_data_never_a_command(s: str) -> None:
    try:
        ctx = ctx_of(spec_text({**SERVING, "start": s}))
    except SpecError:
        return  # refused by validate, located (a line break, `${{`, a blank value)
    if "${{" in s:
        with pytest.raises(RefusedError):
            ci_github(ctx)
        return
    (art,) = ci_github(ctx)
    job = yaml.safe_load(art.content)["jobs"]["serving"]
    assert job["env"]["MLPROD_SERVING_START"] == s
    assert _runs(job) == _runs(_workflow(spec_text())["jobs"]["serving"])
    exprs = {m.strip() for m in re.findall(r"\$\{\{(.*?)\}\}", art.content, flags=re.S)}
    assert exprs <= {"matrix.python-version", "github.ref", "github.event_name", "!cancelled()"}


def test_validate_refuses_start_with_an_expression() -> None:
    with pytest.raises(SpecError) as err:
        ctx_of(spec_text({**SERVING, "start": "uvicorn serve:app --port ${{ secrets.PORT }}"}))
    assert "serving.start: the start command contains '${{'" in err.value.render()
