"""Bounds that can never fail are refused by `validate`, located at their line.

The walk covers every numeric (and threshold-like) field of the spec models: each one is
either a bound listed in `schema.bounds.BOUND_FIELDS` or a setting listed here as not a
bound. Every capped bound has a case below that sets it at its never-failing limit on the
reference spec and expects a located refusal at exactly that field, and a case just
inside the limit that validates.
"""

from __future__ import annotations

import copy
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlprod.schema import load_spec
from mlprod.schema.bounds import BOUND_FIELDS
from mlprod.schema.models import Spec
from pydantic import BaseModel

from mlprod.errors import SpecError

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "credit.mlprod.yaml"

#: Numeric fields that are settings (sizes, counts, seeds, score bars), not check bounds.
NOT_BOUNDS = {
    "ModelSpec.threshold": "the decision threshold, not a bound",
    "Data.positive_label": "a label value",
    "ColumnExpect.values": "allowed values, not a bound",
    "Filter.value": "a cohort filter's value",
    "Pipeline.sample_rows": "how many rows a stage runs on",
    "Data.sample_rows": "how many rows model-based checks draw through the engine",
    "Golden.rows": "how many rows are recorded",
    "Determinism.seed": "a seed",
    "Determinism.repeats": "how often predictions repeat",
    "Latency.batch_size": "rows per call",
    "Latency.runs": "calls measured",
    "Latency.warmup": "calls not measured",
    "Batch.rows": "rows per batch",
    "PredictionLog.window_days": "the log window",
    "Scaling.min_replicas": "deployment settings, not a check",
    "Scaling.max_replicas": "deployment settings, not a check",
    "Scaling.target_cpu_percent": "deployment settings, not a check",
    "Cohort.bins": "bin edges",
    "Fairness.min_cohort_rows": "groups below it are not judged (a skip), never passed",
    "NumericDrift.bins": "bins of the statistic",
    "Drift.min_rows": "groups below it are not judged (a skip), never passed",
    "KAnonymity.generalize": "bin edges",
    "Privacy.retention_days": "documentation",
    "Reproducibility.seed": "a seed",
    "ReasonCodes.rows": "rows explained",
    "ReasonCodes.top_k": "reasons per row",
    "Review.required_approvals": "a repository setting",
    "ScoreBar.min_total": "the score's own bar",
    "ScoreBar.min_each": "the score's own bar",
    "ScoreBar.signoff_max_age_days": "the score's own bar",
    "BatchInvariance.rows": "rows scored alone",
    "ProcessInvariance.threads": "threads of the second process",
    "Serving.timeout_s": "how long one request may take before it counts as an error",
    "ServingLoad.rate_per_s": "the load schedule",
    "ServingLoad.duration_s": "the load schedule",
    "ServingLoad.warmup_s": "the load schedule",
}

# (field, edit of the reference spec data, location of the refusal). Each edit puts the
# field at its never-failing limit.
CASES: list[tuple[str, dict[tuple[str | int, ...], Any], tuple[str | int, ...]]] = [
    ("Fairness.max_gap", {("fairness", "max_gap", "recall"): 1.0}, ("fairness", "max_gap", "recall")),
    ("Fairness.min", {("fairness", "min", "roc_auc"): 0.5}, ("fairness", "min", "roc_auc")),
    (
        "Fairness.demographic_parity_difference",
        {("fairness", "demographic_parity_difference"): 1.0},
        ("fairness", "demographic_parity_difference"),
    ),
    (
        "Fairness.equalized_odds_difference",
        {("fairness", "equalized_odds_difference"): 1.0},
        ("fairness", "equalized_odds_difference"),
    ),
    (
        "NumericDrift.max",
        {("drift", "numeric", "method"): "ks", ("drift", "numeric", "max"): 1.0},
        ("drift", "numeric", "max"),
    ),
    (
        "CategoricalDrift.max",
        {("drift", "categorical", "method"): "jensenshannon", ("drift", "categorical", "max"): 1.0},
        ("drift", "categorical", "max"),
    ),
    (
        "TargetDrift.max",
        {("drift", "target", "method"): "jensenshannon", ("drift", "target", "max"): 1.5},
        ("drift", "target", "max"),
    ),
    (
        "PredictionDrift.max",
        {
            ("determinism", "prediction_drift", "method"): "ks",
            ("determinism", "prediction_drift", "max"): 1.0,
        },
        ("determinism", "prediction_drift", "max"),
    ),
    ("Baseline.min_lift", {("baseline", "min_lift"): -0.01}, ("baseline", "min_lift")),
    ("Previous.max_drop", {("baseline", "previous", "max_drop"): 1.0}, ("baseline", "previous", "max_drop")),
    (
        "Retrain.tolerance",
        {("reproducibility", "retrain", "tolerance"): 1.0},
        ("reproducibility", "retrain", "tolerance"),
    ),
    (
        "Regression.max_flip_rate",
        {("collaboration", "regression", "max_flip_rate"): 1.0},
        ("collaboration", "regression", "max_flip_rate"),
    ),
    ("Determinism.tolerance", {("determinism", "tolerance"): 1.0}, ("determinism", "tolerance")),
    (
        "Golden.tolerance",
        {("determinism", "golden", "tolerance"): 1.0},
        ("determinism", "golden", "tolerance"),
    ),
    ("Explainability.top_k", {("explainability", "top_k"): 12}, ("explainability", "top_k")),
    ("Explainability.expect_top", {("explainability", "expect_top"): []}, ("explainability", "expect_top")),
    (
        "Expect.min_rows",
        {("pipeline", "stages", 0, "expect", "min_rows"): 0},
        ("pipeline", "stages", 0, "expect", "min_rows"),
    ),
    (
        "BatchInvariance.tolerance",
        {("determinism", "batch_invariance"): {"rows": 50, "tolerance": 1.0}},
        ("determinism", "batch_invariance", "tolerance"),
    ),
    (
        "ProcessInvariance.tolerance",
        {("determinism", "process_invariance"): {"threads": 2, "tolerance": 1.0}},
        ("determinism", "process_invariance", "tolerance"),
    ),
    (
        "ServingBudget.max_error_rate",
        {("serving",): {"budget": {"max_error_rate": 1.0}}},
        ("serving", "budget", "max_error_rate"),
    ),
]
#: Bounds with no never-failing limit (unbounded measures, target units) or capped by the model.
UNCAPPED = {
    "Regression.tolerance",
    "Expect.max_rows",
    "Expect.range",
    "ColumnExpect.min",
    "ColumnExpect.max",
    "SkewDrift.max_change",
    "Latency.p50_ms",
    "Latency.p95_ms",
    "Batch.max_ms",
    "Memory.max_mb",
    "PredictionLog.max_growth_pct",
    "KAnonymity.min_k",
    "ServingBudget.p50_ms",
    "ServingBudget.p95_ms",
    "ServingBudget.p99_ms",
}


def _numeric(annotation: Any) -> bool:
    """True when a field's type holds numbers (directly, in a dict, list or tuple)."""
    if annotation in (int, float):
        return True
    args = typing.get_args(annotation)
    return any(_numeric(a) for a in args if a is not type(None))


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        stack = [info.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                _models(t, seen)
            stack.extend(typing.get_args(t))


def _numeric_fields() -> set[str]:
    seen: set[type[BaseModel]] = set()
    _models(Spec, seen)
    out = set()
    for model in seen:
        for name, info in model.model_fields.items():
            if name == "version" and model is Spec:
                continue
            if _numeric(info.annotation):
                out.add(f"{model.__name__}.{name}")
    return out


def test_every_numeric_field_is_a_listed_bound_or_a_setting() -> None:
    numeric = _numeric_fields()
    undecided = numeric - set(BOUND_FIELDS) - set(NOT_BOUNDS)
    assert not undecided, f"decide the never-failing limit of {sorted(undecided)} (schema/bounds.py)"
    assert not set(NOT_BOUNDS) & set(BOUND_FIELDS)
    assert set(NOT_BOUNDS) <= numeric, sorted(set(NOT_BOUNDS) - numeric)


def test_every_capped_bound_has_a_case() -> None:
    cased = {field for field, _, _ in CASES}
    assert cased | UNCAPPED == set(BOUND_FIELDS)
    assert not cased & UNCAPPED


def _spec_with(tmp_path: Path, edits: dict[tuple[str | int, ...], Any]) -> Path:
    data = copy.deepcopy(yaml.safe_load(REFERENCE.read_text(encoding="utf-8")))
    for path, value in edits.items():
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    spec = tmp_path / "mlprod.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return spec


def _line_of(spec: Path, loc: tuple[str | int, ...]) -> int:
    """The line of `loc` in the dumped spec (found by walking the YAML nodes)."""
    node = yaml.compose(spec.read_text(encoding="utf-8"))
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next(v for k, v in node.value if k.value == key)
        else:
            assert isinstance(node, yaml.SequenceNode)
            node = node.value[int(key)]
    return node.start_mark.line + 1


@pytest.mark.parametrize(("field", "edits", "loc"), CASES, ids=[c[0] for c in CASES])
def test_never_failing_bound_is_refused_at_its_line(
    field: str, edits: dict[tuple[str | int, ...], Any], loc: tuple[str | int, ...], tmp_path: Path
) -> None:
    spec = _spec_with(tmp_path, edits)
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    problems = info.value.problems
    dotted = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in loc).lstrip(".")
    here = [p for p in problems if p.path == dotted]
    assert len(problems) == 1 and here, [str(p) for p in problems]
    assert any(w in here[0].message for w in ("can never fail", "negative", "empty", "no skill"))
    assert here[0].line == _line_of(spec, loc)


def _inside(value: Any) -> Any:
    """A value just inside the never-failing limit."""
    if value == []:
        return ["status_of_existing_checking_account"]
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # a section added whole: its numbers just inside
        return {k: _inside(v) for k, v in value.items()}
    if value == 0:
        return 1 if isinstance(value, int) else 0.01
    if value < 0:
        return 0.0
    return value - 1 if isinstance(value, int) else 0.99


@pytest.mark.parametrize(("field", "edits", "loc"), CASES, ids=[c[0] for c in CASES])
def test_bound_just_inside_its_limit_validates(
    field: str, edits: dict[tuple[str | int, ...], Any], loc: tuple[str | int, ...], tmp_path: Path
) -> None:
    inside = {path: _inside(v) for path, v in edits.items()}
    load_spec(_spec_with(tmp_path, inside))


def test_regression_tolerances_are_in_target_units_and_not_capped(tmp_path: Path) -> None:
    edits = {
        ("project", "task"): "regression",
        ("model", "predict"): "predict",
        ("determinism", "tolerance"): 250.0,
        ("determinism", "golden", "tolerance"): 1000.0,
    }
    spec = _spec_with(tmp_path, edits)
    try:
        load_spec(spec)
    except SpecError as exc:  # the reference's classifier-only settings may be refused; not these
        paths = {p.path for p in exc.problems}
        assert not paths & {"determinism.tolerance", "determinism.golden.tolerance"}, paths
