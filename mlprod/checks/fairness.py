"""Fairness: per-cohort metric reports, gaps, minimums, demographic parity, equalized odds.

Only groups with at least `min_rows` rows are judged (`fairness.min_cohort_rows`);
smaller groups are reported with `judged=False`, never silently passed or failed.
Every result has concern "bias".

Multiclass (scores are a `ClassProba`): `max_gap` and `min` take the multiclass metrics,
macro and per class (`recall[A]`). Demographic parity and equalized odds are computed one
class against the rest: for class c, a row is selected when its predicted class is c and
positive when its true class is c; the binary difference (fairlearn's definition) is taken
per class, and the check reports the largest over the classes (docs/checks.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .cohorts import Groups
from .metrics import HIGHER_IS_BETTER, group_metrics
from .results import CheckResult, at_least, at_most, distinct

CONCERN = "bias"
_SHOW = 5  # small groups named in a "not judged" message


def cohort_report(
    y_true: Any,
    y_score: Any,
    groups: Groups,
    metrics: Sequence[str],
    *,
    threshold: float = 0.5,
    min_rows: int = 30,
    order: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per-group metrics of one cohort.

    Returns `{"cohort", "kind", "threshold", "min_rows", "unbinned", "groups": {label:
    {"name", "n", "judged", "metrics": {metric: value}, "selection_rate"}}}`; groups keep
    the cohort's label order. `order` is an optional `metrics.score_order(y_score)` shared
    across the cohorts of one data set.
    """
    multiclass = np.ndim(y_score) == 2  # no single selection rate: see the per-class parity
    names = list(dict.fromkeys([*metrics] if multiclass else [*metrics, "selection_rate"]))
    per = group_metrics(
        y_true, y_score, groups.codes, groups.n_groups, names, threshold=threshold, order=order
    )
    out: dict[str, Any] = {}
    for i, label in enumerate(groups.labels):
        n = groups.sizes[label]
        values = per[i]
        out[label] = {
            "name": groups.describe(label),
            "n": n,
            "judged": n >= min_rows,
            "metrics": {m: values[m] for m in metrics},
            "selection_rate": values.get("selection_rate", float("nan")),
        }
    return {
        "cohort": groups.name,
        "kind": groups.kind,
        "threshold": float(threshold),
        "min_rows": int(min_rows),
        "unbinned": groups.unbinned,
        "groups": out,
    }


def _judged(report: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    groups = report["groups"]
    judged = {k: v for k, v in groups.items() if v["judged"]}
    small = {k: v for k, v in groups.items() if not v["judged"]}
    return judged, small


def _not_enough(what: str, report: dict[str, Any], judged: dict[str, Any], small: dict[str, Any]) -> str:
    min_rows = report["min_rows"]
    if not report["groups"]:
        return f"{what} not judged: the cohort has no groups in the data"
    shown = list(small.items())[:_SHOW]
    sizes = ", ".join(f"{k} {v['n']} rows" for k, v in shown)
    if len(small) > _SHOW:  # a `by` column with many values: name a few, count the rest
        sizes += f" and {len(small) - _SHOW} more smaller groups"
    return f"{what} not judged: {len(judged)} group(s) with >= {min_rows} rows, 2 needed ({sizes})"


def _fmt(x: float) -> str:
    return "NaN" if math.isnan(x) else f"{x:.2f}"


def _gap_result(
    check: str, what: str, values: dict[str, float], limit: float, cohort: str, details: dict[str, Any]
) -> CheckResult:
    """`max - min` of per-group values within `limit`; a NaN group value fails."""
    undefined = [k for k, v in values.items() if math.isnan(v)]
    if undefined:
        msg = f"{what} could not be measured: undefined (NaN) for {', '.join(undefined)}"
        return CheckResult(CONCERN, check, False, msg, None, float(limit), cohort, details)
    lo = min(values, key=lambda k: values[k])
    hi = max(reversed(list(values)), key=lambda k: values[k])  # another group on a tie
    gap = values[hi] - values[lo]
    ok = gap <= limit
    rel = "<=" if ok else ">"
    shown_gap, shown_limit = distinct(gap, limit, ".2f")
    msg = f"{what} is {shown_gap} {rel} {shown_limit} ({lo} {_fmt(values[lo])}, {hi} {_fmt(values[hi])})"
    return CheckResult(CONCERN, check, ok, msg, float(gap), float(limit), cohort, details)


def check_max_gap(report: dict[str, Any], metric: str, max_gap: float, *, cohort: str) -> CheckResult:
    """Largest minus smallest `metric` across the judged groups of a cohort, at most `max_gap`."""
    judged, small = _judged(report)
    what = f"{metric} gap across {cohort}"
    details = {
        "metric": metric,
        "groups": {
            k: {"value": v["metrics"].get(metric), "n": v["n"], "judged": v["judged"]}
            for k, v in report["groups"].items()
        },
    }
    if len(judged) < 2:
        msg = _not_enough(what, report, judged, small)
        return CheckResult(
            CONCERN, f"{metric}_gap", True, msg, None, float(max_gap), cohort, details, judged=False
        )
    values = {k: float(v["metrics"][metric]) for k, v in judged.items()}
    return _gap_result(f"{metric}_gap", what, values, max_gap, cohort, details)


def check_min(report: dict[str, Any], metric: str, minimum: float, *, cohort: str) -> list[CheckResult]:
    """`metric` of every judged group no worse than `minimum`; small groups are reported, not judged.

    `minimum` is the worst acceptable value: at least it for a higher-is-better metric
    (roc_auc, recall, r2), at most it for an error metric (rmse, mae, log_loss, brier,
    false positive / negative rate), where lower is better.
    """
    judge = at_least if HIGHER_IS_BETTER.get(metric, True) else at_most
    out: list[CheckResult] = []
    min_rows = report["min_rows"]
    for label, g in report["groups"].items():
        subject = f"{cohort}:{label}"
        what = f"{metric} of {g['name']}"
        if not g["judged"]:
            msg = f"{what} not judged: {g['n']} rows < {min_rows}"
            out.append(
                CheckResult(
                    CONCERN,
                    f"{metric}_min",
                    True,
                    msg,
                    None,
                    float(minimum),
                    subject,
                    {"n": g["n"]},
                    judged=False,
                )
            )
            continue
        out.append(
            judge(
                CONCERN,
                f"{metric}_min",
                g["metrics"][metric],
                minimum,
                what,
                subject=subject,
                details={"n": g["n"], "cohort": cohort, "group": label},
                fmt=".2f",
            )
        )
    if not out:
        msg = f"{metric} minimum for {cohort} not judged: the cohort has no groups in the data"
        out.append(
            CheckResult(CONCERN, f"{metric}_min", True, msg, None, float(minimum), cohort, judged=False)
        )
    return out


def _rate_check(
    check: str,
    what_name: str,
    y_true: Any,
    y_score: Any,
    groups: Groups,
    limit: float,
    threshold: float,
    min_rows: int,
    rates: Sequence[str],
) -> CheckResult:
    report = cohort_report(y_true, y_score, groups, rates, threshold=threshold, min_rows=min_rows)
    judged, small = _judged(report)
    what = f"{what_name} across {groups.name}"
    details: dict[str, Any] = {
        "groups": {
            k: {"n": v["n"], "judged": v["judged"], **v["metrics"]} for k, v in report["groups"].items()
        }
    }
    if len(judged) < 2:
        msg = _not_enough(what, report, judged, small)
        return CheckResult(CONCERN, check, True, msg, None, float(limit), groups.name, details, judged=False)
    # fairlearn's between-groups difference: the largest max-min gap over the rates
    gaps = []
    for rate in rates:
        values = {k: float(v["metrics"][rate]) for k, v in judged.items()}
        res = _gap_result(check, what, values, limit, groups.name, {**details, "rate": rate})
        gaps.append(res)
    failed = [r for r in gaps if r.value is None]
    if failed:
        return failed[0]
    worst = max(gaps, key=lambda r: r.value or 0.0)
    msg = worst.message
    if len(rates) > 1:
        msg = msg.replace(" (", f" ({worst.details['rate']}: ", 1)
    return CheckResult(
        CONCERN, check, worst.passed, msg, worst.value, worst.limit, groups.name, worst.details
    )


def check_demographic_parity(
    y_true: Any, y_score: Any, groups: Groups, limit: float, *, threshold: float = 0.5, min_rows: int = 30
) -> CheckResult:
    """Largest minus smallest selection rate across the judged groups (fairlearn's
    `demographic_parity_difference` restricted to those groups), at most `limit`; multiclass:
    the largest over the classes, each class against the rest."""
    if np.ndim(y_score) == 2:
        return _per_class(check_demographic_parity, y_true, y_score, groups, limit, min_rows)
    return _rate_check(
        "demographic_parity_difference",
        "demographic parity difference",
        y_true,
        y_score,
        groups,
        limit,
        threshold,
        min_rows,
        ["selection_rate"],
    )


def check_equalized_odds(
    y_true: Any, y_score: Any, groups: Groups, limit: float, *, threshold: float = 0.5, min_rows: int = 30
) -> CheckResult:
    """The larger of the true- and false-positive-rate gaps across the judged groups
    (fairlearn's `equalized_odds_difference`), at most `limit`; multiclass: the largest over
    the classes, each class against the rest."""
    if np.ndim(y_score) == 2:
        return _per_class(check_equalized_odds, y_true, y_score, groups, limit, min_rows)
    return _rate_check(
        "equalized_odds_difference",
        "equalized odds difference",
        y_true,
        y_score,
        groups,
        limit,
        threshold,
        min_rows,
        ["recall", "false_positive_rate"],
    )


def _per_class(
    check: Any, y_true: Any, y_score: Any, groups: Groups, limit: float, min_rows: int
) -> CheckResult:
    """A binary parity check per class, one class against the rest; the worst class's result.

    A class whose difference is undefined (NaN: no true member in a judged group) fails first.
    """
    from dataclasses import replace

    from .metrics_multiclass import class_codes, label_text

    classes = y_score.classes
    y = class_codes(y_true, classes)
    predicted = np.argmax(np.asarray(y_score, dtype=float), axis=1)
    results = []
    for c, label in enumerate(classes):
        res = check(
            (y == c).astype(np.int8),
            (predicted == c).astype(float),
            groups,
            limit,
            threshold=0.5,
            min_rows=min_rows,
        )
        results.append((label_text(label), res))
    judged = [(lab, r) for lab, r in results if r.judged]
    if not judged:
        return results[0][1]
    undefined = [(lab, r) for lab, r in judged if r.value is None]
    label, worst = undefined[0] if undefined else max(judged, key=lambda lr: lr[1].value or 0.0)
    details = {**worst.details, "class": label, "per_class": {lab: r.value for lab, r in results}}
    message = f"class {label} vs rest: {worst.message}"
    if not undefined and len(results) > 1:
        message += f" (the largest over {len(results)} classes)"
    return replace(worst, message=message, details=details)


def judged_mask(groups: Groups, min_rows: int) -> np.ndarray:
    """Rows that belong to a group with at least `min_rows` rows."""
    ok = np.array([groups.sizes[lab] >= min_rows for lab in groups.labels] + [False])
    return ok[groups.codes]  # code -1 indexes the trailing False
