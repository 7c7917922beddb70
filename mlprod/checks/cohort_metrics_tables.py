"""Per-cohort classification metrics from a table that holds labels and scores (issue 17).

Logged predictions with their outcomes often live in a warehouse table. Per group of a
cohort the engine returns two aggregates: the confusion counts (label x `score >=
threshold`) and a histogram of the scores per label; the rest is arithmetic here:
- accuracy, balanced accuracy, precision, recall, F1, selection rate, FPR, FNR: exact,
  with the definitions (and NaN rules) of `metrics.group_metrics`;
- ROC AUC from the per-label score histograms (`bins` equal-width bins over the scores'
  range): a pair of a positive and a negative in the same bin counts one half, so the
  exact AUC lies within `roc_auc_bound` = sum over bins of pos x neg / (2 P N) of the
  value given (0 when no bin holds both classes).
A group with a missing score has NaN metrics, as in `group_metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlprod.engines import Col, Filter, Match, Table

from .cohorts import table_groups

THRESHOLD_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "selection_rate",
    "false_positive_rate",
    "false_negative_rate",
)


def _div(a: float, b: float) -> float:
    return a / b if b else float("nan")


def confusion_metrics(tn: float, fp: float, fn: float, tp: float) -> dict[str, float]:
    """The threshold metrics of one confusion matrix (NaN where undefined)."""
    n, p, neg = tn + fp + fn + tp, tp + fn, tn + fp
    tpr, tnr = _div(tp, p), _div(tn, neg)
    present = [r for r in (tpr, tnr) if not np.isnan(r)]
    return {
        "accuracy": _div(tp + tn, n),
        "balanced_accuracy": sum(present) / len(present) if present else float("nan"),
        "precision": _div(tp, tp + fp),
        "recall": tpr,
        "f1": _div(2 * tp, 2 * tp + fp + fn),
        "selection_rate": _div(tp + fp, n),
        "false_positive_rate": _div(fp, neg),
        "false_negative_rate": _div(fn, p),
    }


def auc_from_histograms(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """(ROC AUC, bound) from per-bin counts of positives and negatives over the same ascending bins."""
    p, n = float(pos.sum()), float(neg.sum())
    if p == 0 or n == 0:
        return float("nan"), 0.0
    below = np.r_[0.0, np.cumsum(neg)[:-1]]
    auc = float(np.sum(pos * (below + neg / 2.0)) / (p * n))
    return auc, float(np.sum(pos * neg) / (2.0 * p * n))


def cohort_metrics_table(
    table: Table,
    cohort: Mapping[str, Any],
    label: str,
    score: str,
    metrics: Sequence[str],
    *,
    threshold: float = 0.5,
    positive_label: Any = 1,
    bins: int = 1000,
) -> dict[str, dict[str, float]]:
    """{group label: {metric: value, "n": rows, "roc_auc_bound": ...}} for one cohort over a table."""
    groups = table_groups(table, cohort)
    stats = table.column_stats([score])[score]
    lo = stats.min if stats.min is not None else 0.0
    hi = stats.max if stats.max is not None else 1.0
    grid = np.linspace(lo, hi, bins + 1)
    grid[-1] = np.nextafter(hi, np.inf)
    edges = grid.tolist()
    out: dict[str, dict[str, float]] = {}
    for g in groups.labels:
        where = groups.filters[g]
        cm = table.group_counts([Col(label), Match((Filter(score, ">=", float(threshold)),))], where)
        tn = fp = fn = tp = 0.0
        for (y, pred), k in cm.items():
            if y is None:
                continue
            pos = y == positive_label
            if pos and pred:
                tp += k
            elif pos:
                fn += k
            elif pred:
                fp += k
            else:
                tn += k
        row: dict[str, float] = {"n": tn + fp + fn + tp}
        values = confusion_metrics(tn, fp, fn, tp)
        missing = table.column_stats([score], where)[score].missing
        for m in metrics:
            if m in THRESHOLD_METRICS:
                row[m] = float("nan") if missing else values[m]
        if "roc_auc" in metrics:
            hist = table.score_histograms(score, edges, [Col(label)], where)
            zero = np.zeros(bins)
            ph = sum((h for (y,), h in hist.items() if y is not None and y == positive_label), zero)
            nh = sum((h for (y,), h in hist.items() if y is not None and y != positive_label), zero)
            auc, bound = auc_from_histograms(np.asarray(ph), np.asarray(nh))
            row["roc_auc"], row["roc_auc_bound"] = (float("nan"), 0.0) if missing else (auc, bound)
        out[g] = row
    return out
