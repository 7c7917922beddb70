"""Multiclass metrics, overall and per group, with scikit-learn's definitions.

Scores of a multiclass model are a probability matrix (rows x classes) whose columns follow
the model's `classes_`; `ClassProba` carries the matrix with its classes and the `k` of
`top_k_accuracy`, so slicing rows (bootstrap, cohorts) keeps them. The predicted class is
the column of the largest probability (the first on ties, as `numpy.argmax`).

One `np.bincount` of (group, truth, prediction) codes gives every group's confusion matrix;
the averages follow scikit-learn called without options: the classes averaged over are
those present in the group's truth or predictions, and a precision or recall with a zero
denominator counts 0 in `*_macro` and `f1_weighted` (scikit-learn's `zero_division` default).
Per-class metrics (`precision[<label>]`, `recall[<label>]`, `f1[<label>]`) are NaN when
undefined (a class never predicted has no precision), as the binary metrics are; a NaN
metric fails its check. `balanced_accuracy` averages recall over the classes present in the
truth; `roc_auc_ovr` is the macro mean of one-vs-rest ROC AUCs, NaN when a class is absent
from the truth (scikit-learn's value too); `log_loss` clips probabilities to
[eps, 1 - eps]; `top_k_accuracy` ranks ties as scikit-learn (the later column first).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlprod.errors import UsageError
from mlprod.schema.task_rules import MULTICLASS_METRICS

# the names `validate` accepts for multiclass (mlprod/schema/task_rules.py), per-class ones apart
MULTICLASS = tuple(m for m in MULTICLASS_METRICS if "[" not in m)
PER_CLASS = ("precision", "recall", "f1")
#: `precision[A]`, `recall[3]`, `f1[high risk]`: the label as written in the data. Brackets in the
#: label are read too (the name ends at its last `]`): the spec cannot name such a class, but the
#: card measures every class of the model.
CLASS_METRIC_RE = re.compile(r"^(precision|recall|f1)\[([^\x00-\x1f\x7f]+)\]$")
DEFAULT_K = 3


class ClassProba(np.ndarray):
    """A (rows x classes) probability matrix with its `classes` (column order) and top-k `k`."""

    classes: tuple[Any, ...]
    k: int

    def __new__(cls, matrix: Any, classes: Sequence[Any], k: int = DEFAULT_K) -> ClassProba:
        arr = np.asarray(matrix, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != len(classes):
            raise UsageError(f"a probability matrix of shape {arr.shape} for {len(classes)} classes")
        obj = arr.view(cls)
        obj.classes = tuple(_plain(c) for c in classes)
        obj.k = int(k)
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.classes = getattr(obj, "classes", ())
        self.k = getattr(obj, "k", DEFAULT_K)

    def predicted(self) -> np.ndarray:
        """The predicted class of every row (an object array of the class values)."""
        values = np.empty(len(self.classes), dtype=object)
        values[:] = list(self.classes)
        return values[np.argmax(np.asarray(self), axis=1)] if self.shape[0] else values[:0]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def label_text(value: Any) -> str:
    """A class value as written in a metric name: `1` for 1 and 1.0, `A` for "A"."""
    value = _plain(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def split_class_metric(name: str) -> tuple[str, str] | None:
    """`("recall", "A")` for `recall[A]`; None for any other name."""
    match = CLASS_METRIC_RE.fullmatch(name)
    return (match[1], match[2]) if match else None


def is_multiclass_metric(name: str) -> bool:
    return name in MULTICLASS or split_class_metric(name) is not None


def class_codes(y: Any, classes: Sequence[Any]) -> np.ndarray:
    """Index of each label of `y` in `classes` (matched as written: 1, 1.0 and "1" are one class).

    Raises UsageError for a missing label or one that is not a class of the model.
    """
    codes, uniques = pd.factorize(np.asarray(y, dtype=object).ravel(), use_na_sentinel=True)
    if (codes < 0).any():
        raise UsageError("the target has missing values; drop rows without an outcome before scoring")
    lookup = {label_text(c): i for i, c in enumerate(classes)}
    mapped = np.array([lookup.get(label_text(u), -1) for u in uniques], dtype=np.int64)
    unknown = [label_text(u) for u, m in zip(uniques, mapped, strict=True) if m < 0]
    if unknown:
        raise UsageError(
            f"target value(s) {', '.join(map(repr, unknown[:5]))} are not classes of the model "
            f"(classes: {', '.join(label_text(c) for c in classes)})"
        )
    return mapped[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _top_k_hits(P: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """True where the true class is among the k largest probabilities (ties: the later column first)."""
    n, c = P.shape
    if k >= c:
        return np.ones(n, dtype=bool)
    py = P[np.arange(n), y][:, None]
    cols = np.arange(c)[None, :]
    ahead = (py < P).sum(axis=1) + ((py == P) & (cols > y[:, None])).sum(axis=1)
    return ahead < k


def group_metrics_multiclass(
    y_true: Any,
    proba: Any,
    codes: Any,
    n_groups: int,
    metrics: Sequence[str],
    *,
    classes: Sequence[Any] | None = None,
    k: int | None = None,
) -> dict[int, dict[str, float]]:
    """Multiclass metrics per group code in `range(n_groups)`; rows with code -1 are ignored.

    `proba` is a `ClassProba` (or a matrix with `classes` given); `y_true` holds class values.
    """
    from .metrics import _positive_rank_sums

    names = list(metrics)
    classes = tuple(classes if classes is not None else getattr(proba, "classes", ()))
    k = int(k if k is not None else getattr(proba, "k", DEFAULT_K))
    P = np.asarray(proba, dtype=float)
    if P.ndim != 2 or P.shape[1] != len(classes) or len(classes) < 2:
        raise UsageError(f"multiclass metrics need a probability matrix with its classes (shape {P.shape})")
    wanted: dict[str, tuple[str, int]] = {}
    index = {label_text(c): i for i, c in enumerate(classes)}
    for m in names:
        per = split_class_metric(m)
        if per is not None:
            if per[1] not in index:
                raise UsageError(
                    f"metric {m}: {per[1]!r} is not a class of the model (classes: {', '.join(index)})"
                )
            wanted[m] = (per[0], index[per[1]])
        elif m not in MULTICLASS:
            raise UsageError(
                f"metric {m!r} is not defined for multiclass classification (known: {', '.join(MULTICLASS)}, "
                "and per class precision[<label>], recall[<label>], f1[<label>])"
            )
    y = class_codes(y_true, classes)
    g = np.asarray(codes, dtype=np.int64).ravel()
    if not len(y) == len(P) == len(g):
        raise UsageError(f"y_true, scores and codes differ in length ({len(y)}, {len(P)}, {len(g)})")
    keep = g >= 0
    y, P, g = y[keep], P[keep], g[keep]
    G, C = int(n_groups), len(classes)

    def count(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(g, weights=weights, minlength=G)[:G].astype(float)

    n = count()
    bad = count(~np.isfinite(P).all(axis=1)) > 0
    pred = np.argmax(np.where(np.isfinite(P), P, -np.inf), axis=1) if len(P) else np.zeros(0, np.int64)
    cm = np.bincount((g * C + y) * C + pred, minlength=G * C * C)[: G * C * C].reshape(G, C, C).astype(float)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    support, predicted = cm.sum(axis=2), cm.sum(axis=1)
    present = (support + predicted) > 0
    prec, rec, f1 = _div(tp, predicted), _div(tp, support), _div(2 * tp, support + predicted)

    def macro(values: np.ndarray) -> np.ndarray:
        return _div((np.nan_to_num(values) * present).sum(axis=1), present.sum(axis=1))

    out: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for m in names:
            if m in wanted:
                base, c = wanted[m]
                out[m] = {"precision": prec, "recall": rec, "f1": f1}[base][:, c]
            elif m == "accuracy":
                out[m] = _div(tp.sum(axis=1), n)
            elif m == "balanced_accuracy":
                has = support > 0
                out[m] = _div((np.nan_to_num(rec) * has).sum(axis=1), has.sum(axis=1))
            elif m in ("precision_macro", "recall_macro", "f1_macro"):
                out[m] = macro({"precision_macro": prec, "recall_macro": rec, "f1_macro": f1}[m])
            elif m == "f1_weighted":
                out[m] = _div((np.nan_to_num(f1) * support).sum(axis=1), support.sum(axis=1))
            elif m == "log_loss":
                eps = np.finfo(float).eps
                py = np.clip(P[np.arange(len(y)), y], eps, 1 - eps) if len(y) else np.zeros(0)
                # Undefined (NaN) where a row is no probability distribution: clipped, [5, 7, 1]
                # would score a near-perfect log loss whatever the truth.
                off = ~(((P >= 0) & (P <= 1)).all(axis=1) & (np.abs(P.sum(axis=1) - 1) <= 1e-6))
                out[m] = np.where(count(off.astype(float)) > 0, np.nan, _div(count(-np.log(py)), n))
            elif m == "top_k_accuracy":
                out[m] = _div(count(_top_k_hits(P, y, k).astype(float)) if len(y) else np.zeros(G), n)
            elif m == "roc_auc_ovr":
                aucs = np.empty((G, C))
                finite = np.where(np.isfinite(P), P, 0.0)
                for c in range(C):
                    pos = y == c
                    n1 = count(pos.astype(float))
                    r1 = _positive_rank_sums(g, finite[:, c], pos, G, None) if len(y) else np.zeros(G)
                    aucs[:, c] = _div(r1 - n1 * (n1 + 1) / 2, n1 * (n - n1))
                out[m] = aucs.mean(axis=1)  # NaN when a class is absent from the group's truth
    return {i: {m: (float("nan") if bad[i] else float(out[m][i])) for m in names} for i in range(G)}


def confusion(y_true: Any, proba: ClassProba) -> dict[str, Any]:
    """`{"classes": [labels], "counts": [[truth x predicted]]}` over all rows."""
    classes = proba.classes
    y = class_codes(y_true, classes)
    pred = np.argmax(np.asarray(proba), axis=1)
    C = len(classes)
    cm = np.bincount(y * C + pred, minlength=C * C)[: C * C].reshape(C, C)
    return {"classes": [label_text(c) for c in classes], "counts": cm.astype(int).tolist()}


def trivial_reason(metric: str, scores: Any) -> str | None:
    """Why `metric` cannot fail on these scores (top-k accuracy with k >= the classes is 1), or None."""
    classes = getattr(scores, "classes", None)
    k = getattr(scores, "k", DEFAULT_K)
    if metric == "top_k_accuracy" and classes is not None and k >= len(classes):
        return (
            f"top_k_accuracy not judged: k {k} >= the model's {len(classes)} classes, so every row is a "
            "hit (set project.metrics_k below the number of classes)"
        )
    return None
