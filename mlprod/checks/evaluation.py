"""The evaluation behind the model card: every figure as plain data, measured by the checks.

`evaluate(root, config)` loads the project through `Project` (the runtime facade the generated
tests use) and calls the same check methods with the same spec values, so each number on the
card is the number the generated tests judge. `config` is plain data built from the spec by
`mlprod evaluate` (see `mlprod.commands.evaluate.evaluation_config`):

    {"project": <Project config>, "eval_dataset", "train_dataset", "cohorts": [cohort dicts],
     "fairness", "baseline", "drift", "prediction_drift", "explainability", "infrastructure"}

where each section is the spec section as a JSON dict, or None when not declared. The result
is what `.mlprod/evaluation.json` holds besides its provenance (documented in
docs/model-card.md). A section that cannot be measured records `{"error": message}` instead
of stopping the others; the deployed model and the evaluation data set are required.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlprod.errors import MlprodError

from .metrics import CLASSIFICATION, HIGHER_IS_BETTER
from .metrics_multiclass import MULTICLASS
from .project import Project
from .results import CheckResult

Progress = Callable[[str, float], None]

#: Overall metrics reported per task (the per-cohort table uses the first three plus the limits).
TASK_METRICS = {
    # every classification metric but the error rates, which the cohort tables show instead
    "binary_classification": [
        m for m in CLASSIFICATION if m not in ("false_positive_rate", "false_negative_rate")
    ],
    "regression": ["rmse", "mae", "r2"],
    "multiclass_classification": list(MULTICLASS),
}
COHORT_METRICS = {
    "binary_classification": ["roc_auc", "precision", "recall"],
    "regression": ["rmse", "mae"],
    # per-class recall per cohort is its own table (evaluation_classes.py)
    "multiclass_classification": ["accuracy", "recall_macro", "f1_macro"],
}
REASON_EXAMPLES = 3  # rows of reason codes shown on the card


def round_sig(obj: Any, digits: int = 6) -> Any:
    """A copy of plain data with every float rounded to `digits` significant digits (NaN/inf -> None)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, int | str):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, dict):
        return {str(k): round_sig(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [round_sig(v, digits) for v in obj]
    if hasattr(obj, "item"):  # numpy scalar
        return round_sig(obj.item(), digits)
    return obj


def summarize(result: CheckResult) -> dict[str, Any]:
    """A check result without its bulky details (what evaluation.json keeps of it)."""
    return {
        "concern": result.concern,
        "check": result.check,
        "subject": result.subject,
        "passed": bool(result.passed),
        "judged": bool(result.judged),
        "value": result.value,
        "limit": result.limit,
        "message": result.message,
    }


class _Run:
    """One evaluation: the project, the collected results, progress reporting."""

    def __init__(self, root: str | Path, config: Mapping[str, Any], progress: Progress | None) -> None:
        self.config = config
        self.project = Project(root, config["project"])
        self.results: list[CheckResult] = []
        self.errors: dict[str, str] = {}
        self.progress = progress

    def keep(self, results: CheckResult | list[CheckResult]) -> list[CheckResult]:
        out = [results] if isinstance(results, CheckResult) else list(results)
        self.results.extend(out)
        return out

    def step(self, name: str, fn: Callable[[], Any], *, required: bool = False) -> Any:
        """Run one section; its failure is recorded (or raised when `required`)."""
        t0 = time.perf_counter()
        try:
            return fn()
        except MlprodError as exc:
            if required:
                raise
            self.errors[name] = str(exc)
        except Exception as exc:  # user code (model, stages) failed inside one section
            if required:
                raise
            self.errors[name] = f"{type(exc).__name__}: {exc}"
        finally:
            if self.progress is not None:
                self.progress(name, time.perf_counter() - t0)
        return {"error": self.errors[name]}


def evaluate(
    root: str | Path, config: Mapping[str, Any], *, latency: bool = True, progress: Progress | None = None
) -> dict[str, Any]:
    """Measure everything the model card shows; plain data (not yet rounded)."""
    run = _Run(root, config, progress)
    p = run.project
    out: dict[str, Any] = {}
    out["model"] = run.step("load model", lambda: _model(p), required=True)
    out["datasets"] = run.step("load data", lambda: _datasets(p), required=True)
    out["overall"] = run.step("overall metrics", lambda: _overall(run), required=True)
    both = run.step("cohorts and fairness", lambda: _cohorts(run))
    # on failure both lists are empty and `errors` says why
    out["cohorts"], out["fairness"] = both if isinstance(both, tuple) else ([], [])
    out["baseline"] = run.step("baseline", lambda: _baseline(run)) if config.get("baseline") else None
    out["drift"] = run.step("drift", lambda: _drift(run)) if config.get("drift") else None
    expl = config.get("explainability")
    out["importances"] = run.step("importances", lambda: _importances(run)) if expl else None
    has_codes = expl and expl.get("reason_codes")
    out["reason_codes"] = run.step("reason codes", lambda: _reason_codes(run)) if has_codes else None
    out["latency"] = run.step("latency", lambda: _latency(run)) if latency else None
    if p.task == "multiclass_classification":  # per-class table, confusion matrix, transitions
        from .evaluation_classes import classes_section

        out["classes"] = run.step("classes", lambda: classes_section(p, config))
    out["results"] = [summarize(r) for r in run.results]
    out["summary"] = {
        "checks": len(run.results),
        "failed": sum(1 for r in run.results if not r.passed),
        "not_judged": sum(1 for r in run.results if not r.judged),
    }
    out["errors"] = dict(sorted(run.errors.items()))
    return out


# --- sections ------------------------------------------------------------------------------


def _model(p: Project) -> dict[str, Any]:
    model = p.model()
    cls = type(model)
    return {
        "artifact": p.model_cfg.get("artifact"),
        "sha256": p.model_sha256(),
        "load": p.model_cfg.get("load"),
        "predict": p.predict_method,
        "threshold": _threshold(p),
        "type": f"{cls.__module__}.{cls.__qualname__}",
    }


def _datasets(p: Project) -> dict[str, Any]:
    from .data import file_sha256

    out: dict[str, Any] = {}
    for name, rel in sorted(p.config.get("datasets", {}).items()):
        path = p.path(rel)
        if path.is_file():
            out[name] = {"path": rel, "sha256": file_sha256(path), "rows": len(p.dataset(name))}
        else:
            out[name] = {"path": rel, "sha256": None, "rows": None}
    return out


def _metric_names(p: Project, scores: Any) -> list[str]:
    """The card's overall metrics; top-k accuracy only when k is below the number of classes
    (otherwise every row is a hit and its 1.0 says nothing)."""
    from .metrics_multiclass import trivial_reason

    return [m for m in TASK_METRICS.get(p.task, ["accuracy"]) if trivial_reason(m, scores) is None]


def _overall(run: _Run) -> dict[str, Any]:
    from .metrics import compute_metric

    p, ds = run.project, run.config["eval_dataset"]
    y, scores = p.y(ds), p.scores(ds)
    metrics: dict[str, float | None] = {}
    for name in _metric_names(p, scores):
        try:
            metrics[name] = compute_metric(name, y, scores, threshold=p.threshold())
        except (MlprodError, ValueError, TypeError):
            metrics[name] = None  # a metric this task's predictions do not support
    return {"dataset": ds, "rows": len(y), "threshold": _threshold(p), "metrics": metrics}


def _threshold(p: Project) -> float | None:
    """The decision threshold of a binary classifier; other tasks have none."""
    return p.threshold() if p.task == "binary_classification" else None


def _cohorts(run: _Run) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    p, cfg = run.project, run.config
    fair = cfg.get("fairness") or {}
    dataset = fair.get("dataset") or cfg["eval_dataset"]
    min_rows = int(fair.get("min_cohort_rows", 30))
    protected = set(fair.get("protected", []))
    gaps, minimum = dict(fair.get("max_gap", {})), dict(fair.get("min", {}))
    metrics = list(dict.fromkeys([*COHORT_METRICS.get(p.task, ["accuracy"]), *gaps, *minimum]))
    table: list[dict[str, Any]] = []
    fairness: list[dict[str, Any]] = []
    for cohort in cfg.get("cohorts", []):
        name = cohort["name"]
        report = p.cohort_report(dataset, cohort, metrics, min_rows)
        flags: dict[str, list[str]] = {label: [] for label in report["groups"]}
        for metric, low in sorted(minimum.items()):
            for r in run.keep(p.check_min(dataset, cohort, metric, low, min_rows)):
                label = (r.subject or "").removeprefix(f"{name}:")
                if r.judged and not r.passed and label in flags:
                    worse = "<" if HIGHER_IS_BETTER.get(metric, True) else ">"  # rmse: lower is better
                    flags[label].append(f"{metric} {worse} {low:g}")
        groups = [
            {
                "label": label,
                "name": g["name"],
                "n": g["n"],
                "judged": g["judged"],
                "metrics": g["metrics"],
                # the share predicted positive: binary classifiers only
                "selection_rate": g["selection_rate"] if p.task == "binary_classification" else None,
                "flags": flags[label],
            }
            for label, g in report["groups"].items()
        ]
        table.append(
            {
                "name": name,
                "kind": report["kind"],
                "protected": name in protected,
                "dataset": dataset,
                "min_rows": min_rows,
                "unbinned": report["unbinned"],
                "groups": groups,
            }
        )
        if name not in protected:
            continue
        judged: list[tuple[str, str | None, CheckResult]] = []
        for metric, limit in sorted(gaps.items()):
            judged.append(("max_gap", metric, p.check_max_gap(dataset, cohort, metric, limit, min_rows)))
        if fair.get("demographic_parity_difference") is not None:
            limit = fair["demographic_parity_difference"]
            judged.append(
                (
                    "demographic_parity_difference",
                    None,
                    p.check_demographic_parity(dataset, cohort, limit, min_rows),
                )
            )
        if fair.get("equalized_odds_difference") is not None:
            limit = fair["equalized_odds_difference"]
            judged.append(
                ("equalized_odds_difference", None, p.check_equalized_odds(dataset, cohort, limit, min_rows))
            )
        for kind, metric, r in judged:
            run.keep(r)
            fairness.append({"cohort": name, "kind": kind, "metric": metric, **_brief(r)})
    return table, fairness


def _brief(r: CheckResult) -> dict[str, Any]:
    return {
        "value": r.value,
        "limit": r.limit,
        "passed": bool(r.passed),
        "judged": bool(r.judged),
        "message": r.message,
    }


def _baseline(run: _Run) -> dict[str, Any]:
    p, b = run.project, run.config["baseline"]
    metric, dataset, min_lift = b["metric"], b["dataset"], float(b.get("min_lift", 0.0))
    out: dict[str, Any] = {"metric": metric, "dataset": dataset, "min_lift": min_lift, "strategies": []}
    model_value = None
    for strategy in b.get("strategies", []):
        for r in run.keep(
            p.check_beats_dummy(strategy, metric, dataset, run.config["train_dataset"], min_lift)
        ):
            model_value = r.details.get("model", model_value)
            out["strategies"].append(
                {"strategy": strategy, "value": r.details.get("dummy"), "lift": r.value, "passed": r.passed}
            )
    if model_value is None:
        from .metrics import compute_metric

        model_value = compute_metric(metric, p.y(dataset), p.scores(dataset), threshold=p.threshold())
    out["model"] = model_value
    prev = b.get("previous")
    out["previous"] = None
    if prev:
        from .data import file_sha256

        r = run.keep(p.check_previous(prev["artifact"], metric, dataset, prev.get("max_drop", 0.0)))[0]
        out["previous"] = {
            "artifact": prev["artifact"],
            "sha256": file_sha256(p.path(prev["artifact"])),
            "value": r.details.get("previous"),
            "drop": r.value,
            "max_drop": r.limit,
            "passed": r.passed,
        }
    return out


def _drift(run: _Run) -> dict[str, Any]:
    p, d = run.project, run.config["drift"]
    ref, cur = d.get("reference", "reference"), d.get("current", "current")
    numeric, categorical = d.get("numeric") or {}, d.get("categorical") or {}
    skew = (d.get("skew") or {}).get("max_change")
    features: list[dict[str, Any]] = []
    for col in p.features_list:
        rs = run.keep(
            p.check_feature_drift(ref, cur, col, numeric=numeric, categorical=categorical, skew=skew)
        )
        main = next((r for r in rs if r.check == "feature_drift"), rs[0])
        sk = next((r for r in rs if r.check == "skew_change"), None)
        features.append(
            {
                "feature": col,
                "kind": main.details.get("kind"),
                "method": main.details.get("method"),
                "statistic": main.value,
                "limit": main.limit,
                "passed": main.passed,
                "judged": main.judged,
                "skew_change": sk.value if sk else None,  # quantile (Bowley) skewness, the checked one
                "skew_passed": sk.passed if sk else None,
                "moment_skew": [sk.details.get("moment_reference"), sk.details.get("moment_current")]
                if sk
                else None,
            }
        )
    out: dict[str, Any] = {"reference": ref, "current": cur, "features": features, "target": None}
    target = d.get("target")
    if target:
        r = run.keep(p.check_target_drift(ref, cur, method=target["method"], max=target["max"]))[0]
        out["target"] = {"method": r.details.get("method"), **_brief(r)}
    pred = run.config.get("prediction_drift")
    out["prediction"] = None
    if pred:
        r = run.keep(
            p.check_prediction_drift(
                pred["reference"], pred["current"], method=pred["method"], max=pred["max"]
            )
        )[0]
        out["prediction"] = {
            "reference": pred["reference"],
            "current": pred["current"],
            "method": pred["method"],
            **_brief(r),
        }
    if d.get("by_cohort"):
        results: list[CheckResult] = []
        for cohort in run.config.get("cohorts", []):
            results += run.keep(
                p.check_cohort_drift(
                    ref,
                    cur,
                    cohort,
                    list(p.features_list),
                    min_rows=int(d.get("min_rows", 500)),
                    numeric=numeric,
                    categorical=categorical,
                )
            )
        judged = [r for r in results if r.judged]
        out["by_cohort"] = {
            "min_rows": int(d.get("min_rows", 500)),
            "judged": len(judged),
            "not_judged": len(results) - len(judged),
            "drifted": sorted({r.subject or "" for r in judged if not r.passed}),
        }
    return out


def _importances(run: _Run) -> dict[str, Any]:
    p, e = run.project, run.config["explainability"]
    method, dataset, top_k = e.get("method", "permutation"), e.get("dataset", "test"), int(e.get("top_k", 5))
    values = p.importances(method, dataset)
    run.keep(p.check_importances(method, dataset))
    expected = {
        f: run.keep(p.check_expected_top(method, dataset, f, top_k))[0].passed
        for f in e.get("expect_top", [])
    }
    return {
        "method": method,
        "dataset": dataset,
        "top_k": top_k,
        "values": [{"feature": f, "importance": v} for f, v in values.items()],
        "expect_top": expected,
    }


def _reason_codes(run: _Run) -> dict[str, Any]:
    import numpy as np

    from .explainability import reason_codes, reference_values

    p, e = run.project, run.config["explainability"]
    dataset, reference = e.get("dataset", "test"), run.config["train_dataset"]
    rc = e["reason_codes"]
    rows, top_k = int(rc.get("rows", 50)), int(rc.get("top_k", 3))
    check = run.keep(p.check_reason_codes(dataset, reference, rows=rows, top_k=top_k))[0]
    X = p.X(dataset).iloc[:REASON_EXAMPLES]
    explained = p.score_fn(X)  # multiclass: the probability of each row's predicted class
    codes = reason_codes(explained, X, reference_values(p.X(reference)), top_k)
    scores = np.asarray(explained(X), dtype=float).ravel()
    id_col = p.config.get("id_column")
    df = p.dataset(dataset)
    ids = (
        [str(v) for v in df[id_col].iloc[:REASON_EXAMPLES]]
        if id_col in df.columns
        else [str(i) for i in range(len(X))]
    )
    return {
        "dataset": dataset,
        "reference": reference,
        "top_k": top_k,
        "checked_rows": rows,
        "passed": check.passed,
        "examples": [
            {"id": i, "score": float(s), "codes": [{"feature": f, "contribution": c} for f, c in row]}
            for i, s, row in zip(ids, scores, codes, strict=True)
        ],
    }


def _latency(run: _Run) -> dict[str, Any]:
    p, inf = run.project, run.config.get("infrastructure") or {}
    ds = run.config["eval_dataset"]
    lat = inf.get("latency") or {}
    size, runs, warm = int(lat.get("batch_size", 1)), int(lat.get("runs", 100)), int(lat.get("warmup", 5))
    results: list[CheckResult] = []
    if lat.get("p50_ms") is not None and lat.get("p95_ms") is not None:  # the spec declares both or neither
        budgets = float(lat["p50_ms"]), float(lat["p95_ms"])
        results = run.keep(p.check_latency(ds, size, runs, warm, *budgets))
    if results:
        measured = dict(results[0].details)
    else:  # no budget declared: measure anyway for the card
        from .infrastructure import measure_latency

        measured = measure_latency(p.predict_fn(), p.X(ds), size, runs, warm)
    out: dict[str, Any] = {
        "dataset": ds,
        "batch_size": size,
        "runs": runs,
        **{k: measured.get(k) for k in ("p50_ms", "p95_ms", "p99_ms", "mean_ms")},
        "budget": {k: lat.get(k) for k in ("p50_ms", "p95_ms")},
        "batch": None,
        "memory": None,
    }
    if inf.get("batch"):
        b = inf["batch"]
        r = run.keep(p.check_batch_time(ds, int(b["rows"]), float(b["max_ms"])))[0]
        out["batch"] = {"rows": int(b["rows"]), "ms": r.value, "max_ms": r.limit, "passed": r.passed}
    if inf.get("memory"):
        rows = int((inf.get("batch") or {}).get("rows", 1000))
        r = run.keep(p.check_memory(ds, rows, float(inf["memory"]["max_mb"])))[0]
        out["memory"] = {"rows": rows, "mb": r.value, "max_mb": r.limit, "passed": r.passed}
    return out
