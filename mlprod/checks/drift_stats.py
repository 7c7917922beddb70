"""Drift statistics: binning of raw columns into counts, and statistics finished from counts.

Two layers, so a later engine (DuckDB, Spark) can produce the counts where the data lives
and reuse the same formulas:
- **binning** (raw columns -> `Bins`: reference counts, current counts, labels). Numeric
  columns with at most `bins` distinct reference values are binned *by value*: one bin per
  reference value, and every value of the current data the reference never had is a bin of
  its own (its reference share is counted as `EPS`). Other numeric columns get reference
  quantile bins (outer bins open to +-inf, left-closed) that keep point masses: a value that
  fills several quantiles (a zero-inflated column's 0) is a bin of its own, so the tail
  beside it is not merged away. Categories are their own bins. Missing values form one
  more bin in every case.
- **statistics on counts**: PSI (empty bins counted as a share of `EPS`), Jensen-Shannon
  distance (base 2, as scipy.spatial.distance.jensenshannon), chi-square goodness of fit
  (as scipy.stats.chisquare). Kolmogorov-Smirnov D (as scipy.stats.ks_2samp) is exact on
  the raw values. Skewness: Bowley's quantile skewness (the checked one, bounded in
  [-1, 1]) and moment skewness g1 (shown in notebooks and the card).
Each column is converted once and reduced with vectorised numpy; there is no per-row Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

EPS = 1e-4  # share given to an empty bin so PSI stays finite
MISSING = "<missing>"
_PROBE = 4096  # rows looked at first to rule out a low-cardinality column cheaply


@dataclass(frozen=True)
class Bins:
    """Reference and current counts over the same bins, with a label per bin."""

    ref: np.ndarray
    cur: np.ndarray
    labels: list[str]
    kind: str  # "values" | "quantiles" | "categories"


# --- column preparation ----------------------------------------------------------------


def is_numeric(s: Any) -> bool:
    """Numeric by dtype; booleans count as categorical."""
    dtype = getattr(s, "dtype", None)
    if dtype is None:  # a list; note a numpy dtype is falsy, so no `or` here
        dtype = np.asarray(s).dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _floats(x: Any) -> np.ndarray:
    if isinstance(x, pd.Series | pd.Index):
        return x.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(x, dtype=float).ravel()


def _valid(x: np.ndarray) -> np.ndarray:
    nan = np.isnan(x)
    return x[~nan] if nan.any() else x


def few_values(ref_valid: np.ndarray, bins: int) -> np.ndarray | None:
    """The sorted distinct values when there are at most `bins` of them, else None.

    A probe of the first rows rules out most continuous columns without hashing them all.
    """
    if ref_valid.size > _PROBE and pd.unique(ref_valid[:_PROBE]).size > bins:
        return None
    values = pd.unique(ref_valid)
    return np.sort(values) if values.size <= bins else None


def _quantile_boundaries(ref_valid: np.ndarray, bins: int) -> list[tuple[float, bool]]:
    """Bin boundaries as (value, closed): `x < value` (closed False) or `x <= value` (closed True).

    Interior edges at the reference's quantiles, deduplicated; an edge that several quantiles
    share is a point mass and also gets the boundary `x <= value`, making it a bin of its own.
    """
    if ref_valid.size == 0:
        return []
    return quantile_boundaries(np.quantile(ref_valid, np.linspace(0.0, 1.0, int(bins) + 1)[1:-1]))


def quantile_boundaries(qs: np.ndarray) -> list[tuple[float, bool]]:
    """(value, closed) boundaries from given quantiles (shared with the engines' drift path)."""
    values, repeats = np.unique(qs, return_counts=True)
    out: list[tuple[float, bool]] = []
    for v, k in zip(values.tolist(), repeats.tolist(), strict=True):
        out.append((v, False))
        if k > 1:
            out.append((v, True))
    return out


def _counts_below(x: np.ndarray, boundaries: list[tuple[float, bool]]) -> np.ndarray:
    """Counts in each bin between successive boundaries, then the missing values.

    One vectorised comparison per boundary (a few ms per million rows each) is several times
    faster than `searchsorted` + `bincount`, whose per-element binary search mispredicts.
    """
    nan = int(np.count_nonzero(np.isnan(x)))
    below = [int(np.count_nonzero(x <= v if closed else x < v)) for v, closed in boundaries]
    return np.r_[np.diff(np.array([0, *below, x.size - nan], dtype=float)), nan]


def _boundary_labels(boundaries: list[tuple[float, bool]]) -> list[str]:
    if not boundaries:
        return ["(-inf, inf)", MISSING]
    labels, lo = [], "(-inf"
    for v, closed in boundaries:
        labels.append(f"{lo}, {v:g}{']' if closed else ')'}")
        lo = f"({v:g}" if closed else f"[{v:g}"
    return [*labels, f"{lo}, inf)", MISSING]


def _value_bins(r: np.ndarray, c: np.ndarray, values: np.ndarray) -> Bins:
    """One bin per reference value, one per value only the current data has, then missing."""
    rc = [int(np.count_nonzero(r == v)) for v in values]
    cc = [int(np.count_nonzero(c == v)) for v in values]
    known = np.isin(c, values) | np.isnan(c)
    new_values, new_counts = np.unique(c[~known], return_counts=True)
    labels = [f"{v:g}" for v in values] + [f"{v:g}" for v in new_values] + [MISSING]
    ref = np.array([*rc, *([0] * new_values.size), np.count_nonzero(np.isnan(r))], dtype=float)
    cur = np.array([*cc, *new_counts.tolist(), np.count_nonzero(np.isnan(c))], dtype=float)
    return Bins(ref, cur, labels, "values")


def numeric_bins(ref: Any, cur: Any, bins: int = 10) -> Bins:
    """Counts of a numeric column: by value when the reference has at most `bins` values, else quantiles."""
    r, c = _floats(ref), _floats(cur)
    rv = _valid(r)
    values = few_values(rv, bins)
    if values is not None and values.size:
        return _value_bins(r, c, values)
    boundaries = _quantile_boundaries(rv, bins)
    return Bins(
        _counts_below(r, boundaries), _counts_below(c, boundaries), _boundary_labels(boundaries), "quantiles"
    )


def numeric_histograms(ref: Any, cur: Any, bins: int = 10) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(reference counts, current counts, bin labels) of a numeric column; see `numeric_bins`."""
    b = numeric_bins(ref, cur, bins)
    return b.ref, b.cur, b.labels


def _value_counts(x: Any) -> dict[Any, int]:
    codes, uniques = pd.factorize(pd.Series(x), use_na_sentinel=False)
    counts = np.bincount(codes, minlength=len(uniques))
    # every missing value (None, NaN, NA) is one category
    return {(MISSING if pd.isna(u) else u): int(c) for u, c in zip(uniques, counts, strict=True)}


def categorical_histograms(ref: Any, cur: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(reference counts, current counts, labels) over the categories of both; missing is one category.

    Each side is factorized on its own and only the (few) distinct values are merged, so no
    per-row work is done on the concatenation.
    """
    rv, cv = _value_counts(ref), _value_counts(cur)
    keys = list(dict.fromkeys([*rv, *cv]))
    rc = np.array([rv.get(k, 0) for k in keys], dtype=float)
    cc = np.array([cv.get(k, 0) for k in keys], dtype=float)
    return rc, cc, [str(k) for k in keys]


def column_bins(ref: Any, cur: Any, bins: int = 10) -> Bins:
    """The bins PSI, Jensen-Shannon and chi-square use: numeric bins for numeric dtypes, else categories."""
    if is_numeric(ref) and is_numeric(cur):
        return numeric_bins(ref, cur, bins)
    rc, cc, labels = categorical_histograms(ref, cur)
    return Bins(rc, cc, labels, "categories")


# --- statistics on counts (the part every engine shares) -----------------------------------


def _shares(counts: np.ndarray) -> np.ndarray | None:
    total = counts.sum()
    return counts / total if total > 0 else None


def psi_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float = EPS) -> float:
    """PSI = sum((cur - ref) * ln(cur / ref)) over shares, empty bins counted as `eps`."""
    p, q = _shares(ref_counts), _shares(cur_counts)
    if p is None or q is None:
        return float("nan")
    p, q = np.maximum(p, eps), np.maximum(q, eps)
    return float(np.sum((q - p) * np.log(q / p)))


def js_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2) of two count vectors; as scipy.spatial.distance.jensenshannon."""
    p, q = _shares(ref_counts), _shares(cur_counts)
    if p is None or q is None:
        return float("nan")
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(math.sqrt(max((kl_p + kl_q) / 2, 0.0)))


def chi2_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Chi-square goodness-of-fit of current counts against reference shares: (statistic, p-value).

    Bins empty on both sides are dropped; a bin empty in the reference only (an unseen
    category) gets the share `EPS` (shares renormalised) so the statistic stays finite.
    """
    stat, k = _chi2_stat(ref_counts, cur_counts)
    if math.isnan(stat) or k < 2:
        return stat, float("nan")
    from scipy.stats import chi2  # imported here: scipy.stats costs ~0.3 s to import

    return stat, float(chi2.sf(stat, k - 1))


def _chi2_stat(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, int]:
    keep = (ref_counts > 0) | (cur_counts > 0)
    rc, cc = ref_counts[keep], cur_counts[keep]
    p = _shares(rc)
    n = cc.sum()
    if p is None or n == 0:
        return float("nan"), int(rc.size)
    if (p == 0).any():
        p = np.maximum(p, EPS)
        p = p / p.sum()
    expected = p * n
    return float(np.sum((cc - expected) ** 2 / expected)), int(rc.size)


def chi2_effect_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Cohen's w = sqrt(chi2 / n_current): the chi-square method's bounded statistic."""
    stat, _ = _chi2_stat(ref_counts, cur_counts)
    n = float(cur_counts.sum())
    return math.sqrt(stat / n) if n > 0 and not math.isnan(stat) else float("nan")


STATISTICS = {"psi": psi_from_counts, "jensenshannon": js_from_counts, "chi2": chi2_effect_from_counts}


# --- public statistics on raw columns --------------------------------------------------


def psi_numeric(ref: Any, cur: Any, bins: int = 10) -> float:
    """PSI of a numeric column over its bins (see `numeric_bins`; missing values are one more bin)."""
    b = numeric_bins(ref, cur, bins)
    return psi_from_counts(b.ref, b.cur)


def psi_categorical(ref: Any, cur: Any) -> float:
    """PSI of a categorical column; categories unseen in the reference count as share `EPS` there."""
    rc, cc, _ = categorical_histograms(ref, cur)
    return psi_from_counts(rc, cc)


def ks_statistic(ref: Any, cur: Any) -> float:
    """Two-sample Kolmogorov-Smirnov D (as scipy.stats.ks_2samp), missing values dropped.

    Each side is sorted once; the two empirical CDFs are evaluated at every observed value
    with `searchsorted`. NaN when either side has no value.
    """
    a, b = np.sort(_valid(_floats(ref))), np.sort(_valid(_floats(cur)))
    if a.size == 0 or b.size == 0:
        return float("nan")
    # the supremum is reached at an observed value; sorted queries keep searchsorted cache-friendly
    d_at_a = np.searchsorted(a, a, side="right") / a.size - np.searchsorted(b, a, side="right") / b.size
    d_at_b = np.searchsorted(a, b, side="right") / a.size - np.searchsorted(b, b, side="right") / b.size
    return float(max(np.abs(d_at_a).max(), np.abs(d_at_b).max()))


def js_distance(ref: Any, cur: Any, *, bins: int = 10) -> float:
    """Jensen-Shannon distance (base 2) over the column's bins (see `column_bins`)."""
    b = column_bins(ref, cur, bins)
    return js_from_counts(b.ref, b.cur)


def chi2_test(ref: Any, cur: Any, *, bins: int = 10) -> tuple[float, float]:
    """Chi-square goodness-of-fit of `cur` against `ref`'s shares: (statistic, p-value).

    Equals scipy.stats.chisquare(cur_counts, ref_shares * n_cur) when every current category
    was seen in the reference.
    """
    b = column_bins(ref, cur, bins)
    return chi2_from_counts(b.ref, b.cur)


def skewness(x: Any) -> float:
    """Moment skewness g1 (scipy.stats.skew, bias=True) of the non-missing values.

    A constant column has skewness 0 (scipy gives NaN); no value at all gives NaN. Shown in
    notebooks and the card; the check uses `quantile_skewness`, which one outlier cannot move.
    """
    v = _valid(_floats(x))
    if v.size == 0:
        return float("nan")
    d = v - v.mean()
    m2 = float(np.mean(d * d))
    if m2 <= (1e-14 * max(abs(float(v.mean())), 1.0)) ** 2:
        return 0.0
    return float(np.mean(d * d * d) / m2**1.5)


def bowley_from_quartiles(q1: float, q2: float, q3: float) -> float:
    """Bowley's quantile skewness (Q3 + Q1 - 2 Q2) / (Q3 - Q1), in [-1, 1]; 0 when Q3 == Q1."""
    if any(math.isnan(q) for q in (q1, q2, q3)):
        return float("nan")
    spread = q3 - q1
    return 0.0 if spread <= 0 else float((q3 + q1 - 2.0 * q2) / spread)


def quantile_skewness(x: Any) -> float:
    """Bowley's quantile skewness of the non-missing values (linear-interpolated quartiles); NaN if none."""
    v = _valid(_floats(x))
    if v.size == 0:
        return float("nan")
    q1, q2, q3 = np.quantile(v, [0.25, 0.5, 0.75]).tolist()
    return bowley_from_quartiles(q1, q2, q3)


def skew_change(ref: Any, cur: Any) -> float:
    """Absolute change of quantile (Bowley) skewness from reference to current, in [0, 2]."""
    return abs(quantile_skewness(cur) - quantile_skewness(ref))
