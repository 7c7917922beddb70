"""Checks against the served model: golden replay, repeat, latency under load, bad requests.

Every check takes the spec's `serving` section as data, reads the URL from the variable
it names (unset: not judged, so the generated test is skipped with the reason) and sends
a bounded number of requests to that URL only. Golden replay and repeat belong to
`determinism`; latency and robustness to `infrastructure`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .formats import Golden
from .results import CheckResult, at_most
from .serving_client import Endpoint, ServingError, encode, health_problem, predict, resolve_endpoint
from .serving_load import LoadReport, open_loop

#: Rows the repeat check sends (twice), and rows the latency check cycles through.
REPEAT_ROWS = 20
LOAD_ROWS = 100
#: Worst rows shown when golden replay fails.
WORST_ROWS = 5

MLFLOW_LABELS = (
    "note: MLflow's scikit-learn flavour serves class labels unless the model was logged with "
    'pyfunc_predict_fn="predict_proba"'
)


def _start(
    serving: Mapping[str, Any], concern: str, check: str
) -> tuple[Endpoint | None, CheckResult | None]:
    """The endpoint, or the result that stands for the check (not judged, bad URL, not healthy)."""
    endpoint = resolve_endpoint(serving, concern, check)
    if isinstance(endpoint, CheckResult):
        return None, endpoint
    with endpoint.client() as client:
        problem = health_problem(endpoint, client)
    if problem:
        return None, CheckResult(concern, check, False, f"the served model is not ready: {problem}")
    return endpoint, None


def check_served_golden(
    serving: Mapping[str, Any], golden: Golden, rows: Any, tolerance: float
) -> CheckResult:
    """The golden rows sent to the endpoint give the golden scores within `tolerance`.

    `rows` are the feature columns of the golden rows, in the golden file's order. This is
    the training/serving skew check: another preprocessing, a float32 cast or a missing
    default in the serving container shows up here.
    """
    import numpy as np

    from .determinism import check_golden

    endpoint, early = _start(serving, "determinism", "served_golden")
    if early is not None:
        return early
    assert endpoint is not None
    try:
        with endpoint.client() as client:
            served = predict(endpoint, client, rows)
    except ServingError as exc:
        return CheckResult("determinism", "served_golden", False, f"golden replay: {exc}")
    result = check_golden(served, golden, tolerance)
    subject = golden.path or "the golden file"
    message = f"served model vs {subject}: {result.message}"
    details = dict(result.details)
    if not result.passed and served.shape == np.shape(golden.scores):
        worst = worst_rows(golden.ids, np.asarray(golden.scores, dtype=float), served)
        details["worst_rows"] = worst
        table = "; ".join(
            f"id {w['id']}: golden {w['golden']:.6g}, served {w['served']:.6g} (diff {w['diff']:.3g})"
            for w in worst
        )
        message += f"; worst rows: {table}"
        if endpoint.protocol == "mlflow" or _looks_like_labels(served, golden.scores):
            message += f"; {MLFLOW_LABELS}"
    from dataclasses import replace

    return replace(result, check="served_golden", message=message, details=details)


def worst_rows(ids: list[str], golden: Any, served: Any, n: int = WORST_ROWS) -> list[dict[str, Any]]:
    """The `n` rows with the largest absolute difference, largest first."""
    import numpy as np

    diff = np.abs(served - golden)
    diff = np.where(np.isnan(diff), np.inf, diff)
    order = np.argsort(-diff, kind="stable")[:n]
    return [
        {"id": ids[i], "golden": float(golden[i]), "served": float(served[i]), "diff": float(diff[i])}
        for i in order
        if diff[i] > 0
    ]


def _looks_like_labels(served: Any, golden: Any) -> bool:
    import numpy as np

    served, golden = np.asarray(served, dtype=float), np.asarray(golden, dtype=float)
    return bool(np.isin(served, (0.0, 1.0)).all()) and not bool(np.isin(golden, (0.0, 1.0)).all())


def check_served_repeat(serving: Mapping[str, Any], X: Any, tolerance: float = 0.0) -> CheckResult:
    """The same request sent twice gives the same answer (within `tolerance`)."""
    import numpy as np

    endpoint, early = _start(serving, "determinism", "served_repeat")
    if early is not None:
        return early
    assert endpoint is not None
    rows = X.iloc[:REPEAT_ROWS]
    try:
        with endpoint.client() as client:
            first, again = predict(endpoint, client, rows), predict(endpoint, client, rows)
    except ServingError as exc:
        return CheckResult("determinism", "served_repeat", False, f"repeat: {exc}")
    diff = np.abs(first - again)
    worst = float(np.where(np.isnan(first) == np.isnan(again), np.nan_to_num(diff), np.inf).max())
    return at_most(
        "determinism",
        "served_repeat",
        worst,
        tolerance,
        f"max difference between two identical requests of {len(rows)} rows to the served model",
        details={"rows": len(rows)},
    )


def check_served_robustness(serving: Mapping[str, Any], X: Any) -> list[CheckResult]:
    """A request with a missing feature, and one with a wrongly typed value, get a 4xx with a message."""
    endpoint, early = _start(serving, "infrastructure", "served_bad_request")
    if early is not None:
        return [early]
    assert endpoint is not None
    row = X.iloc[:1]
    missing = str(X.columns[0])
    numeric = [str(c) for c in X.columns if X[c].dtype.kind in "iuf"]
    wrong = numeric[0] if numeric else str(X.columns[0])
    bad = row.astype(object).copy()
    bad.at[bad.index[0], wrong] = "not a number" if numeric else {"unexpected": "object"}
    cases = [
        (f"a missing feature ({missing})", encode(endpoint, row.drop(columns=[missing]))),
        (
            f"a wrongly typed value ({wrong} = {bad[wrong].iloc[0]!r})",
            encode(endpoint, bad, dtypes={wrong: "BYTES"} if numeric else {wrong: "FP64"}),
        ),
    ]
    with endpoint.client() as client:
        return [_bad_request(endpoint, client, what, body) for what, body in cases]


def _bad_request(endpoint: Endpoint, client: Any, what: str, body: Any) -> CheckResult:
    from .serving_client import post

    check = "served_bad_request"
    try:
        status, answer = post(endpoint, client, body)
    except ServingError as exc:
        return CheckResult("infrastructure", check, False, f"a request with {what}: {exc}", subject=what)
    text = str(answer).strip() if answer not in (None, "", {}, []) else ""
    if 400 <= status < 500 and text:
        return CheckResult(
            "infrastructure", check, True, f"a request with {what} got {status} with a message", subject=what
        )
    if 400 <= status < 500:
        why = f"got {status} without a message saying what is wrong"
    elif status >= 500:
        why = f"got {status}, a server error: validate inputs and answer 4xx with a message"
    else:
        why = f"got {status} and an answer ({text[:80]}): a bad request must not give a prediction"
    return CheckResult(
        "infrastructure", check, False, f"a request with {what} {why}", value=float(status), subject=what
    )


def check_served_latency(serving: Mapping[str, Any], X: Any) -> list[CheckResult]:
    """Open-loop load at `load.rate_per_s`; p50/p95/p99 and the error rate within `budget`."""
    endpoint, early = _start(serving, "infrastructure", "served_latency")
    if early is not None:
        return [early]
    assert endpoint is not None
    load = dict(serving.get("load") or {})
    budget = dict(serving.get("budget") or {})
    report = run_load(
        endpoint,
        X.iloc[:LOAD_ROWS],
        rate=float(load.get("rate_per_s", 20.0)),
        duration_s=float(load.get("duration_s", 10.0)),
        warmup_s=float(load.get("warmup_s", 2.0)),
    )
    return latency_results(report, budget)


def latency_results(report: LoadReport, budget: Mapping[str, Any]) -> list[CheckResult]:
    """One result per budget figure, each naming the target and achieved rates."""
    rate = f"at {report.target_rps:g} req/s (achieved {report.achieved_rps:.1f}, {report.sent} requests)"
    details = {
        "target_rps": report.target_rps,
        "achieved_rps": report.achieved_rps,
        "requests": report.sent,
        "errors": report.errors,
        "overhead_ms": report.overhead_ms,
        **{f"p{q}_ms": report.percentile(q) for q in (50, 95, 99)},
    }
    results = []
    for q in (50, 95, 99):
        limit = budget.get(f"p{q}_ms")
        if limit is not None:
            results.append(
                at_most(
                    "infrastructure",
                    f"served_p{q}",
                    report.percentile(q),
                    float(limit),
                    f"served p{q} latency {rate}, from the intended send time, in ms",
                    details=details,
                )
            )
    results.append(
        at_most(
            "infrastructure",
            "served_error_rate",
            report.error_rate,
            float(budget.get("max_error_rate", 0.0)),
            f"served error rate {rate} ({report.errors} failed)",
            details=details,
        )
    )
    return results


def run_load(endpoint: Endpoint, X: Any, *, rate: float, duration_s: float, warmup_s: float) -> LoadReport:
    """The open-loop run against the endpoint: one row a request, cycling through `X`."""
    import json

    bodies = [json.dumps(encode(endpoint, X.iloc[i : i + 1])).encode() for i in range(len(X))]
    return asyncio.run(_load(endpoint, bodies, rate, duration_s, warmup_s))


async def _load(
    endpoint: Endpoint, bodies: list[bytes], rate: float, duration_s: float, warmup_s: float
) -> LoadReport:
    from .serving_http import LeanClient

    client = LeanClient(endpoint.predict_url, endpoint.headers)

    async def send(i: int) -> bool:
        status = await asyncio.wait_for(client.post(bodies[i % len(bodies)]), endpoint.timeout_s)
        return 200 <= status < 300

    try:
        return await open_loop(send, rate, duration_s, warmup_s, timeout_s=endpoint.timeout_s)
    finally:
        await client.aclose()
