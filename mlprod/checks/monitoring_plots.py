"""Figures of the monitoring notebooks (see monitoring.py), drawn on `matplotlib.figure.Figure`.

No pyplot: no GUI backend and no global state, so a figure renders the same under any
kernel backend and in tests. Every figure is 800 px wide at the default DPI, with labelled
axes and a legend, readable in a notebook and at README size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .infrastructure import log_timestamps
from .plot_scales import higher_is_better, metric_axis, target_groups
from .results import CheckResult

REFERENCE_COLOR, CURRENT_COLOR = "#4c72b0", "#dd8452"
TARGET_COLORS = ("#55a868", "#c44e52", "#8172b2", "#937860", "#da8bc3")
BREACH_COLOR, OK_COLOR, NOT_JUDGED_COLOR = "#c44e52", "#4c72b0", "#b0b0b0"
WIDTH_IN, DPI = 8.0, 100  # 800 px wide


def status(result: CheckResult) -> str:
    """'breach', 'ok' or 'not judged'."""
    if not result.judged:
        return "not judged"
    return "ok" if result.passed else "breach"


def figure(ncols: int = 1, height: float = 3.2, width: float = WIDTH_IN) -> tuple[Any, list[Any]]:
    """A Figure of `ncols` side-by-side axes, 800 px wide at the default DPI."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def png(fig: Any, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def show(fig: Any) -> None:
    """Display a figure as a PNG (works under any matplotlib backend)."""
    from IPython.display import Image, display

    display(Image(data=png(fig), format="png"))


def save(fig: Any, path: str | Path) -> None:
    """Write a figure as PNG (used for the README images)."""
    Path(path).write_bytes(png(fig))


def _short(text: Any, n: int = 28) -> str:
    s = str(text)
    return s if len(s) <= n else s[: n - 1] + "…"


def _discrete(s: Any) -> bool:
    from .drift import is_numeric

    return not is_numeric(s) or s.nunique(dropna=True) <= 12


def _density(ax: Any, values: Any, grid: Any, **style: Any) -> None:
    import numpy as np
    from scipy.stats import gaussian_kde

    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size < 2 or np.ptp(v) == 0:
        if v.size:
            ax.axvline(float(v[0]), **style)
        return
    ax.plot(grid, gaussian_kde(v)(grid), **style)


def _shares(ax: Any, series: Sequence[tuple[str, Any, dict[str, Any]]], categories: list[Any]) -> None:
    """Horizontal bars: the share of rows in each category, one bar per series."""
    import numpy as np

    k = len(series)
    height = 0.8 / k
    pos = np.arange(len(categories))
    for i, (label, values, style) in enumerate(series):
        counts = values.value_counts(dropna=False)
        total = max(len(values), 1)
        shares = [counts.get(c, 0) / total for c in categories]
        ax.barh(pos + (i - (k - 1) / 2) * height, shares, height=height, label=label, **style)
    ax.set_yticks(pos, [_short(c) for c in categories])
    ax.invert_yaxis()
    ax.set_xlabel("share of rows")


def plot_densities(ref: Any, cur: Any, feature: str, target: str | None = None) -> Any:
    """Reference vs current distribution of one feature; with `target`, also split by the target
    (by class, or by quartile bins of the reference when the target is continuous).

    Continuous columns get kernel density estimates; categorical and low-cardinality columns
    get the share of rows per category.
    """
    import numpy as np
    import pandas as pd

    split = target is not None and target in ref.columns and target in cur.columns
    r, c = ref[feature], cur[feature]
    discrete = _discrete(r) or _discrete(c)
    categories: list[Any] = []
    if discrete:
        categories = list(
            dict.fromkeys([*pd.Series(r).value_counts().index, *pd.Series(c).value_counts().index])
        )
    height = max(3.2, 0.28 * len(categories) * (2 if split else 1) + 1.2) if discrete else 3.2
    fig, axes = figure(2 if split else 1, height=height)
    sides = (("reference", r, REFERENCE_COLOR, "--"), ("current", c, CURRENT_COLOR, "-"))
    if discrete:
        _shares(axes[0], [(name, s, {"color": col}) for name, s, col, _ in sides], categories)
    else:
        both = np.concatenate(
            [r.to_numpy(dtype=float, na_value=np.nan), c.to_numpy(dtype=float, na_value=np.nan)]
        )
        grid = np.linspace(np.nanmin(both), np.nanmax(both), 200)
        for name, s, col, _ in sides:
            _density(axes[0], s, grid, color=col, label=f"{name} (n={len(s)})")
        axes[0].set_xlabel(feature)
        axes[0].set_ylabel("density")
    axes[0].set_title(_short(f"{feature}: reference vs current", 56), fontsize=10)
    axes[0].legend(fontsize=8)
    if split:
        ax = axes[1]
        groups = target_groups(ref[target], cur[target])
        if discrete:
            series = []
            for i, (label, in_ref, in_cur) in enumerate(groups):
                color = TARGET_COLORS[i % len(TARGET_COLORS)]
                series.append((f"reference, {target}{label}", r[in_ref], {"color": color, "alpha": 0.45}))
                series.append((f"current, {target}{label}", c[in_cur], {"color": color}))
            _shares(ax, series, categories)
        else:
            for i, (label, in_ref, in_cur) in enumerate(groups):
                color = TARGET_COLORS[i % len(TARGET_COLORS)]
                for name, s, mask, ls in (("reference", r, in_ref, "--"), ("current", c, in_cur, "-")):
                    _density(ax, s[mask], grid, color=color, linestyle=ls, label=f"{name}, {target}{label}")
            ax.set_xlabel(feature)
            ax.set_ylabel("density")
        binned = groups and groups[0][0].startswith(" in ")
        split_by = f"{target} quartiles (reference)" if binned else target
        ax.set_title(_short(f"{feature}, split by {split_by}", 56), fontsize=10)
        ax.legend(fontsize=8)
    for ax in axes:
        if not discrete:  # tiny densities: a 1e-4 offset label above the axis, the title moved up
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
            ax.set_title(ax.get_title(), fontsize=10, pad=14)
    return fig


def _status_colors(results: Sequence[CheckResult]) -> list[str]:
    return [{"breach": BREACH_COLOR, "ok": OK_COLOR}.get(status(r), NOT_JUDGED_COLOR) for r in results]


def _over_colors(results: Sequence[CheckResult]) -> list[str]:
    """Red when the value is over its limit, judged or not (budgets)."""
    return [
        BREACH_COLOR if r.value is not None and r.limit is not None and r.value > r.limit else OK_COLOR
        for r in results
    ]


def plot_drift_statistics(results: Sequence[CheckResult]) -> Any:
    """One bar per drift result (the statistic), its limit as a tick; breaches in red."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    results = [r for r in results if r.check in ("feature_drift", "target_drift")]
    fig, (ax,) = figure(height=max(2.5, 0.3 * len(results) + 1.4))
    pos = np.arange(len(results))
    values = [0.0 if r.value is None else r.value for r in results]
    ax.barh(pos, values, color=_status_colors(results))
    limits = [r.limit if r.limit is not None else np.nan for r in results]
    ax.scatter(limits, pos, marker="|", s=250, color="black", zorder=3)
    names = [("target " if r.check == "target_drift" else "") + str(r.subject or r.check) for r in results]
    ax.set_yticks(pos, [_short(n, 40) for n in names])
    ax.invert_yaxis()
    ax.set_xlim(0, max([*values, *[x for x in limits if not math.isnan(x)], 0.01]) * 1.1)
    methods = ", ".join(sorted({str(r.details.get("method", "")) for r in results}))
    ax.set_xlabel(f"drift statistic ({methods})")
    ax.set_title("Drift per feature, reference -> current", fontsize=10)
    handles = [
        Patch(color=OK_COLOR, label="within limit"),
        Patch(color=BREACH_COLOR, label="breach"),
        Line2D([], [], color="black", marker="|", linestyle="none", markersize=12, label="limit"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8)
    return fig


def plot_skewness(table: Any) -> Any:
    """Quantile (Bowley) skewness before and after per numeric feature, from `monitoring.skew_table`."""
    import numpy as np

    df = table.data if hasattr(table, "data") else table
    fig, (ax,) = figure(height=max(2.5, 0.45 * len(df) + 1.0))
    pos = np.arange(len(df))
    ax.barh(pos - 0.2, df["reference"], height=0.4, color=REFERENCE_COLOR, label="reference")
    ax.barh(pos + 0.2, df["current"], height=0.4, color=CURRENT_COLOR, label="current")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(pos, [_short(f, 40) for f in df["feature"]])
    ax.invert_yaxis()
    ax.set_xlabel("quantile (Bowley) skewness, in [-1, 1]")
    ax.legend(fontsize=8)
    ax.set_title("Skewness before (reference) and after (current)", fontsize=10)
    return fig


def plot_cohort_metrics(
    report: Mapping[str, Any],
    metrics: Sequence[str],
    *,
    max_gap: Mapping[str, float] | None = None,
    minimum: Mapping[str, float] | None = None,
    parity: float | None = None,
    selection: bool = True,
    sizes: bool = True,
    ncols: int = 3,
) -> Any:
    """Per-group bars of each metric, the selection rate and the group sizes for one cohort.

    The allowed gap is a green band below the best judged group: a judged bar under it
    breaches `max_gap`. A minimum is a dashed line. Groups too small to judge are hatched grey.
    """
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    groups = report["groups"]
    labels = list(groups)
    panels = [*metrics] + (["selection_rate"] if selection else []) + (["rows"] if sizes else [])
    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(WIDTH_IN, 2.7 * nrows + 0.8), dpi=DPI, layout="constrained")
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    pos = np.arange(len(labels))
    judged = [groups[g]["judged"] for g in labels]
    seen: set[str] = set()
    for ax, panel in zip(axes, panels, strict=False):
        if panel == "rows":
            vals = [groups[g]["n"] for g in labels]
            limit, gap, title = float(report["min_rows"]), None, f"rows (judged from {report['min_rows']})"
        elif panel == "selection_rate":
            vals = [groups[g]["selection_rate"] for g in labels]
            limit, gap = None, parity
            title = "selection rate" + (f" (gap <= {parity:g})" if parity is not None else "")
        else:
            vals = [groups[g]["metrics"].get(panel, math.nan) for g in labels]
            limit, gap = (minimum or {}).get(panel), (max_gap or {}).get(panel)
            parts = [
                f"gap <= {gap:g}" if gap is not None else "",
                f"min {limit:g}" if limit is not None else "",
            ]
            title = panel.replace("_", " ") + (f" ({', '.join(p for p in parts if p)})" if any(parts) else "")
        vals = [math.nan if v is None else float(v) for v in vals]
        judged_vals = [v for v, j in zip(vals, judged, strict=True) if j and not math.isnan(v)]
        lower = panel not in ("rows", "selection_rate") and not higher_is_better(panel)
        top = (min if lower else max)(judged_vals) if judged_vals else None  # the best judged group
        colors = []
        for v, j in zip(vals, judged, strict=True):
            low_gap = gap is not None and top is not None and (v > top + gap if lower else v < top - gap)
            low_min = panel != "rows" and limit is not None and (v > limit if lower else v < limit)
            colors.append(NOT_JUDGED_COLOR if not j else BREACH_COLOR if (low_gap or low_min) else OK_COLOR)
        bars = ax.bar(pos, np.nan_to_num(vals), color=colors, zorder=2)
        for bar, j in zip(bars, judged, strict=True):
            if not j:
                bar.set_hatch("//")
        if gap is not None and top is not None and len(judged_vals) >= 2:
            lo, hi = (top, top + gap) if lower else (max(top - gap, 0.0), top)
            ax.axhspan(lo, hi, color="#55a868", alpha=0.25, zorder=0, linewidth=0)
            seen.add("gap")
        if limit is not None:
            ax.axhline(limit, color="black", linestyle="--", linewidth=1, zorder=3)
            seen.add("min")
        seen.update({OK_COLOR: "ok", BREACH_COLOR: "breach", NOT_JUDGED_COLOR: "small"}[c] for c in colors)
        rotate = len(labels) > 2 or max(len(str(g)) for g in labels) > 10
        ax.set_xticks(
            pos,
            [_short(g, 14) for g in labels],
            rotation=30 if rotate else 0,
            ha="right" if rotate else "center",
            fontsize=8,
        )
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(f"{_short(report['cohort'], 30)} group", fontsize=9)
        ax.set_ylabel("rows" if panel == "rows" else panel.replace("_", " "), fontsize=9)
        if panel != "rows":
            ax.set_ylim(
                *metric_axis(panel, [*vals, limit, None if gap is None or top is None else top + gap])
            )
    legend = {
        "ok": Patch(color=OK_COLOR, label="judged group"),
        "breach": Patch(color=BREACH_COLOR, label="breach"),
        "small": Patch(facecolor=NOT_JUDGED_COLOR, hatch="//", label="not judged (too few rows)"),
        "gap": Patch(color="#55a868", alpha=0.25, label="allowed gap from the best group"),
        "min": Line2D([], [], color="black", linestyle="--", label="bound (metric, or rows to be judged)"),
    }
    fig.legend(
        handles=[h for k, h in legend.items() if k in seen], loc="outside lower center", ncol=3, fontsize=8
    )
    fig.suptitle(f"Cohort {report['cohort']}", fontsize=11)
    return fig


def plot_latency(
    log_df: Any,
    timestamp: str = "ts",
    latency_ms: str = "latency_ms",
    *,
    p50_ms: float | None = None,
    p95_ms: float | None = None,
    freq: str = "D",
) -> Any:
    """Latency percentiles per period from the prediction log, a linear trend of the median, the budget."""
    import numpy as np
    import pandas as pd

    ts = log_timestamps(log_df[timestamp])  # days on the wall clock of the logged rows
    lat = pd.to_numeric(log_df[latency_ms], errors="coerce")
    frame = pd.DataFrame({"ts": ts, "lat": lat}).dropna()
    per = frame.groupby(frame["ts"].dt.floor(freq))["lat"]
    stats = pd.DataFrame({"p50": per.quantile(0.5), "p95": per.quantile(0.95), "p99": per.quantile(0.99)})
    fig, (ax,) = figure(height=3.4)
    for col, style in (("p50", "-o"), ("p95", "-s"), ("p99", ":^")):
        ax.plot(stats.index, stats[col], style, markersize=3, label=col)
    if len(stats) >= 2:
        x = (stats.index - stats.index[0]).total_seconds().to_numpy() / 86400.0
        slope, intercept = np.polyfit(x, stats["p50"].to_numpy(), 1)
        ax.plot(
            stats.index,
            intercept + slope * x,
            color="black",
            linewidth=1,
            label=f"p50 trend ({slope:+.3g} ms/day)",
        )
    for name, budget, color in (("p50", p50_ms, "#55a868"), ("p95", p95_ms, BREACH_COLOR)):
        if budget is not None:
            ax.axhline(budget, color=color, linestyle="--", linewidth=1, label=f"{name} budget {budget:g} ms")
    top = max([x for x in (p50_ms, p95_ms) if x is not None], default=0.0)
    if len(stats) and top > 10 * float(stats["p99"].max()):  # budgets far above: keep the data readable
        ax.set_yscale("log")
    ax.set_xlabel("time")
    ax.set_ylabel("latency per row (ms)")
    ax.set_title("Latency from the prediction log", fontsize=10)
    fig.legend(loc="outside lower center", fontsize=7, ncol=3)
    fig.autofmt_xdate()
    return fig


def plot_throughput(log_df: Any, timestamp: str = "ts", freq: str = "D") -> Any:
    """Predicted rows per period from the prediction log."""
    ts = log_timestamps(log_df[timestamp])  # days on the wall clock of the logged rows
    counts = ts.dropna().dt.floor(freq).value_counts().sort_index()
    fig, (ax,) = figure(height=3.0)
    ax.bar(counts.index, counts.to_numpy(), width=0.8 if freq == "D" else 0.03, color=OK_COLOR, label="rows")
    ax.set_xlabel("time")
    ax.set_ylabel(f"rows predicted per {'day' if freq == 'D' else freq}")
    ax.set_title("Throughput from the prediction log", fontsize=10)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return fig


def plot_budgets(results: Sequence[CheckResult]) -> Any:
    """Each measured resource as a share of its budget (latency, batch time, memory)."""
    import numpy as np

    results = [r for r in results if r.limit]
    fig, (ax,) = figure(height=max(2.4, 0.45 * len(results) + 1.0))
    pos = np.arange(len(results))
    shares = [100.0 * (r.value or 0.0) / float(r.limit or 1.0) for r in results]
    ax.barh(pos, shares, color=_over_colors(results))
    ax.axvline(100, color="black", linestyle="--", linewidth=1, label="budget")
    for p, r, s in zip(pos, results, shares, strict=True):
        ax.text(
            s, p, f" {r.value:.3g} / {r.limit:g}" if r.value is not None else " n/a", va="center", fontsize=8
        )
    ax.set_yticks(pos, [r.check.replace("_", " ") for r in results])
    ax.invert_yaxis()
    ax.set_xlabel("% of budget used")
    ax.set_xlim(0, max([110.0, *[s * 1.25 for s in shares]]))
    ax.set_title("Resources measured now, against the budget", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_baseline(results: Sequence[CheckResult], metric: str) -> Any:
    """The model's metric against each dummy strategy and the previous version, with each bar's limit."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .baseline import higher_is_better

    sign = 1.0 if higher_is_better(metric) else -1.0
    names, values, limits, colors = [], [], [], []
    model_value = None
    for r in results:
        d = r.details
        model_value = d.get("model", model_value)
        dummy = r.check == "beats_dummy"
        other = d.get("dummy") if dummy else d.get("previous")
        names.append(f"dummy: {r.subject}" if dummy else "previous version")
        values.append(math.nan if other is None else float(other))
        model = math.nan if d.get("model") is None else float(d["model"])
        # a dummy must stay `min_lift` below the model; the previous version at most `max_drop` above it
        limits.append(model - sign * float(r.limit or 0.0) if dummy else model + sign * float(r.limit or 0.0))
        colors.append(BREACH_COLOR if status(r) == "breach" else REFERENCE_COLOR)
    names.insert(0, "model")
    values.insert(0, math.nan if model_value is None else float(model_value))
    limits.insert(0, math.nan)
    colors.insert(0, CURRENT_COLOR)
    fig, (ax,) = figure(height=3.4)
    pos = np.arange(len(names))
    ax.bar(pos, np.nan_to_num(values), color=colors)
    ax.hlines(limits, pos - 0.4, pos + 0.4, colors="black", linestyles="--", linewidth=1.2)
    for p, v in zip(pos, values, strict=True):
        ax.text(p, 0 if math.isnan(v) else v, f"{v:.3f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(pos, names)
    ax.set_ylabel(metric)
    top = max([v for v in [*values, *limits] if not math.isnan(v)], default=1.0)
    ax.set_ylim(0, top * 1.12)
    ax.set_title(f"{metric}: the model against its baselines", fontsize=10)
    handles = [
        Patch(color=CURRENT_COLOR, label="model"),
        Patch(color=REFERENCE_COLOR, label="baseline (model beats it)"),
        Patch(color=BREACH_COLOR, label="breach"),
        Line2D([], [], color="black", linestyle="--", label="limit for this bar"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8)
    return fig


def plot_curves(y_true: Any, scores: Mapping[str, Any], task: str = "binary_classification") -> Any:
    """ROC curves (binary classification), top-k accuracy curves (multiclass) or
    absolute-error curves (regression), one per model."""
    import numpy as np

    if task == "multiclass_classification":
        from .monitoring_classes import plot_top_k

        return plot_top_k(y_true, scores)
    fig, (ax,) = figure(height=3.6, width=6.0)
    y = np.asarray(y_true)
    if task == "binary_classification":
        from sklearn.metrics import roc_auc_score, roc_curve

        for name, s in scores.items():
            s = np.asarray(s, dtype=float)
            fpr, tpr, _ = roc_curve(y, s)
            auc = roc_auc_score(y, s) if len(set(y.tolist())) == 2 else math.nan
            ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title("ROC curves", fontsize=10)
    else:
        for name, s in scores.items():
            err = np.sort(np.abs(np.asarray(s, dtype=float).ravel() - y.astype(float)))
            ax.plot(err, np.arange(1, err.size + 1) / max(err.size, 1), label=name)
        ax.set_xlabel("absolute error")
        ax.set_ylabel("share of rows with error <= x")
        ax.set_title("Error curves", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return fig
