"""Bounds that can never fail: `validate` refuses them at their line.

A check whose bound lies at or beyond the range of what it measures passes whatever the
model does: a gap of rates in [0, 1] against `max_gap: 1`, a KS D against `max: 1`, a
flip rate against `max_flip_rate: 1`, a ROC AUC against `min: 0`. Such a spec would make
every check green without judging anything, so it is refused; so is a `min` of 0.5 on
ROC AUC or balanced accuracy, which scores of noise reach in every group. Bounds in a measure with no
upper end (PSI, chi-square w, log loss, RMSE, a regressor's tolerance in target units,
milliseconds) are not capped. `BOUND_FIELDS` lists every bound field of the spec models
with its rule, so a new bound cannot be added without deciding its limit
(tests/schema/test_bounds.py walks the models against it).
"""

from __future__ import annotations

from collections.abc import Iterator

from .models import Spec
from .types import CLASS_METRIC_RE, Metric, Mode, Task

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str]

#: Metrics whose value lies in [0, 1]: a gap, drop or tolerance of 1 covers their range.
UNIT_METRICS = frozenset(
    {
        Metric.ROC_AUC,
        Metric.ACCURACY,
        Metric.BALANCED_ACCURACY,
        Metric.PRECISION,
        Metric.RECALL,
        Metric.F1,
        Metric.BRIER,
        Metric.SELECTION_RATE,
        Metric.FPR,
        Metric.FNR,
        Metric.F1_MACRO,
        Metric.F1_WEIGHTED,
        Metric.PRECISION_MACRO,
        Metric.RECALL_MACRO,
        Metric.ROC_AUC_OVR,
        Metric.TOP_K_ACCURACY,
    }
)
#: Metrics where lower is better (a `min` is then the worst acceptable value from above).
LOWER_IS_BETTER = frozenset({Metric.LOG_LOSS, Metric.BRIER, Metric.FPR, Metric.FNR, Metric.RMSE, Metric.MAE})
#: Metrics that scores of noise put at 0.5 whatever the data: a `min` at or below it tests nothing.
CHANCE_HALF = frozenset({Metric.ROC_AUC, Metric.BALANCED_ACCURACY, Metric.ROC_AUC_OVR})
#: Drift statistics bounded by 1 (KS D, Jensen-Shannon distance in base 2); PSI and w are not.
UNIT_STATISTICS = frozenset({"ks", "jensenshannon"})

#: Every bound field of the spec models ("Model.field") and the rule that caps it, or why
#: it has no never-failing limit. Walked by a test against the models.
BOUND_FIELDS: dict[str, str] = {
    "Fairness.max_gap": "rate metrics: >= 1 never fails",
    "Fairness.min": "rate metrics: 0 (higher is better) or 1 (lower is better) never fails; "
    "roc_auc, balanced_accuracy: 0.5 passes noise",
    "Fairness.demographic_parity_difference": ">= 1 never fails",
    "Fairness.equalized_odds_difference": ">= 1 never fails",
    "NumericDrift.max": "ks, jensenshannon: >= 1 never fails; psi, chi2 unbounded",
    "CategoricalDrift.max": "ks, jensenshannon: >= 1 never fails; psi, chi2 unbounded",
    "TargetDrift.max": "ks, jensenshannon: >= 1 never fails; psi, chi2 unbounded",
    "PredictionDrift.max": "ks, jensenshannon: >= 1 never fails; psi, chi2 unbounded",
    "Baseline.min_lift": "negative never fails the point of the check (the model may lose to a dummy)",
    "Previous.max_drop": "rate metrics: >= 1 never fails",
    "Retrain.tolerance": "rate metrics: >= 1 never fails",
    "Regression.max_flip_rate": ">= 1 never fails",
    "Regression.tolerance": "target units (regression): not capped",
    "Determinism.tolerance": "classifier probabilities or labels: >= 1 never fails; regression: target units",
    "Golden.tolerance": "classifier probabilities or labels: >= 1 never fails; regression: target units",
    "Explainability.top_k": "with expect_top, >= the number of features never fails",
    "Explainability.expect_top": "written empty while automated: the top-k check judges nothing",
    "Expect.min_rows": "0 never fails",
    "Expect.max_rows": "no finite never-failing limit",
    "Expect.range": "predictions of any range: not capped",
    "ColumnExpect.min": "data of any range: not capped",
    "ColumnExpect.max": "data of any range: not capped",
    "SkewDrift.max_change": "quantile skewness lies in [-1, 1]: 2 never fails, the model's lt=2 refuses it",
    "BatchInvariance.tolerance": "classifier probabilities or labels: >= 1 never fails; "
    "regression: target units",
    "ProcessInvariance.tolerance": "classifier probabilities or labels: >= 1 never fails; "
    "regression: target units",
    "Latency.p50_ms": "time is unbounded: not capped",
    "Latency.p95_ms": "time is unbounded: not capped",
    "Batch.max_ms": "time is unbounded: not capped",
    "Memory.max_mb": "memory is unbounded: not capped",
    "PredictionLog.max_growth_pct": "growth is unbounded: not capped",
    "KAnonymity.min_k": "1 never fails: the model's ge=2 refuses it",
    "ServingBudget.p50_ms": "time is unbounded: not capped",
    "ServingBudget.p95_ms": "time is unbounded: not capped",
    "ServingBudget.p99_ms": "time is unbounded: not capped",
    "ServingBudget.max_error_rate": ">= 1 never fails",
}


def check_bounds(spec: Spec) -> Iterator[Finding]:
    """Every bound of `spec` that no model, data or run could fail, located."""
    yield from _fairness(spec)
    yield from _drift(spec)
    yield from _baseline(spec)
    yield from _determinism(spec)
    yield from _explainability(spec)
    for i, st in enumerate(spec.pipeline.stages if spec.pipeline else []):
        if st.expect is not None and st.expect.min_rows == 0:
            yield (
                ("pipeline", "stages", i, "expect", "min_rows"),
                "min_rows 0 can never fail (every output has at least 0 rows); use at least 1",
            )
    budget = spec.serving.budget if spec.serving is not None else None
    if budget is not None and budget.max_error_rate >= 1:
        yield (
            ("serving", "budget", "max_error_rate"),
            _never("max_error_rate", budget.max_error_rate, "an error rate is at most 1"),
        )
    collab = spec.collaboration
    if collab is not None and collab.regression is not None and collab.regression.max_flip_rate >= 1:
        yield (
            ("collaboration", "regression", "max_flip_rate"),
            f"max_flip_rate {collab.regression.max_flip_rate:g} can never fail (a flip rate is at "
            "most 1); use a bound below 1",
        )


def _unit(metric: str) -> bool:
    """A metric in [0, 1]: the listed ones and the per-class precision/recall/f1 of multiclass."""
    return metric in UNIT_METRICS or CLASS_METRIC_RE.fullmatch(metric) is not None


def _never(name: str, value: float, why: str) -> str:
    return f"{name} {value:g} can never fail ({why}); use a bound below 1"


def _fairness(spec: Spec) -> Iterator[Finding]:
    f = spec.fairness
    if f is None:
        return
    for metric, gap in f.max_gap.items():
        if _unit(metric) and gap >= 1:
            yield (
                ("fairness", "max_gap", str(metric)),
                _never(f"max_gap {metric}", gap, f"{metric} lies in [0, 1], so no gap exceeds 1"),
            )
    for metric, minimum in f.min.items():
        if not _unit(metric):
            continue
        name = str(metric)
        if metric in LOWER_IS_BETTER and minimum >= 1:
            yield (
                ("fairness", "min", name),
                f"min {name} {minimum:g} can never fail ({name} is at most 1 and lower "
                "is better); use a bound below 1",
            )
        elif metric in CHANCE_HALF and minimum <= 0.5:
            yield (
                ("fairness", "min", name),
                f"min {name} {minimum:g} passes a model with no skill (scores of noise get "
                f"{name} about 0.5 in every group); use a bound above 0.5",
            )
        elif metric not in LOWER_IS_BETTER and minimum <= 0:
            yield (
                ("fairness", "min", name),
                f"min {name} {minimum:g} can never fail ({name} is at least 0); use a bound above 0",
            )
    for name in ("demographic_parity_difference", "equalized_odds_difference"):
        value = getattr(f, name)
        if value is not None and value >= 1:
            yield ("fairness", name), _never(name, value, "a difference of rates is at most 1")


def _statistic(loc: Loc, method: str, value: float) -> Iterator[Finding]:
    if method in UNIT_STATISTICS and value >= 1:
        label = "KS D" if method == "ks" else "the Jensen-Shannon distance"
        yield loc, _never(f"max {method}", value, f"{label} is at most 1")


def _drift(spec: Spec) -> Iterator[Finding]:
    d = spec.drift
    if d is not None:
        yield from _statistic(("drift", "numeric", "max"), d.numeric.method.value, d.numeric.max)
        yield from _statistic(("drift", "categorical", "max"), d.categorical.method.value, d.categorical.max)
        if d.target is not None:
            yield from _statistic(("drift", "target", "max"), d.target.method.value, d.target.max)
    det = spec.determinism
    if det is not None and det.prediction_drift is not None:
        pd_ = det.prediction_drift
        yield from _statistic(("determinism", "prediction_drift", "max"), pd_.method.value, pd_.max)


def _baseline(spec: Spec) -> Iterator[Finding]:
    b = spec.baseline
    if b is not None:
        if b.min_lift < 0:
            yield (
                ("baseline", "min_lift"),
                f"min_lift {b.min_lift:g} is negative: it passes a model that loses to a dummy; "
                "use 0 or more",
            )
        if b.previous is not None and _unit(b.metric) and b.previous.max_drop >= 1:
            yield (
                ("baseline", "previous", "max_drop"),
                _never("max_drop", b.previous.max_drop, f"{b.metric} lies in [0, 1], so no drop exceeds 1"),
            )
    r = spec.reproducibility
    if r is not None and r.retrain is not None and _unit(r.retrain.metric) and r.retrain.tolerance >= 1:
        yield (
            ("reproducibility", "retrain", "tolerance"),
            _never("tolerance", r.retrain.tolerance, f"{r.retrain.metric} lies in [0, 1]"),
        )


def _determinism(spec: Spec) -> Iterator[Finding]:
    det = spec.determinism
    bounded = spec.project.task != Task.REGRESSION and spec.predict_method in ("predict_proba", "predict")
    if det is None or not bounded:
        return  # a regressor's (or a raw score's) tolerance is in its own units: not capped
    why = f"a classifier's {spec.predict_method} outputs differ by at most 1"
    if det.tolerance >= 1:
        yield ("determinism", "tolerance"), _never("tolerance", det.tolerance, why)
    if det.golden is not None and det.golden.tolerance >= 1:
        yield ("determinism", "golden", "tolerance"), _never("tolerance", det.golden.tolerance, why)
    for name in ("batch_invariance", "process_invariance"):
        inv = getattr(det, name, None)
        if inv is not None and not isinstance(inv, bool) and inv.tolerance >= 1:
            yield ("determinism", name, "tolerance"), _never("tolerance", inv.tolerance, why)


def _explainability(spec: Spec) -> Iterator[Finding]:
    e = spec.explainability
    if e is None or e.mode != Mode.AUTOMATED:
        return
    if "expect_top" in e.model_fields_set and not e.expect_top:
        yield (
            ("explainability", "expect_top"),
            "expect_top is empty: name at least one feature the model must rank in its top_k "
            "(else nothing about the importances is judged)",
        )
    elif e.top_k >= len(spec.data.features):
        yield (
            ("explainability", "top_k"),
            f"top_k {e.top_k} can never fail: the model has {len(spec.data.features)} features, so every "
            "feature is in the top k; use a smaller top_k",
        )
