"""Drift notebook views that work on every engine: drawn from aggregates, never a full collect.

A data set on the duckdb or spark engine is never loaded whole (`Project.dataset` is only the
engine's seeded sample), so the drift notebook draws those data sets from what the drift
checks already computed on the engine: the compared bins' shares (`details["shares"]` of a
PSI, Jensen-Shannon or chi-square result) and the quantile skewness of `check_skew`. Data sets
on the pandas engine keep the kernel densities split by target (`plot_densities`), which need
the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .monitoring_plots import CURRENT_COLOR, REFERENCE_COLOR, _short, figure
from .results import CheckResult


def frames(project: Any, reference: str, current: str) -> tuple[Any, Any]:
    """(reference, current) DataFrames when both data sets are on the pandas engine, else (None, None)."""
    if project.engine_name(reference) != "pandas" or project.engine_name(current) != "pandas":
        return None, None
    return project.dataset(reference), project.dataset(current)


def plot_bin_shares(result: CheckResult) -> Any:
    """Reference vs current share of rows in each compared bin of one drift result."""
    import numpy as np

    shares = (result.details or {}).get("shares")
    fig, axes = figure(1, height=3.2)
    ax = axes[0]
    if not shares:
        ax.text(0.5, 0.5, f"{result.subject}: no bins to draw ({result.message})", ha="center", wrap=True)
        ax.set_axis_off()
        return fig
    labels = shares["labels"]
    fig.set_figheight(max(3.2, 0.28 * len(labels) * 2 + 1.2))
    pos = np.arange(len(labels))
    for i, (side, color) in enumerate((("reference", REFERENCE_COLOR), ("current", CURRENT_COLOR))):
        ax.barh(pos + (i - 0.5) * 0.4, shares[side], height=0.4, label=side, color=color)
    ax.set_yticks(pos, [_short(label) for label in labels])
    ax.invert_yaxis()
    ax.set_xlabel("share of rows")
    more = f", {shares['shown']} of {shares['of']} bins" if shares["shown"] < shares["of"] else ""
    ax.set_title(_short(f"{result.subject}: reference vs current (bins{more})", 72), fontsize=10)
    ax.legend(fontsize=8)
    return fig


def plot_distribution(
    result: CheckResult, ref: Any, cur: Any, feature: str, target: str | None = None
) -> Any:
    """Densities from the rows (pandas engine), else the compared bins from the aggregates."""
    from .monitoring_plots import plot_densities

    if ref is not None and cur is not None:
        return plot_densities(ref, cur, feature, target=target)
    return plot_bin_shares(result)


def skew_table_for(
    project: Any, reference: str, current: str, features: Sequence[str], max_change: float | None
) -> Any:
    """Quantile (Bowley) skewness before and after per numeric feature, from the engine's
    quantiles (`check_skew` on the data sets' tables), with moment skewness beside it."""
    import pandas as pd

    from .drift import check_skew
    from .monitoring import highlight

    limit = math.inf if max_change is None else float(max_change)
    rows = []
    for r in check_skew(project.table(reference), project.table(current), features, limit):
        d = r.details or {}
        rows.append(
            {
                "status": "ok" if r.passed else "breach",
                "feature": r.subject,
                "reference": d.get("reference"),
                "current": d.get("current"),
                "change": r.value,
                "limit": max_change,
                "moment_reference": d.get("moment_reference"),
                "moment_current": d.get("moment_current"),
            }
        )
    columns = ["status", "feature", "reference", "current", "change", "limit"]
    return highlight(pd.DataFrame(rows, columns=[*columns, "moment_reference", "moment_current"]))
