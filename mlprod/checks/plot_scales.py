"""Scales of the monitoring plots that depend on the task: a metric's axis, a target's groups."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def _discrete(s: Any) -> bool:
    from .drift import is_numeric

    return not is_numeric(s) or s.nunique(dropna=True) <= 12


#: Metrics not confined to [0, 1]: their axis follows the values (an error in the target's units).
_OPEN_SCALE = frozenset({"rmse", "mae", "r2", "log_loss"})


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` is better (RMSE, MAE, log loss, error rates: no)."""
    from .metrics import HIGHER_IS_BETTER

    return bool(HIGHER_IS_BETTER.get(metric, True))


def metric_axis(metric: str, values: Sequence[float | None]) -> tuple[float, float]:
    """The value axis of one metric panel: 0 to 1.05 for rates and scores in [0, 1], else the
    metric's real scale (RMSE and MAE in the target's units, R² possibly negative)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if metric not in _OPEN_SCALE and all(0.0 <= v <= 1.0 for v in finite):
        return 0.0, 1.05
    lo, hi = min([0.0, *finite]), max([0.0, *finite])
    pad = (hi - lo) * 0.08 or 1.0
    return (lo - pad if lo < 0 else 0.0), hi + pad


#: A continuous target is split into this many quantile bins of the reference (one density each).
TARGET_BINS = 4


def target_groups(ref: Any, cur: Any) -> list[tuple[str, Any, Any]]:
    """`(label, reference mask, current mask)` per target group: one per class of a discrete
    target (`=v`), else one per quantile bin of the reference target (` in [a, b)`), so a continuous
    target draws four densities, not one per distinct value."""
    import numpy as np
    import pandas as pd

    if _discrete(ref) and _discrete(cur):
        values = sorted(set(ref.dropna()) | set(cur.dropna()), key=str)
        return [(f"={v}", (ref == v).to_numpy(), (cur == v).to_numpy()) for v in values]
    qs = np.nanquantile(ref.to_numpy(dtype=float, na_value=np.nan), np.linspace(0, 1, TARGET_BINS + 1))
    inner = sorted(set(qs[1:-1].tolist()))
    edges = [-np.inf, *inner, np.inf]
    shown = [f"{qs[0]:.4g}", *[f"{e:.4g}" for e in inner], f"{qs[-1]:.4g}"]
    out = []
    for k in range(len(edges) - 1):
        label = f" in [{shown[k]}, {shown[k + 1]}" + ("]" if k == len(edges) - 2 else ")")

        def mask(s: Any, k: int = k) -> Any:
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            return (v >= edges[k]) & (v < edges[k + 1])

        out.append((label, mask(ref), mask(cur)))
    return out
