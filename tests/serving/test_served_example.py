"""The generated serving tests against examples/credit/serve.py, healthy and with seeded defects.

Each defect is caught by exactly its own check: a float32 cast with rounded probabilities
by golden replay, a 300 ms stall every 2 s by the open-loop p99 (p50 still passes), a 500
on a bad row by the bad-request check. The healthy server passes all four. The example's
budget (p50 200 ms, p99 250 ms) leaves 10x over the healthy p50 and 5x over the healthy p99
when the machine is quiet enough (else the latency judgements skip, with the figures); the
stall pushes p99 to ~300 ms.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from servekit import BUSY_P50_MS, BUSY_P99_MS, server
from suitekit import Outcome, run_generated

pytestmark = pytest.mark.slow

GOLDEN = "test_serving.py::test_served_predictions_match_golden_file"
REPEAT = "test_serving.py::test_served_predictions_repeat"
LATENCY = "test_serving.py::test_served_latency_under_load"
ROBUST = "test_serving.py::test_served_bad_requests_rejected"
ALL = (GOLDEN, REPEAT, LATENCY, ROBUST)


def _run(root: Path, url: str | None) -> dict[str, Outcome]:
    env = {"MODEL_URL": url} if url else {"MODEL_URL": ""}
    outcomes, proc = run_generated(root, "test_serving.py", **env)
    assert set(outcomes) == set(ALL), proc.stdout
    return outcomes


def _failed(outcomes: dict[str, Outcome]) -> set[str]:
    return {name for name, o in outcomes.items() if o.status in ("failed", "error")}


def _why(outcomes: dict[str, Outcome]) -> str:
    return "\n".join(f"{n}: {o.status}: {o.message.strip()[:600]}" for n, o in outcomes.items())


def _latency_judgeable(busy: bool, figures: dict[str, float]) -> None:
    if busy:
        pytest.skip(
            "this machine is too busy for the example's latency budget (p50 200 ms, p99 250 ms) "
            f"to keep its 10x margin: the healthy server's p50 is {figures['p50_ms']:.0f} ms "
            f"(at most {BUSY_P50_MS:.0f}), p99 {figures['p99_ms']:.0f} ms (at most {BUSY_P99_MS:.0f}) "
            "at 20 req/s"
        )


def test_healthy_server_passes_every_serving_check(
    served_credit: Path, busy: bool, healthy_figures: dict[str, float]
) -> None:
    _latency_judgeable(busy, healthy_figures)
    with server(served_credit) as url:
        outcomes = _run(served_credit, url)
    assert {n: o.status for n, o in outcomes.items()} == dict.fromkeys(ALL, "passed"), _why(outcomes)
    assert outcomes[GOLDEN].concern == "determinism" and outcomes[LATENCY].concern == "infrastructure"


def test_float32_and_rounding_fail_golden_replay_only(served_credit: Path) -> None:
    with server(served_credit, "float32") as url:
        outcomes = _run(served_credit, url)
    # Latency is judged by the healthy and stall tests (which skip on a busy machine); here a
    # load spike from other jobs can time out one of its 120 requests, so it is left out.
    assert _failed(outcomes) - {LATENCY} == {GOLDEN}, _why(outcomes)
    assert outcomes[REPEAT].status == outcomes[ROBUST].status == "passed", _why(outcomes)
    message = outcomes[GOLDEN].message
    assert "differ from tests/golden/predictions.csv" in message and "worst rows: id " in message


def test_stalls_fail_p99_while_p50_passes(
    served_credit: Path, busy: bool, healthy_figures: dict[str, float]
) -> None:
    _latency_judgeable(busy, healthy_figures)
    with server(served_credit, "stall") as url:
        outcomes = _run(served_credit, url)
    assert _failed(outcomes) == {LATENCY}, _why(outcomes)
    message = outcomes[LATENCY].message
    assert "served p99 latency at 20 req/s (achieved" in message
    assert "served p50" not in message  # only failed results are reported: p50 passed


def test_500_on_a_bad_row_fails_the_bad_request_check_only(served_credit: Path, busy: bool) -> None:
    with server(served_credit, "bad_row") as url:
        outcomes = _run(served_credit, url)
    assert _failed(outcomes) - ({LATENCY} if busy else set()) == {ROBUST}, _why(outcomes)
    assert "got 500, a server error" in outcomes[ROBUST].message


def test_unset_url_judges_nothing(served_credit: Path) -> None:
    outcomes = _run(served_credit, None)
    assert not _failed(outcomes)
    for o in outcomes.values():  # skipped with the reason once `ensure` skips what judges nothing
        assert o.status == "passed" or "MODEL_URL" in o.message


def _project(root: Path):
    from mlprod.schema import load_spec

    from mlprod.checks.project import Project

    FEATURES = list(load_spec(root / "mlprod.yaml").spec.data.features)

    config = {
        "features": FEATURES,
        "datasets": {"test": "data/test.csv"},
        "id_column": "application_id",
        "model": {"load": "credit.model:load_model", "predict": "predict_proba"},  # not loaded here
    }
    return Project(root, config)


def test_kserve_v2_protocol(served_credit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serving = {"protocol": "kserve_v2", "model_name": "credit", "health_path": "/v2/health/ready"}
    project = _project(served_credit)
    with server(served_credit, health="/v2/health/ready") as url:
        monkeypatch.setenv("MODEL_URL", url)
        golden = project.check_serving_golden(
            serving, "test", path="tests/golden/predictions.csv", tolerance=1e-9
        )
        bad = project.check_serving_robustness(serving, "test")
    assert golden.passed and golden.judged and golden.details["rows"] == 100, golden.message
    assert [r.passed for r in bad] == [True, True], [r.message for r in bad]
    assert "got 422 with a message" in bad[0].message


@pytest.mark.parametrize("defect", ["mlflow_labels", "mlflow_proba"])
def test_mlflow_protocol_against_a_stub(
    served_credit: Path, monkeypatch: pytest.MonkeyPatch, defect: str
) -> None:
    # A stub of MLflow's scoring server (its documented /ping and /invocations shapes):
    # `mlflow models serve` is not run here (see docs/serving.md).
    serving = {"protocol": "mlflow", "health_path": "/ping"}
    project = _project(served_credit)
    with server(served_credit, defect, health="/ping") as url:
        monkeypatch.setenv("MODEL_URL", url)
        golden = project.check_serving_golden(
            serving, "test", path="tests/golden/predictions.csv", tolerance=1e-9
        )
        again = project.check_serving_repeat(serving, "test", 0.0)
    assert again.passed, again.message
    if defect == "mlflow_proba":
        assert golden.passed, golden.message
    else:
        assert not golden.passed
        assert 'logged with pyfunc_predict_fn="predict_proba"' in golden.message
