"""The serving client without a server: URLs, the environment, the three protocols' shapes, reports."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlprod.checks.serving import MLFLOW_LABELS, latency_results, worst_rows
from mlprod.checks.serving_client import Endpoint, ServingError, decode, encode, resolve_endpoint, url_problem
from mlprod.checks.serving_load import LoadReport

FRAME = pd.DataFrame({"age": [30, 41], "amount": [1200.5, np.nan], "housing": ["own", "rent"]})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "https://models.example.com/credit/", "http://localhost"]
)
def test_good_urls(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("127.0.0.1:8080", "http:// or https://"),
        ("ftp://models.example.com", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://user:s3cret@models.example.com", "credentials"),
        ("https://token@models.example.com", "credentials"),
        ("http://models.example.com/?key=1", "query"),
        ("http://", "no host"),
        ("http://host:99999", "not a URL"),
    ],
)
def test_bad_urls(url: str, why: str) -> None:
    assert why in (url_problem(url) or "")


def test_unset_url_is_not_judged_and_names_the_variable() -> None:
    result = resolve_endpoint({"url_env": "STAGING_URL"}, "determinism", "served_golden", environ={})
    assert not isinstance(result, Endpoint)
    assert result.judged is False and result.passed is True
    assert "$STAGING_URL" in result.message and "not set" in result.message


def test_a_url_with_credentials_fails_without_echoing_them() -> None:
    env = {"MODEL_URL": "https://ci:hunter2@models.example.com"}
    result = resolve_endpoint({"url_env": "MODEL_URL"}, "infrastructure", "served_latency", environ=env)
    assert not isinstance(result, Endpoint)
    assert result.judged and not result.passed
    assert "credentials" in result.message and "hunter2" not in result.message


def test_header_values_come_from_their_variables() -> None:
    serving = {"headers_env": {"Authorization": "MODEL_TOKEN"}, "protocol": "kserve_v2", "model_name": "m"}
    missing = resolve_endpoint(serving, "d", "c", environ={"MODEL_URL": "http://h/"})
    assert not isinstance(missing, Endpoint) and "$MODEL_TOKEN" in missing.message and not missing.passed
    ok = resolve_endpoint(serving, "d", "c", environ={"MODEL_URL": "http://h/", "MODEL_TOKEN": "Bearer x"})
    assert isinstance(ok, Endpoint)
    assert ok.headers == {"Authorization": "Bearer x"}
    assert ok.predict_url == "http://h/v2/models/m/infer"


def test_records_body() -> None:
    body = encode(Endpoint("http://h"), FRAME)
    assert body == [
        {"age": 30, "amount": 1200.5, "housing": "own"},
        {"age": 41, "amount": None, "housing": "rent"},
    ]
    assert Endpoint("http://h").predict_url == "http://h/predict"


def test_mlflow_body_is_dataframe_split() -> None:
    ep = Endpoint("http://h", protocol="mlflow")
    assert ep.predict_url == "http://h/invocations"
    assert encode(ep, FRAME) == {
        "dataframe_split": {
            "columns": ["age", "amount", "housing"],
            "data": [[30, 1200.5, "own"], [41, None, "rent"]],
        }
    }


def test_kserve_body_has_one_typed_tensor_per_column() -> None:
    body = encode(Endpoint("http://h", protocol="kserve_v2", model_name="m"), FRAME)
    assert body == {
        "inputs": [
            {"name": "age", "shape": [2], "datatype": "INT64", "data": [30, 41]},
            {"name": "amount", "shape": [2], "datatype": "FP64", "data": [1200.5, None]},
            {"name": "housing", "shape": [2], "datatype": "BYTES", "data": ["own", "rent"]},
        ]
    }


def test_answers_become_scores() -> None:
    records = Endpoint("http://h")
    np.testing.assert_allclose(decode(records, {"predictions": [[0.9, 0.1], [0.3, 0.7]]}, 2), [0.1, 0.7])
    np.testing.assert_allclose(decode(records, {"predictions": [1.5, 2.5]}, 2), [1.5, 2.5])
    kserve = Endpoint("http://h", protocol="kserve_v2", model_name="m")
    answer = {"outputs": [{"name": "p", "shape": [2, 2], "datatype": "FP64", "data": [0.9, 0.1, 0.3, 0.7]}]}
    np.testing.assert_allclose(decode(kserve, answer, 2), [0.1, 0.7])
    with pytest.raises(ServingError, match="for 3 rows"):
        decode(records, {"predictions": [0.1, 0.2]}, 3)
    with pytest.raises(ServingError, match="predictions"):
        decode(records, {"result": [0.1]}, 1)
    with pytest.raises(ServingError, match="shape"):
        decode(records, {"predictions": [[0.2, 0.3, 0.5]]}, 1)


def test_worst_rows_are_the_largest_differences() -> None:
    rng = np.random.default_rng(0)
    golden = rng.random(50)
    served = golden + rng.normal(0, 0.01, 50)
    worst = worst_rows([f"r{i}" for i in range(50)], golden, served, n=3)
    expected = sorted(range(50), key=lambda i: -abs(served[i] - golden[i]))[:3]
    assert [w["id"] for w in worst] == [f"r{i}" for i in expected]
    assert worst[0]["diff"] == pytest.approx(abs(served[expected[0]] - golden[expected[0]]))


def test_latency_results_against_numpy_percentiles() -> None:
    rng = np.random.default_rng(1)
    latencies = list(rng.gamma(2.0, 10.0, 400))
    report = LoadReport(50.0, 49.5, 404, 4, latencies)
    results = latency_results(report, {"p50_ms": 100, "p99_ms": 30, "max_error_rate": 0.001})
    by = {r.check: r for r in results}
    assert set(by) == {"served_p50", "served_p99", "served_error_rate"}
    assert by["served_p50"].value == pytest.approx(np.percentile(latencies, 50)) and by["served_p50"].passed
    assert (
        by["served_p99"].value == pytest.approx(np.percentile(latencies, 99)) and not by["served_p99"].passed
    )
    assert by["served_error_rate"].value == pytest.approx(4 / 404) and not by["served_error_rate"].passed
    assert "at 50 req/s (achieved 49.5, 404 requests)" in by["served_p99"].message


def test_no_successful_request_fails_the_latency_budget() -> None:
    results = latency_results(LoadReport(10.0, 10.0, 10, 10, []), {"p95_ms": 100})
    assert not any(r.passed for r in results)
    assert math.isnan(results[0].details["p95_ms"])


def test_mlflow_note_names_the_logging_option() -> None:
    assert 'pyfunc_predict_fn="predict_proba"' in MLFLOW_LABELS
