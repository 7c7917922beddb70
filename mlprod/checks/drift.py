"""Drift between a reference and a current data set, per column and within cohorts.

Semantics (DESIGN.md, Semantics/Drift): numeric columns are those with a numeric, non-bool
dtype; the rest are categorical. `max` bounds the method's statistic, never a p-value, so
a large data set does not make every column drift:
- `psi`: population stability index. Numeric columns with at most `bins` distinct reference
  values are binned by value (a value only the current data has is a bin of its own);
  others are cut at the reference's quantiles, keeping point masses as bins of their own;
  categories are their own bins; missing values form one more bin; an empty bin counts as
  a share of 1e-4.
- `ks`: the two-sample Kolmogorov-Smirnov D (numeric only, missing values ignored).
- `jensenshannon`: the Jensen-Shannon distance (base 2, in [0, 1]) of the same bins as PSI.
- `chi2`: Cohen's effect size w = sqrt(chi2 / n_current) of the chi-square goodness-of-fit
  of current counts against reference shares; the statistic and p-value go in `details`.
Every result also carries the statistic's no-drift 95th percentile at the observed sample
sizes (`drift_noise.py`); a bound inside that noise is not judged (`judged=False`, with the
rows that would make it judgeable) instead of failing healthy data by chance.
`skew` compares Bowley's quantile skewness (in [-1, 1]), so `max_change` is in [0, 2].
The statistics themselves live in `drift_stats.py` (re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlprod.engines import ColumnStats, ScanRequest, Where

from .cohorts import table_groups
from .drift_stats import (
    EPS,
    MISSING,
    bowley_from_quartiles,
    categorical_histograms,
    chi2_test,
    is_numeric,
    js_distance,
    ks_statistic,
    numeric_histograms,
    psi_categorical,
    psi_numeric,
    quantile_skewness,
    skew_change,
    skewness,
)
from .drift_tables import LABELS, Task, as_table, table_drift
from .results import CheckResult, distinct

__all__ = [
    "EPS",
    "MISSING",
    "categorical_histograms",
    "check_prediction_drift",
    "check_skew",
    "check_target_drift",
    "chi2_test",
    "drift_by_cohort",
    "feature_drift",
    "is_numeric",
    "js_distance",
    "ks_statistic",
    "numeric_histograms",
    "psi_categorical",
    "psi_numeric",
    "quantile_skewness",
    "skew_change",
    "skewness",
]


# --- one column -> one result ----------------------------------------------------------


def _column_drift(
    name: str,
    ref: pd.Series,
    cur: pd.Series,
    method: str,
    limit: float,
    bins: int,
    *,
    concern: str,
    check: str,
    subject: str,
    kind: str | None = None,
) -> CheckResult:
    """Drift of one column (two in-memory series), through the shared aggregate finish."""
    r = as_table(pd.DataFrame({"v": pd.Series(ref).reset_index(drop=True)}), "reference")
    c = as_table(pd.DataFrame({"v": pd.Series(cur).reset_index(drop=True)}), "current")
    task = Task("v", name, subject, method, float(limit), int(bins), kind, concern, check)
    return table_drift(r, c, [task])[0]


def _spec(d: Mapping[str, Any] | None, default_max: float) -> tuple[str, float, int]:
    d = d or {}
    return str(d.get("method", "psi")), float(d.get("max", default_max)), int(d.get("bins", 10))


def feature_drift(
    ref_df: Any,
    cur_df: Any,
    features: Sequence[str],
    *,
    numeric: Mapping[str, Any] | None = None,
    categorical: Mapping[str, Any] | None = None,
    concern: str = "bias",
    where: str = "",
    rows: Where = (),
) -> list[CheckResult]:
    """One drift result per feature; `numeric`/`categorical` are the spec dicts {method, max, bins}.

    `ref_df`/`cur_df` are pandas DataFrames or engine tables (mlprod.engines); all features
    are measured in three aggregate scans (drift_tables.py). `rows` restricts both sides
    (a cohort's group); `where` is the text appended to each subject.
    """
    ref, cur = as_table(ref_df, "reference"), as_table(cur_df, "current")
    rk, ck = ref.kinds(), cur.kinds()
    out: dict[int, CheckResult] = {}
    tasks: list[tuple[int, Task]] = []
    for i, f in enumerate(features):
        absent = [side for side, k in (("reference", rk), ("current", ck)) if f not in k]
        spec = numeric if rk.get(f) == "numeric" else categorical
        method, limit, bins = _spec(spec, 0.2)
        subject = f"{f}{where}"
        if absent:
            sides = " and ".join(absent)
            msg = f"{LABELS.get(method, method)} drift of {subject}: column missing from the {sides} data"
            out[i] = CheckResult(
                concern, "feature_drift", False, msg, None, limit, subject, {"method": method}
            )
            continue
        tasks.append((i, Task(f, subject, subject, method, limit, bins, None, concern, "feature_drift")))
    for (i, _), r in zip(tasks, table_drift(ref, cur, [t for _, t in tasks], rows), strict=True):
        out[i] = r
    return [out[i] for i in range(len(features))]


def check_skew(ref_df: Any, cur_df: Any, features: Sequence[str], max_change: float) -> list[CheckResult]:
    """Change of Bowley's quantile skewness of each numeric feature at most `max_change`.

    Bowley's skewness (Q3 + Q1 - 2 Q2) / (Q3 - Q1) lies in [-1, 1] (0 when Q3 == Q1), so the
    change lies in [0, 2] on every column and one outlier cannot move it; moment skewness
    goes in `details` for display. Categorical features are skipped. DataFrames or engine
    tables: one scan per side (quartiles and moments of every feature); with approximate
    quantiles `details["rank_error"]` states their bound.
    """
    ref, cur = as_table(ref_df, "reference"), as_table(cur_df, "current")
    rk, ck = ref.kinds(), cur.kinds()
    cols = [f for f in features if f in rk and f in ck and rk[f] == "numeric" and ck[f] == "numeric"]
    quart = {f: [0.25, 0.5, 0.75] for f in cols}
    rsc = ref.scan(ScanRequest(quantiles=quart, stats=cols))
    csc = cur.scan(ScanRequest(quantiles=quart, stats=cols))
    out: list[CheckResult] = []
    for f in features:
        if f not in rk or f not in ck:
            msg = f"skewness change of {f}: column missing"
            out.append(CheckResult("bias", "skew_change", False, msg, None, float(max_change), f))
            continue
        if rk[f] != "numeric":
            continue
        if f not in cols:
            msg = f"skewness change of {f}: numeric in the reference but {ck[f]} in the current data"
            out.append(CheckResult("bias", "skew_change", False, msg, None, float(max_change), f))
            continue
        rs, cs = (bowley_from_quartiles(*sc.quantiles[f].tolist()) for sc in (rsc, csc))
        details = {
            "reference": rs,
            "current": cs,
            "moment_reference": _moment(rsc.stats[f]),
            "moment_current": _moment(csc.stats[f]),
        }
        if rsc.rank_error or csc.rank_error:
            details["rank_error"] = max(rsc.rank_error, csc.rank_error)
        change = abs(cs - rs)
        if math.isnan(change):
            msg = f"skewness change of {f} could not be measured (no values on one side)"
            out.append(CheckResult("bias", "skew_change", False, msg, None, float(max_change), f, details))
            continue
        ok = change <= max_change
        shown, bound = distinct(change, max_change)
        msg = (
            f"quantile skewness change of {f} is {shown} {'<=' if ok else '>'} {bound} "
            f"(Bowley reference {rs:.3g}, current {cs:.3g}; moment skewness "
            f"{details['moment_reference']:.3g} -> {details['moment_current']:.3g})"
        )
        out.append(CheckResult("bias", "skew_change", ok, msg, change, float(max_change), f, details))
    return out


def _moment(s: ColumnStats) -> float:
    return float("nan") if s.skew is None else float(s.skew)


def check_target_drift(
    ref: Any, cur: Any, method: str = "psi", max: float = 0.2, *, bins: int = 10
) -> CheckResult:
    """Drift of the target: categorical unless numeric with more than 20 distinct values."""
    r, c = pd.Series(ref), pd.Series(cur)
    name = str(r.name) if r.name is not None else "target"
    kind = "numeric" if is_numeric(r) and r.nunique() > 20 else "categorical"
    if kind == "categorical" and method == "ks":
        method = "psi"  # KS is for numeric columns; a class label drifts by its shares
    return _column_drift(
        f"target {name}",
        r,
        c,
        method,
        max,
        bins,
        concern="bias",
        check="target_drift",
        subject=name,
        kind=kind,
    )


def check_prediction_drift(
    ref_scores: Any, cur_scores: Any, *, method: str = "psi", max: float = 0.25, bins: int = 10
) -> CheckResult:
    """Drift of the model's scores (column 1 of a two-column predict_proba output); concern determinism."""

    def scores(x: Any) -> pd.Series:
        a = np.asarray(x, dtype=float)
        if a.ndim == 2:
            a = a[:, -1] if a.shape[1] <= 2 else a.max(axis=1)
        return pd.Series(a.ravel())

    return _column_drift(
        "predictions",
        scores(ref_scores),
        scores(cur_scores),
        method,
        max,
        bins,
        concern="determinism",
        check="prediction_drift",
        subject="predictions",
        kind="numeric",
    )


def drift_by_cohort(
    ref_df: Any,
    cur_df: Any,
    cohorts: Sequence[Mapping[str, Any]],
    features: Sequence[str],
    *,
    numeric: Mapping[str, Any] | None = None,
    categorical: Mapping[str, Any] | None = None,
    min_rows: int = 500,
) -> list[CheckResult]:
    """Feature drift within each group of each cohort (DataFrames or engine tables).

    Only groups with at least `min_rows` rows in both reference and current are judged;
    each smaller group gets one result with `judged=False` saying why. Group sizes are one
    grouped count per side; each judged group is a feature drift restricted to its rows.
    """
    ref, cur = as_table(ref_df, "reference"), as_table(cur_df, "current")
    out: list[CheckResult] = []
    for cohort in cohorts:
        gr, gc = table_groups(ref, cohort), table_groups(cur, cohort)
        labels = list(dict.fromkeys([*gr.labels, *gc.labels]))
        if not labels:
            msg = f"drift within {gr.name} not judged: the cohort has no groups in the data"
            out.append(CheckResult("bias", "cohort_drift", True, msg, subject=gr.name, judged=False))
        for label in labels:
            nr, nc = gr.sizes.get(label, 0), gc.sizes.get(label, 0)
            group = gr.describe(label)
            if nr < min_rows or nc < min_rows:
                msg = (
                    f"drift within {group} not judged: {nr} reference / {nc} current rows, "
                    f"{min_rows} needed on both"
                )
                out.append(
                    CheckResult(
                        "bias",
                        "cohort_drift",
                        True,
                        msg,
                        None,
                        None,
                        group,
                        {"cohort": gr.name, "group": label, "n_ref": nr, "n_cur": nc},
                        judged=False,
                    )
                )
                continue
            results = feature_drift(
                ref,
                cur,
                features,
                numeric=numeric,
                categorical=categorical,
                where=f" within {group}",
                rows=gr.filters[label],
            )
            for r in results:
                r.details.update({"cohort": gr.name, "group": label, "n_ref": nr, "n_cur": nc})
            out.extend(results)
    return out
