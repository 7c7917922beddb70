"""Monitoring figures of a multiclass model: confusion matrix, top-k curves, per-class recall.

Scores are the checks' `ClassProba` matrices (rows x classes, with their `classes`); the
predicted class is the most probable one. Every figure is a matplotlib `Figure` that the
notebooks show with `monitoring.show`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .monitoring_plots import figure


def class_labels(scores: Any) -> list[str]:
    """The class labels of a probability matrix, as the per-class metric names write them."""
    from .metrics_multiclass import label_text

    return [label_text(c) for c in getattr(scores, "classes", ())]


def confusion_counts(y_true: Any, scores: Any) -> tuple[list[str], Any]:
    """(labels, counts) of the confusion matrix: true class in rows, predicted in columns."""
    import numpy as np

    from .metrics_multiclass import confusion

    cm = confusion(y_true, scores)
    return cm["classes"], np.asarray(cm["counts"], dtype=float)


def plot_confusion(y_true: Any, scores: Any) -> Any:
    """The confusion matrix as counts and as shares of each true class (rows sum to 1)."""
    import numpy as np

    labels, counts = confusion_counts(y_true, scores)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    n = len(labels)
    fig, axes = figure(2, height=2.4 + 0.45 * n)
    for ax, grid, title, fmt in zip(
        axes, (counts, shares), ("counts", "share of each true class"), ("{:.0f}", "{:.2f}"), strict=True
    ):
        top = float(grid.max()) or 1.0
        ax.imshow(grid, cmap="Blues", vmin=0.0, vmax=top)
        for i in range(n):
            for j in range(n):
                dark = grid[i, j] > 0.6 * top
                color = "white" if dark else "black"
                ax.text(j, i, fmt.format(grid[i, j]), ha="center", va="center", fontsize=8, color=color)
        short = [str(x)[:14] for x in labels]
        ax.set_xticks(range(n), short, rotation=30 if n > 3 else 0, ha="right" if n > 3 else "center")
        ax.set_yticks(range(n), short)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(f"Confusion matrix: {title}", fontsize=10)
    return fig


def top_k_curve(y_true: Any, scores: Any) -> list[float]:
    """Top-k accuracy for k = 1 .. number of classes: the share of rows whose true class is
    among the k most probable (ties ranked as the checks' `top_k_accuracy`, the later column first)."""
    import numpy as np

    from .metrics_multiclass import _top_k_hits, class_codes

    P = np.asarray(scores, dtype=float)
    y = class_codes(y_true, getattr(scores, "classes", ()))
    if not len(y):
        return [float("nan")] * P.shape[1]
    return [float(_top_k_hits(P, y, k).mean()) for k in range(1, P.shape[1] + 1)]


def plot_top_k(y_true: Any, scores: Mapping[str, Any]) -> Any:
    """One top-k accuracy curve per model (the deployed one, dummies, the previous version)."""
    fig, (ax,) = figure(height=3.6, width=6.0)
    ks = 1
    for name, s in scores.items():
        curve = top_k_curve(y_true, s)
        ks = max(ks, len(curve))
        ax.plot(range(1, len(curve) + 1), curve, marker="o", label=f"{name} (accuracy {curve[0]:.3f})")
    ax.set_xticks(range(1, ks + 1))
    ax.set_xlabel("k (the true class among the k most probable)")
    ax.set_ylabel("top-k accuracy")
    ax.set_ylim(0, 1.05)
    ax.set_title("Top-k accuracy curves", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return fig
