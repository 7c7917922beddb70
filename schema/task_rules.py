"""Settings that mean nothing for the spec's task, refused at their line with the allowed values.

A regression spec with `baseline.metric: roc_auc` or `threshold: 0.5` would validate and
then fail as NaN at run time (or, for demographic parity, pass with every selection rate
1.0); a multiclass spec with a plain `precision` has no positive class to compute it for.
Only what the user wrote is judged: task-dependent defaults are resolved by the models
(`Spec._task_defaults`) and never refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from .models import Spec
from .types import Task

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str]

#: Metric names each task defines (checks, baselines, fairness bounds).
BINARY_METRICS = (
    "roc_auc",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "log_loss",
    "brier",
    "selection_rate",
    "false_positive_rate",
    "false_negative_rate",
)
MULTICLASS_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "f1_weighted",
    "precision_macro",
    "recall_macro",
    "log_loss",
    "roc_auc_ovr",
    "top_k_accuracy",
    "precision[<label>]",
    "recall[<label>]",
    "f1[<label>]",
)
REGRESSION_METRICS = ("rmse", "mae", "r2")
TASK_METRICS: dict[Task, tuple[str, ...]] = {
    Task.BINARY: BINARY_METRICS,
    Task.MULTICLASS: MULTICLASS_METRICS,
    Task.REGRESSION: REGRESSION_METRICS,
}
#: scikit-learn dummy strategies: DummyClassifier's and DummyRegressor's.
CLASSIFIER_STRATEGIES = ("prior", "stratified", "most_frequent", "uniform")
REGRESSION_STRATEGIES = ("mean", "median")

PER_CLASS_RE = re.compile(r"^(precision|recall|f1)\[(.+)\]$")
#: A multiclass spelling for the binary names a multiclass spec may reach for.
_MULTICLASS_HINT = {
    "precision": "precision_macro or precision[<label>]",
    "recall": "recall_macro or recall[<label>]",
    "f1": "f1_macro, f1_weighted or f1[<label>]",
    "roc_auc": "roc_auc_ovr (macro one-vs-rest)",
    "selection_rate": "recall[<label>] or precision[<label>] per class",
    "false_positive_rate": "precision[<label>] per class",
    "false_negative_rate": "recall[<label>] per class",
    "brier": "log_loss",
}
_BINARY_HINT = {
    "precision_macro": "precision",
    "recall_macro": "recall",
    "f1_macro": "f1",
    "roc_auc_ovr": "roc_auc",
}


def _name(value: Any) -> str:
    return str(getattr(value, "value", value))


def metric_allowed(task: Task, metric: str) -> bool:
    """Whether the task defines `metric` (a per-class `precision[<label>]` counts for multiclass)."""
    if task == Task.MULTICLASS and PER_CLASS_RE.fullmatch(metric):
        return True
    return metric in TASK_METRICS[task] and "[" not in metric


def _metric_message(task: Task, metric: str) -> str:
    allowed = ", ".join(TASK_METRICS[task])
    per_class = PER_CLASS_RE.fullmatch(metric)
    if task == Task.REGRESSION:
        why, hint = "a regressor predicts numbers, not classes", None
    elif metric in REGRESSION_METRICS:
        why, hint = "it is a regression error metric", None
    elif task == Task.MULTICLASS:
        why, hint = "it is defined for two classes only", _MULTICLASS_HINT.get(metric)
    else:
        why = "it is a multiclass metric"
        hint = per_class.group(1) if per_class else _BINARY_HINT.get(metric)
    use = f"; use {hint}" if hint else ""
    return f"{metric!r} has no meaning for task {task.value} ({why}){use}; {task.value} metrics: {allowed}"


def _metrics(task: Task, items: Iterable[tuple[Loc, Any]]) -> Iterator[Finding]:
    for loc, metric in items:
        name = _name(metric)
        if not metric_allowed(task, name):
            yield loc, _metric_message(task, name)


def task_rules(spec: Spec) -> Iterator[Finding]:
    """Every explicitly written setting that has no meaning for `project.task`, located."""
    task = spec.project.task
    yield from _metrics(task, _metric_settings(spec))
    yield from _binary_only(spec, task)
    yield from _strategies(spec, task)
    fair = spec.fairness
    if fair is not None and task == Task.REGRESSION:
        for name in ("demographic_parity_difference", "equalized_odds_difference"):
            if name in fair.model_fields_set and getattr(fair, name) is not None:
                yield (
                    ("fairness", name),
                    f"{name} compares rates of predicted classes across groups; a regressor predicts "
                    "numbers, so it has no meaning for task regression; bound an error metric per "
                    "group instead (max_gap or min with: " + ", ".join(REGRESSION_METRICS) + ")",
                )
    yield from _multiclass_only(spec, task)
    reg = spec.collaboration.regression if spec.collaboration is not None else None
    if reg is not None and task != Task.REGRESSION and "tolerance" in reg.model_fields_set:
        yield (
            ("collaboration", "regression", "tolerance"),
            f"tolerance applies to task regression only (a predicted number that moves by more than "
            f"it counts as a flip); a {task.value} model flips when its predicted class changes; "
            "remove it",
        )


def _metric_settings(spec: Spec) -> Iterator[tuple[Loc, Any]]:
    b = spec.baseline
    if b is not None and "metric" in b.model_fields_set:
        yield ("baseline", "metric"), b.metric
    r = spec.reproducibility.retrain if spec.reproducibility is not None else None
    if r is not None and "metric" in r.model_fields_set:
        yield ("reproducibility", "retrain", "metric"), r.metric
    f = spec.fairness
    if f is not None:
        for key in ("max_gap", "min"):
            for metric in getattr(f, key):
                yield ("fairness", key, _name(metric)), metric


def _binary_only(spec: Spec, task: Task) -> Iterator[Finding]:
    """The decision threshold and the positive label exist for binary classifiers only."""
    if task == Task.BINARY:
        return
    decides = (
        "a regressor predicts a number"
        if task == Task.REGRESSION
        else "a multiclass model predicts the class with the highest probability"
    )
    if "threshold" in spec.model.model_fields_set and spec.model.threshold is not None:
        yield (
            ("model", "threshold"),
            f"a decision threshold applies to binary_classification only ({decides}); remove it",
        )
    if "positive_label" in spec.data.model_fields_set and spec.data.positive_label is not None:
        yield (
            ("data", "positive_label"),
            f"positive_label applies to binary_classification only ({decides}); remove it",
        )
    if task == Task.REGRESSION and spec.model.predict == "predict_proba":
        yield (
            ("model", "predict"),
            "predict_proba gives class probabilities, which task regression does not have; a regressor "
            "predicts with `predict` (the default)",
        )


def _multiclass_only(spec: Spec, task: Task) -> Iterator[Finding]:
    """The k of top_k_accuracy and the explained class exist for multiclass models only."""
    if task == Task.MULTICLASS:
        return
    if "metrics_k" in spec.project.model_fields_set:
        yield (
            ("project", "metrics_k"),
            f"metrics_k is the k of top_k_accuracy, a multiclass_classification metric; task {task.value} "
            "has no such metric; remove it",
        )
    e = spec.explainability
    if e is not None and "class_label" in e.model_fields_set and e.class_label is not None:
        what = "one score per row" if task == Task.REGRESSION else "one score per row (the positive class's)"
        yield (
            ("explainability", "class_label"),
            f"class_label picks the class a multiclass_classification model is explained for; a task "
            f"{task.value} model has {what}; remove it",
        )


def _strategies(spec: Spec, task: Task) -> Iterator[Finding]:
    b = spec.baseline
    if b is None or "strategies" not in b.model_fields_set:
        return
    allowed = REGRESSION_STRATEGIES if task == Task.REGRESSION else CLASSIFIER_STRATEGIES
    kind = "DummyRegressor" if task == Task.REGRESSION else "DummyClassifier"
    for i, strategy in enumerate(b.strategies):
        name = _name(strategy)
        if name not in allowed:
            yield (
                ("baseline", "strategies", i),
                f"dummy strategy {name!r} has no meaning for task {task.value}; scikit-learn's {kind} "
                f"strategies: {', '.join(allowed)}",
            )
