"""Multiclass monitoring figures: their numbers equal scikit-learn's, and they draw."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, top_k_accuracy_score

from mlprod.checks import monitoring as mon
from mlprod.checks.metrics_multiclass import ClassProba
from mlprod.checks.monitoring_classes import (
    class_labels,
    confusion_counts,
    plot_confusion,
    plot_top_k,
    top_k_curve,
)

CLASSES = ["a", "b", "c", "d"]


@pytest.fixture
def scored() -> tuple[np.ndarray, ClassProba]:
    rng = np.random.default_rng(5)
    y = rng.choice(CLASSES, 300)
    raw = rng.random((300, 4)) + np.eye(4)[[CLASSES.index(v) for v in y]] * 0.6
    raw[:20] = 0.25  # rows of ties: ranked as scikit-learn ranks them
    return y, ClassProba(raw / raw.sum(axis=1, keepdims=True), CLASSES)


def test_top_k_curve_equals_sklearn(scored) -> None:
    y, proba = scored
    curve = top_k_curve(y, proba)
    want = [top_k_accuracy_score(y, np.asarray(proba), k=k, labels=CLASSES) for k in (1, 2, 3)]
    assert curve[:3] == pytest.approx(want, abs=1e-12)
    assert curve[3] == 1.0
    assert len(set(curve)) == 4  # increasing, so a constant curve would not pass


def test_confusion_counts_equal_sklearn(scored) -> None:
    y, proba = scored
    labels, counts = confusion_counts(y, proba)
    pred = np.array(CLASSES)[np.argmax(np.asarray(proba), axis=1)]
    assert labels == CLASSES == class_labels(proba)
    assert counts.tolist() == confusion_matrix(y, pred, labels=CLASSES).tolist()


def test_figures_draw(scored) -> None:
    y, proba = scored
    for fig in (plot_confusion(y, proba), plot_top_k(y, {"model": proba})):
        assert mon.png(fig).startswith(b"\x89PNG")
    fig = mon.plot_curves(y, {"model": proba}, task="multiclass_classification")
    assert fig.axes[0].get_title() == "Top-k accuracy curves"
