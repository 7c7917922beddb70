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

from .cohorts import cohort_groups
from .drift_noise import Noise, ks_noise, noise_from_counts
from .drift_stats import (
    EPS,
    MISSING,
    STATISTICS,
    _floats,
    _valid,
    categorical_histograms,
    chi2_from_counts,
    chi2_test,
    is_numeric,
    js_distance,
    ks_statistic,
    numeric_bins,
    numeric_histograms,
    psi_categorical,
    psi_numeric,
    quantile_skewness,
    skew_change,
    skewness,
)
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
LABELS = {"psi": "PSI", "ks": "KS D", "jensenshannon": "Jensen-Shannon distance", "chi2": "chi-square w"}


# --- one column -> one result ----------------------------------------------------------


def _numeric_summary(x: np.ndarray) -> dict[str, Any]:
    v = _valid(x)
    out: dict[str, Any] = {"n": int(x.size), "missing": int(x.size - v.size)}
    if v.size:
        lo, hi = float(v.min()), float(v.max())
        out |= {"mean": float(v.mean()), "std": float(v.std()), "min": lo, "max": hi, "constant": lo == hi}
    return out


def _categorical_summary(counts: np.ndarray, labels: list[str]) -> dict[str, Any]:
    total = float(counts.sum())
    order = np.argsort(-counts, kind="stable")[:5]
    top = {labels[i]: float(counts[i] / total) for i in order if counts[i] > 0} if total else {}
    missing = int(counts[labels.index(MISSING)]) if MISSING in labels else 0
    return {"n": int(total), "missing": missing, "categories": int((counts > 0).sum()), "top": top}


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
    """Drift of one column; every degenerate input gives an explicit result."""
    kind = kind or ("numeric" if is_numeric(ref) else "categorical")
    label = LABELS.get(method, method)
    base = {"method": method, "kind": kind}

    def fail(why: str, **details: Any) -> CheckResult:
        return CheckResult(
            concern,
            check,
            False,
            f"{label} drift of {name}: {why}",
            None,
            float(limit),
            subject,
            base | details,
        )

    if method not in LABELS:
        return fail(f"unknown method {method!r} (use {', '.join(LABELS)})")
    if len(ref) == 0 or len(cur) == 0:
        return fail(f"no rows ({len(ref)} reference, {len(cur)} current)")
    if kind == "numeric" and not is_numeric(cur):
        return fail(f"numeric in the reference but {cur.dtype} in the current data")
    extra: dict[str, Any] = {}
    if kind == "numeric":
        r, c = _floats(ref), _floats(cur)
        rs, cs = _numeric_summary(r), _numeric_summary(c)
        for side, s in (("reference", rs), ("current", cs)):
            if s["missing"] == s["n"]:
                return fail(f"all {s['n']} {side} values are missing", ref=rs, cur=cs)
        if method == "ks":
            value = ks_statistic(r, c)
            noise = ks_noise(int(r.size - rs["missing"]), int(c.size - cs["missing"]))
        else:
            b = numeric_bins(r, c, bins)
            rc, cc = b.ref, b.cur
            extra |= {"bins": b.kind, "labels": b.labels[:50]}
        context = f"reference mean {rs['mean']:.4g}, current mean {cs['mean']:.4g}"
    else:
        if method == "ks":
            return fail("KS applies to numeric columns only; use psi, chi2 or jensenshannon")
        rc, cc, labels = categorical_histograms(ref, cur)
        rs, cs = _categorical_summary(rc, labels), _categorical_summary(cc, labels)
        for side, s in (("reference", rs), ("current", cs)):
            if s["missing"] == s["n"]:
                return fail(f"all {s['n']} {side} values are missing", ref=rs, cur=cs)
        unseen = [labels[i] for i in np.flatnonzero((rc == 0) & (cc > 0))]
        share = float(cc[(rc == 0) & (cc > 0)].sum() / cc.sum())
        extra["unseen"] = {"categories": unseen[:20], "share": share}
        context = (
            f"{share:.1%} of current rows in {len(unseen)} unseen categor{'y' if len(unseen) == 1 else 'ies'}"
            if unseen
            else f"{cs['categories']} categories"
        )
    if method != "ks":
        value = STATISTICS[method](rc, cc)
        noise = noise_from_counts(method, rc, cc)
        if method == "chi2":
            stat, p = chi2_from_counts(rc, cc)
            extra |= {"chi2": stat, "p_value": p}
    extra["noise"] = _noise_details(noise)
    details = base | {"statistic": value, "ref": rs, "cur": cs} | extra
    if math.isnan(value):
        return fail("could not be measured (NaN)", **details)
    if not noise.p95 <= limit:
        msg = f"{label} drift of {name} not judged: {_noise_reason(noise, limit)}"
        return CheckResult(
            concern, check, True, msg, float(value), float(limit), subject, details, judged=False
        )
    ok = value <= limit
    rel = "<=" if ok else ">"
    shown, bound = distinct(value, limit)
    msg = (
        f"{label} drift of {name} is {shown} {rel} {bound} ({context}; "
        f"{noise.p95:.2g} with no drift at {noise.n} / {noise.m} rows)"
    )
    return CheckResult(concern, check, ok, msg, float(value), float(limit), subject, details)


def _noise_details(noise: Noise) -> dict[str, Any]:
    return {"p95": noise.p95, "how": noise.how, "n_ref": noise.n, "n_cur": noise.m}


def _noise_reason(noise: Noise, limit: float) -> str:
    """Why a bound is inside the noise, and the rows that would make it judgeable."""
    each, beside = noise.rows_needed(limit)
    more = f" (or {beside} current rows beside these {noise.n} reference rows)" if beside else ""
    return (
        f"with no drift at all it reaches {noise.p95:.3g} (95th percentile, {noise.how}) at "
        f"{noise.n} reference / {noise.m} current rows, above the bound {limit:g}; "
        f"judgeable from {each} rows on each side{more}"
    )


def _spec(d: Mapping[str, Any] | None, default_max: float) -> tuple[str, float, int]:
    d = d or {}
    return str(d.get("method", "psi")), float(d.get("max", default_max)), int(d.get("bins", 10))


def feature_drift(
    ref_df: pd.DataFrame,
    cur_df: pd.DataFrame,
    features: Sequence[str],
    *,
    numeric: Mapping[str, Any] | None = None,
    categorical: Mapping[str, Any] | None = None,
    concern: str = "bias",
    where: str = "",
) -> list[CheckResult]:
    """One drift result per feature; `numeric`/`categorical` are the spec dicts {method, max, bins}."""
    out: list[CheckResult] = []
    for f in features:
        absent = [side for side, df in (("reference", ref_df), ("current", cur_df)) if f not in df.columns]
        spec = numeric if f in ref_df.columns and is_numeric(ref_df[f]) else categorical
        method, limit, bins = _spec(spec, 0.2)
        subject = f"{f}{where}"
        if absent:
            sides = " and ".join(absent)
            msg = f"{LABELS.get(method, method)} drift of {subject}: column missing from the {sides} data"
            out.append(
                CheckResult(concern, "feature_drift", False, msg, None, limit, subject, {"method": method})
            )
            continue
        out.append(
            _column_drift(
                subject,
                ref_df[f],
                cur_df[f],
                method,
                limit,
                bins,
                concern=concern,
                check="feature_drift",
                subject=subject,
            )
        )
    return out


def check_skew(
    ref_df: pd.DataFrame, cur_df: pd.DataFrame, features: Sequence[str], max_change: float
) -> list[CheckResult]:
    """Change of Bowley's quantile skewness of each numeric feature at most `max_change`.

    Bowley's skewness (Q3 + Q1 - 2 Q2) / (Q3 - Q1) lies in [-1, 1] (0 when Q3 == Q1), so the
    change lies in [0, 2] on every column and one outlier cannot move it; moment skewness
    goes in `details` for display. Categorical features are skipped.
    """
    out: list[CheckResult] = []
    for f in features:
        if f not in ref_df.columns or f not in cur_df.columns:
            msg = f"skewness change of {f}: column missing"
            out.append(CheckResult("bias", "skew_change", False, msg, None, float(max_change), f))
            continue
        if not is_numeric(ref_df[f]):
            continue
        rs, cs = quantile_skewness(ref_df[f]), quantile_skewness(cur_df[f])
        details = {
            "reference": rs,
            "current": cs,
            "moment_reference": skewness(ref_df[f]),
            "moment_current": skewness(cur_df[f]),
        }
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


def check_target_drift(
    ref: Any, cur: Any, method: str = "psi", max: float = 0.2, *, bins: int = 10, classes: bool = False
) -> CheckResult:
    """Drift of the target: categorical unless numeric with more than 20 distinct values.

    `classes=True` (a classifier's target) always compares class shares; labels are compared
    as written (1 and 1.0 are one class, so a NaN that made pandas read floats changes nothing).
    """
    r, c = pd.Series(ref), pd.Series(cur)
    name = str(r.name) if r.name is not None else "target"
    kind = "categorical" if classes else "numeric" if is_numeric(r) and r.nunique() > 20 else "categorical"
    if classes:
        r, c = _as_labels(r), _as_labels(c)
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


def _as_labels(s: pd.Series) -> pd.Series:
    """Class labels as text, missing values kept missing."""
    from .metrics_multiclass import label_text

    return s.map(lambda v: v if pd.isna(v) else label_text(v)).astype(object).rename(s.name)


def check_prediction_drift(
    ref_scores: Any, cur_scores: Any, *, method: str = "psi", max: float = 0.25, bins: int = 10
) -> CheckResult:
    """Drift of the model's scores (column 1 of a two-column predict_proba output); concern determinism.

    A multiclass probability matrix (`ClassProba`) drifts by its predicted-class distribution
    (categorical bins of the predicted labels; KS falls back to PSI).
    """
    if hasattr(ref_scores, "predicted") and hasattr(cur_scores, "predicted"):
        from .metrics_multiclass import label_text

        r = pd.Series([label_text(v) for v in ref_scores.predicted()], dtype=object)
        c = pd.Series([label_text(v) for v in cur_scores.predicted()], dtype=object)
        return _column_drift(
            "predicted classes",
            r,
            c,
            "psi" if method == "ks" else method,
            max,
            bins,
            concern="determinism",
            check="prediction_drift",
            subject="predictions",
            kind="categorical",
        )

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
    ref_df: pd.DataFrame,
    cur_df: pd.DataFrame,
    cohorts: Sequence[Mapping[str, Any]],
    features: Sequence[str],
    *,
    numeric: Mapping[str, Any] | None = None,
    categorical: Mapping[str, Any] | None = None,
    min_rows: int = 500,
) -> list[CheckResult]:
    """Feature drift within each group of each cohort.

    Only groups with at least `min_rows` rows in both reference and current are judged;
    each smaller group gets one result with `judged=False` saying why.
    """
    out: list[CheckResult] = []
    for cohort in cohorts:
        gr, gc = cohort_groups(ref_df, cohort), cohort_groups(cur_df, cohort)
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
                ref_df[gr.mask(label)],
                cur_df[gc.mask(label)],
                features,
                numeric=numeric,
                categorical=categorical,
                where=f" within {group}",
            )
            for r in results:
                r.details.update({"cohort": gr.name, "group": label, "n_ref": nr, "n_cur": nc})
            out.extend(results)
    return out
