"""Drift from engine aggregates: the finish every engine shares (issue 17).

`table_drift` judges many columns of a reference and a current `Table` with three
aggregate scans, whatever the number of columns: (1) the reference's quantile edges,
few-value tests, stats and category counts; (2) the reference's exact counts against the
edges; (3) the current data's exact counts, category counts and stats. Everything after
the scans is numpy on counts (drift_stats.py), so the engines cannot disagree on formulas:
- PSI, Jensen-Shannon and chi-square use the bins of drift_stats.py (by value for at most
  `bins` distinct reference values, else reference quantile bins keeping point masses),
  from exact counts. With an engine whose quantiles are approximate, only the edges move
  (within `Scan.rank_error` in rank); the counts against them stay exact.
- KS is exact on the raw values when both tables are pandas tables. Elsewhere it is read
  from exact counts at a grid of `KS_GRID` reference quantiles (each also counted just
  below, so a point mass is resolved): the grid's D is a lower bound of the exact D and
  `details["ks_bound"]` the largest amount the exact D can exceed it (the largest share
  either side has strictly inside one grid interval). That bound is the cross-engine
  tolerance of KS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlprod.engines import ColumnStats, Scan, ScanRequest, Table, Where

from .drift_noise import Noise, ks_noise, noise_from_counts
from .drift_stats import (
    MISSING,
    STATISTICS,
    Bins,
    _boundary_labels,
    chi2_from_counts,
    ks_statistic,
    quantile_boundaries,
)
from .results import CheckResult, distinct

LABELS = {"psi": "PSI", "ks": "KS D", "jensenshannon": "Jensen-Shannon distance", "chi2": "chi-square w"}
KS_GRID = 1000  # reference quantiles KS is read at, outside pandas: bound about 1 / KS_GRID


@dataclass(frozen=True)
class Task:
    """One column to judge: `name` is the message's name, `kind` None = by the reference's kind."""

    column: str
    name: str
    subject: str
    method: str
    limit: float
    bins: int = 10
    kind: str | None = None
    concern: str = "bias"
    check: str = "feature_drift"


def as_table(x: Any, name: str = "data") -> Table:
    """A `Table` as is; a pandas DataFrame wrapped by the pandas engine."""
    if isinstance(x, Table):
        return x
    from mlprod.engines.pandas import PandasEngine

    return PandasEngine().from_frame(x, name=name)


def _exact_raw(t: Table, column: str, where: Where) -> np.ndarray | None:
    """The raw float values of a pandas table's column (exact KS), else None."""
    from mlprod.engines.pandas import PandasTable, filter_mask, floats

    if not isinstance(t, PandasTable):
        return None
    df = t.frame[filter_mask(t.frame, where)] if where else t.frame
    return floats(df[column])


# --- boundaries from quantiles --------------------------------------------------------------


def thresholds_of(boundaries: list[tuple[float, bool]]) -> list[float]:
    """`x < v` as `x <= nextafter(v, -inf)`, `x <= v` as is: the protocol's right-closed thresholds."""
    return [v if closed else float(np.nextafter(v, -np.inf)) for v, closed in boundaries]


def ks_thresholds(qs: np.ndarray) -> list[float]:
    """Each distinct grid value, counted just below it and at it."""
    out: list[float] = []
    for v in np.unique(qs[~np.isnan(qs)]).tolist():
        out += [float(np.nextafter(v, -np.inf)), v]
    return out


def ks_from_counts(thresholds: Sequence[float], rc: np.ndarray, cc: np.ndarray) -> tuple[float, float]:
    """(D at the thresholds, how far the exact D can lie above it) from right-closed bin counts.

    `rc`, `cc` are counts in (-inf, t0], ..., (t_last, inf) (missing excluded). Between two
    thresholds a < b the CDFs move only by the shares strictly inside (a, b], so the exact
    supremum is at most max(F_r(b) - F_c(a), F_c(b) - F_r(a)) over the intervals with room.
    """
    fr = np.r_[0.0, np.cumsum(rc) / rc.sum()]
    fc = np.r_[0.0, np.cumsum(cc) / cc.sum()]
    fr[-1] = fc[-1] = 1.0
    d = float(np.abs(fr - fc).max())
    t = np.r_[-np.inf, np.asarray(thresholds, dtype=float), np.inf]
    room = np.nextafter(t[:-1], np.inf) < t[1:]  # some value lies strictly between
    up = np.maximum(fr[1:] - fc[:-1], fc[1:] - fr[:-1])
    upper = float(up[room].max()) if room.any() else d
    return d, max(upper - d, 0.0)


# --- summaries ------------------------------------------------------------------------------


def numeric_summary(s: ColumnStats) -> dict[str, Any]:
    out: dict[str, Any] = {"n": s.n, "missing": s.missing}
    if s.n > s.missing and s.min is not None:
        out |= {"mean": s.mean, "std": s.std, "min": s.min, "max": s.max, "constant": s.min == s.max}
    return out


def categorical_summary(counts: np.ndarray, labels: list[str]) -> dict[str, Any]:
    total = float(counts.sum())
    order = np.argsort(-counts, kind="stable")[:5]
    top = {labels[i]: float(counts[i] / total) for i in order if counts[i] > 0} if total else {}
    missing = int(counts[labels.index(MISSING)]) if MISSING in labels else 0
    return {"n": int(total), "missing": missing, "categories": int((counts > 0).sum()), "top": top}


def category_bins(rv: dict[Any, int], cv: dict[Any, int]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Counts over the categories of both sides (reference order first), missing as one category."""
    keys = list(dict.fromkeys([*rv, *cv]))
    rc = np.array([rv.get(k, 0) for k in keys], dtype=float)
    cc = np.array([cv.get(k, 0) for k in keys], dtype=float)
    return rc, cc, [MISSING if k is None else str(k) for k in keys]


def value_bins(few: dict[Any, int], ref_missing: int, cur: dict[Any, int]) -> Bins:
    """One bin per reference value, one per value only the current data has, then missing."""
    ref = {float(k): n for k, n in few.items()}
    values = np.sort(np.array(list(ref), dtype=float))
    cur_f: dict[float, int] = {}
    for k, n in cur.items():
        if k is not None:
            cur_f[float(k)] = cur_f.get(float(k), 0) + n
    new = np.array(sorted(k for k in cur_f if k not in ref), dtype=float)
    labels = [f"{v:g}" for v in values] + [f"{v:g}" for v in new] + [MISSING]
    rc = np.array([*(ref[v] for v in values.tolist()), *([0] * new.size), ref_missing], dtype=float)
    cc = np.array(
        [*(cur_f.get(v, 0) for v in values.tolist()), *(cur_f[v] for v in new.tolist()), cur.get(None, 0)],
        dtype=float,
    )
    return Bins(rc, cc, labels, "values")


# --- the three scans and the finish ---------------------------------------------------------


@dataclass
class _Plan:
    task: Task
    kind: str
    problem: str | None = None
    few: bool = False  # value-binned numeric
    boundaries: list[tuple[float, bool]] | None = None
    thresholds: list[float] | None = None
    exact_ks: bool = False


def table_drift(ref: Table, cur: Table, tasks: Sequence[Task], where: Where = ()) -> list[CheckResult]:
    """One result per task, from three aggregate scans over all tasks' columns (rows in `where`)."""
    rk, ck = ref.kinds(), cur.kinds()
    plans = []
    for t in tasks:
        kind = t.kind or ("numeric" if rk.get(t.column) == "numeric" else "categorical")
        p = _Plan(t, kind)
        if t.method not in LABELS:
            p.problem = f"unknown method {t.method!r} (use {', '.join(LABELS)})"
        elif kind == "numeric" and ck.get(t.column) not in ("numeric", "bool" if t.kind else "numeric"):
            p.problem = f"numeric in the reference but {ck.get(t.column)} in the current data"
        elif kind == "categorical" and t.method == "ks":
            p.problem = "KS applies to numeric columns only; use psi, chi2 or jensenshannon"
        plans.append(p)
    live = [p for p in plans if p.problem is None]
    num = [p for p in live if p.kind == "numeric"]
    cat = [p for p in live if p.kind == "categorical"]
    exact_ks = _both_pandas(ref, cur)
    quantiles: dict[str, list[float]] = {}
    few: dict[str, int] = {}
    for p in num:
        c = p.task.column
        if p.task.method == "ks":
            p.exact_ks = exact_ks
            if not exact_ks:
                quantiles[c] = (np.arange(1, KS_GRID) / KS_GRID).tolist()
        else:
            quantiles[c] = np.linspace(0.0, 1.0, int(p.task.bins) + 1)[1:-1].tolist()
            few[c] = int(p.task.bins)
    r1 = ref.scan(ScanRequest(quantiles=quantiles, few=few, where=where))
    for p in num:
        c = p.task.column
        if p.exact_ks:
            continue
        if p.task.method == "ks":
            p.thresholds = ks_thresholds(r1.quantiles[c])
        elif r1.few.get(c):
            p.few = True
        else:  # all-missing quantiles give no boundary: one bin, and the stats say why
            qs = r1.quantiles[c]
            p.boundaries = quantile_boundaries(qs[~np.isnan(qs)])
            p.thresholds = thresholds_of(p.boundaries)
    thresholds = {p.task.column: p.thresholds for p in num if p.thresholds is not None}
    stats = [p.task.column for p in num]
    r2 = ref.scan(
        ScanRequest(
            thresholds=thresholds, stats=stats, values=[p.task.column for p in cat], where=where, skew=False
        )
    )
    values = [p.task.column for p in cat] + [p.task.column for p in num if p.few]
    c1 = cur.scan(ScanRequest(thresholds=thresholds, values=values, stats=stats, where=where, skew=False))
    return [_finish(p, ref, cur, r1, r2, c1, where) for p in plans]


def _both_pandas(ref: Table, cur: Table) -> bool:
    from mlprod.engines.pandas import PandasTable

    return isinstance(ref, PandasTable) and isinstance(cur, PandasTable)


def _finish(p: _Plan, ref: Table, cur: Table, r1: Scan, r2: Scan, c1: Scan, where: Where) -> CheckResult:
    """One column's result from the reference's quantile scan r1 and counting scan r2, and the current c1."""
    t = p.task
    label = LABELS.get(t.method, t.method)
    base = {"method": t.method, "kind": p.kind}

    def fail(why: str, **details: Any) -> CheckResult:
        msg = f"{label} drift of {t.name}: {why}"
        return CheckResult(t.concern, t.check, False, msg, None, float(t.limit), t.subject, base | details)

    if p.problem and p.problem.startswith("unknown method"):
        return fail(p.problem)
    if r2.rows == 0 or c1.rows == 0:
        return fail(f"no rows ({r2.rows} reference, {c1.rows} current)")
    if p.problem:
        return fail(p.problem)
    extra: dict[str, Any] = {}
    c = t.column
    if p.kind == "numeric":
        rs, cs = numeric_summary(r2.stats[c]), numeric_summary(c1.stats[c])
        for side, s in (("reference", rs), ("current", cs)):
            if s["missing"] == s["n"]:
                return fail(f"all {s['n']} {side} values are missing", ref=rs, cur=cs)
        n_r, n_c = rs["n"] - rs["missing"], cs["n"] - cs["missing"]
        if t.method == "ks":
            if p.exact_ks:
                value = ks_statistic(_exact_raw(ref, c, where), _exact_raw(cur, c, where))
                extra["ks_bound"] = 0.0
            else:
                value, bound = ks_from_counts(p.thresholds or [], r2.counts[c][:-1], c1.counts[c][:-1])
                extra |= {"ks_bound": bound, "grid": KS_GRID, "rank_error": r1.rank_error}
            noise = ks_noise(int(n_r), int(n_c))
        else:
            if p.few:
                b = value_bins(r1.few[c] or {}, int(rs["missing"]), c1.values[c])
            else:
                bl = p.boundaries or []
                b = Bins(r2.counts[c], c1.counts[c], _boundary_labels(bl), "quantiles")
            rc, cc, bin_labels = b.ref, b.cur, b.labels
            extra |= {"bins": b.kind, "labels": b.labels[:50]}
            if r1.rank_error and b.kind == "quantiles":
                extra["rank_error"] = r1.rank_error
        context = f"reference mean {rs['mean']:.4g}, current mean {cs['mean']:.4g}"
    else:
        rc, cc, labels = category_bins(r2.values[c], c1.values[c])
        bin_labels = labels
        rs, cs = categorical_summary(rc, labels), categorical_summary(cc, labels)
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
    if t.method != "ks":
        extra["shares"] = bin_shares(rc, cc, bin_labels)
        value = STATISTICS[t.method](rc, cc)
        noise = noise_from_counts(t.method, rc, cc)
        if t.method == "chi2":
            stat, pv = chi2_from_counts(rc, cc)
            extra |= {"chi2": stat, "p_value": pv}
    return judge(t, label, value, noise, base | {"statistic": value, "ref": rs, "cur": cs} | extra, context)


def bin_shares(rc: np.ndarray, cc: np.ndarray, labels: list[str], top: int = 30) -> dict[str, Any]:
    """The compared bins as shares of each side (what the notebooks plot for engine tables):
    in bin order, or the `top` largest bins (by the larger share) when there are more."""
    r = rc / rc.sum() if rc.sum() else rc.astype(float)
    c = cc / cc.sum() if cc.sum() else cc.astype(float)
    order = np.arange(len(labels))
    if len(labels) > top:
        order = np.sort(np.argsort(-np.maximum(r, c), kind="stable")[:top])
    return {
        "labels": [str(labels[i]) for i in order],
        "reference": [float(r[i]) for i in order],
        "current": [float(c[i]) for i in order],
        "shown": len(order),
        "of": len(labels),
    }


def judge(
    t: Task, label: str, value: float, noise: Noise, details: dict[str, Any], context: str
) -> CheckResult:
    """The verdict on a measured statistic: fail on NaN, not judged inside the noise, else the bound."""
    details["noise"] = {"p95": noise.p95, "how": noise.how, "n_ref": noise.n, "n_cur": noise.m}
    limit = t.limit
    if math.isnan(value):
        msg = f"{label} drift of {t.name}: could not be measured (NaN)"
        return CheckResult(t.concern, t.check, False, msg, None, float(limit), t.subject, details)
    if not noise.p95 <= limit:
        msg = f"{label} drift of {t.name} not judged: {noise_reason(noise, limit)}"
        return CheckResult(
            t.concern, t.check, True, msg, float(value), float(limit), t.subject, details, judged=False
        )
    ok = value <= limit
    shown, bound = distinct(value, limit)
    msg = (
        f"{label} drift of {t.name} is {shown} {'<=' if ok else '>'} {bound} ({context}; "
        f"{noise.p95:.2g} with no drift at {noise.n} / {noise.m} rows)"
    )
    return CheckResult(t.concern, t.check, ok, msg, float(value), float(limit), t.subject, details)


def noise_reason(noise: Noise, limit: float) -> str:
    """Why a bound is inside the noise, and the rows that would make it judgeable."""
    each, beside = noise.rows_needed(limit)
    more = f" (or {beside} current rows beside these {noise.n} reference rows)" if beside else ""
    return (
        f"with no drift at all it reaches {noise.p95:.3g} (95th percentile, {noise.how}) at "
        f"{noise.n} reference / {noise.m} current rows, above the bound {limit:g}; "
        f"judgeable from {each} rows on each side{more}"
    )


def target_drift(
    ref: Table, cur: Table, target: str, method: str = "psi", max: float = 0.2, bins: int = 10
) -> CheckResult:
    """Drift of the target over engine tables, as `drift.check_target_drift`.

    Categorical unless numeric with more than 20 distinct values (an exact few-values test);
    KS on a categorical target becomes PSI.
    """
    for side, t in (("reference", ref), ("current", cur)):
        if target not in t.kinds():
            msg = f"target drift: data set {t.name} ({side}) has no target column {target!r}"
            return CheckResult("bias", "target_drift", False, msg, None, float(max), target)
    kind = "categorical"
    if ref.kinds()[target] == "numeric":
        few = ref.scan(ScanRequest(few={target: 20})).few[target]
        kind = "categorical" if few is not None else "numeric"
    if kind == "categorical" and method == "ks":
        method = "psi"  # KS is for numeric columns; a class label drifts by its shares
    task = Task(
        target, f"target {target}", target, method, float(max), int(bins), kind, "bias", "target_drift"
    )
    return table_drift(ref, cur, [task])[0]
