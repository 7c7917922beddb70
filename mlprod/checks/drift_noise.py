"""How large a drift statistic gets with no drift at all, at the observed sample sizes.

Two samples of one population still differ: PSI's expectation under no drift grows like
(bins - 1) (1/n + 1/m). A bound below that noise fails healthy data by chance, so a check
compares its bound with the statistic's no-drift 95th percentile first and judges only when
the bound lies outside the noise.

Every statistic's no-drift percentile is modelled as `(coef * (1/n + 1/m)) ** power`:
- PSI: power 1, coef = the chi-square 95th percentile with k - 1 degrees of freedom (k bins
  with data), since PSI is the symmetric Kullback-Leibler divergence, which for two
  multinomial samples of one population is (1/n + 1/m) chi2_{k-1} to first order;
- Jensen-Shannon distance: power 1/2, coef = chi2_{k-1, 0.95} / (8 ln 2) (JS divergence in
  bits is a chi-square distance / (8 ln 2) to first order);
- chi-square effect w = sqrt(chi2 / m): power 1/2, coef = chi2_{k-1, 0.95};
- KS D: power 1/2, coef = c(0.05)^2 with c(0.05) = sqrt(-ln(0.025) / 2) = 1.358 (the
  asymptotic two-sample critical value; conservative for tied data).
These closed forms hold when every bin expects at least 5 rows on both sides. Otherwise
(rare categories, a bin only one side has) the percentile is estimated by seeded multinomial
resampling from the pooled bin shares: counts in, counts out, so an engine that only has
aggregates gets the same number. Estimates are cached per set of counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .drift_stats import STATISTICS

KS_C95 = math.sqrt(-math.log(0.025) / 2)  # 1.3581
DRAWS = 400
SEED = 15
MIN_EXPECTED = 5.0  # rows a bin must expect on each side for the closed form


@dataclass(frozen=True)
class Noise:
    """The no-drift 95th percentile of a statistic at sample sizes n (reference) and m (current)."""

    p95: float
    coef: float
    power: float
    n: int
    m: int
    how: str  # "closed form" | "resampling"

    def at(self, n: float, m: float) -> float:
        """The modelled percentile at other sample sizes."""
        return float((self.coef * (1.0 / n + 1.0 / m)) ** self.power)

    def rows_needed(self, limit: float) -> tuple[int, int | None]:
        """(rows on each side, current rows beside the observed reference) making `limit` judgeable.

        The second is None when no number of current rows is enough with this reference.
        """
        if limit <= 0 or self.coef <= 0:
            return (0, 0) if self.coef <= 0 else (10**12, None)
        budget = limit ** (1.0 / self.power) / self.coef  # allowed (1/n + 1/m)
        each = math.ceil(2.0 / budget)
        spare = budget - 1.0 / self.n
        return each, (math.ceil(1.0 / spare) if spare > 0 else None)


def _gammp(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x) (series, else a continued fraction)."""
    if x <= 0:
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = 0
        while abs(term) > abs(total) * 1e-15 and n < 10_000:
            n += 1
            term *= x / (a + n)
            total += term
        return min(1.0, total * math.exp(log_front))
    tiny = 1e-300
    b, c, d = x + 1 - a, 1.0 / tiny, 1.0 / (x + 1 - a)
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


@lru_cache(maxsize=256)
def _chi2_ppf(df: int, q: float = 0.95) -> float:
    """The chi-square quantile (as scipy.stats.chi2.ppf), by bisection on the CDF.

    Computed here because importing scipy.stats costs more CPU than a million-row drift check.
    """
    k = max(int(df), 1)
    lo, hi = 0.0, k + 20.0 * math.sqrt(2.0 * k) + 20.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if _gammp(k / 2.0, mid / 2.0) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2


def closed_form(method: str, k: int, n: int, m: int) -> Noise:
    """The closed-form no-drift 95th percentile of `method` over `k` bins with data."""
    if method == "ks":
        coef, power = KS_C95**2, 0.5
    elif method == "psi":
        coef, power = _chi2_ppf(k - 1), 1.0
    elif method == "jensenshannon":
        coef, power = _chi2_ppf(k - 1) / (8.0 * math.log(2.0)), 0.5
    elif method == "chi2":
        coef, power = _chi2_ppf(k - 1), 0.5
    else:
        raise ValueError(f"unknown drift method {method!r}")
    if k < 2 and method != "ks":
        coef = 0.0  # one bin: the statistic is 0 whatever the samples
    noise = Noise(0.0, coef, power, n, m, "closed form")
    return Noise(noise.at(n, m), coef, power, n, m, "closed form")


@lru_cache(maxsize=4096)
def _resampled(method: str, pooled: tuple[float, ...], n: int, m: int) -> float:
    shares = np.asarray(pooled) / sum(pooled)
    rng = np.random.default_rng(SEED)
    refs = rng.multinomial(n, shares, size=DRAWS).astype(float)
    curs = rng.multinomial(m, shares, size=DRAWS).astype(float)
    stat = STATISTICS[method]
    values = [stat(r, c) for r, c in zip(refs, curs, strict=True)]
    return float(np.quantile(values, 0.95))


def noise_from_counts(method: str, ref_counts: np.ndarray, cur_counts: np.ndarray) -> Noise:
    """The no-drift 95th percentile of a binned statistic (`psi`, `jensenshannon`, `chi2`).

    Closed form when every bin with data expects `MIN_EXPECTED` rows on both sides under the
    pooled shares; else seeded multinomial resampling from the pooled shares.
    """
    n, m = int(ref_counts.sum()), int(cur_counts.sum())
    pooled = ref_counts + cur_counts
    pooled = pooled[pooled > 0]
    k = int(pooled.size)
    if n == 0 or m == 0:
        return Noise(float("nan"), 0.0, 1.0, n, m, "closed form")
    if k < 2 or pooled.min() / pooled.sum() * min(n, m) >= MIN_EXPECTED:
        return closed_form(method, k, n, m)
    p95 = _resampled(method, tuple(pooled.tolist()), n, m)
    power = 1.0 if method == "psi" else 0.5
    coef = p95 ** (1.0 / power) / (1.0 / n + 1.0 / m)
    return Noise(p95, coef, power, n, m, "resampling")


def ks_noise(n: int, m: int) -> Noise:
    """The asymptotic no-drift 95th percentile of the two-sample KS D."""
    return closed_form("ks", 2, n, m)
