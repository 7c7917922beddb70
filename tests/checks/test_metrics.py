"""Metrics overall and per group equal scikit-learn and fairlearn's MetricFrame on small random data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate
from sklearn import metrics as skm

from mlprod.checks.metrics import (
    METRICS,
    UnknownMetricError,
    compute_metric,
    group_metrics,
    score_order,
    to_binary,
)
from mlprod.errors import UsageError

TOL = 1e-9


def _sk(name: str, y, s, t=0.5):
    """The scikit-learn / fairlearn definition of each metric, with NaN for zero division."""
    p = (s >= t).astype(int)
    nan = {"zero_division": np.nan}
    return {
        "roc_auc": lambda: skm.roc_auc_score(y, s),
        "accuracy": lambda: skm.accuracy_score(y, p),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, p),
        "precision": lambda: skm.precision_score(y, p, **nan),
        "recall": lambda: skm.recall_score(y, p, **nan),
        "f1": lambda: skm.f1_score(y, p, **nan),
        "log_loss": lambda: skm.log_loss(y, s, labels=[0, 1]),
        "brier": lambda: skm.brier_score_loss(y, s),
        "selection_rate": lambda: selection_rate(y, p),
        "false_positive_rate": lambda: false_positive_rate(y, p),
        "false_negative_rate": lambda: false_negative_rate(y, p),
        "rmse": lambda: skm.root_mean_squared_error(y, s),
        "mae": lambda: skm.mean_absolute_error(y, s),
        "r2": lambda: skm.r2_score(y, s),
    }[name]()


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 400)
    # rounded scores create ties, which the rank-based ROC AUC must average like scikit-learn
    s = np.clip(np.round(0.3 * y + 0.7 * rng.random(400), 2), 0.01, 0.99)
    return y, s


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_compute_metric_equals_sklearn(data, name, threshold):
    y, s = data
    assert compute_metric(name, y, s, threshold=threshold) == pytest.approx(
        _sk(name, y, s, threshold), abs=TOL
    )


def test_regression_metrics_equal_sklearn():
    rng = np.random.default_rng(3)
    y = rng.normal(size=200)
    pred = y + rng.normal(0, 0.5, 200)
    for name in ("rmse", "mae", "r2"):
        assert compute_metric(name, y, pred) == pytest.approx(_sk(name, y, pred), abs=TOL)


def test_group_metrics_equal_fairlearn_metricframe(data):
    y, s = data
    rng = np.random.default_rng(11)
    sensitive = rng.choice(["a", "b", "c", "d"], len(y), p=[0.4, 0.3, 0.2, 0.1])
    labels, codes = np.unique(sensitive, return_inverse=True)
    names = [
        "roc_auc",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "selection_rate",
        "false_positive_rate",
        "brier",
    ]
    ours = group_metrics(y, s, codes, len(labels), names, threshold=0.5)

    def thresholded(fn):
        return lambda yt, ys: fn(yt, (ys >= 0.5).astype(int))

    mf = MetricFrame(
        metrics={
            "roc_auc": skm.roc_auc_score,
            "accuracy": thresholded(skm.accuracy_score),
            "precision": thresholded(skm.precision_score),
            "recall": thresholded(skm.recall_score),
            "f1": thresholded(skm.f1_score),
            "selection_rate": thresholded(selection_rate),
            "false_positive_rate": thresholded(false_positive_rate),
            "brier": skm.brier_score_loss,
        },
        y_true=y,
        y_pred=s,
        sensitive_features=sensitive,
    )
    for i, label in enumerate(labels):
        for name in names:
            assert ours[i][name] == pytest.approx(mf.by_group.loc[label, name], abs=TOL), (label, name)


def test_group_codes_minus_one_are_ignored_and_empty_groups_are_nan(data):
    y, s = data
    codes = np.where(np.arange(len(y)) % 2 == 0, 0, -1)
    out = group_metrics(y, s, codes, 2, ["recall", "roc_auc"])
    even = slice(0, None, 2)
    assert out[0]["recall"] == pytest.approx(_sk("recall", y[even], s[even]), abs=TOL)
    assert out[0]["roc_auc"] == pytest.approx(_sk("roc_auc", y[even], s[even]), abs=TOL)
    assert math.isnan(out[1]["recall"]) and math.isnan(out[1]["roc_auc"])


def test_single_class_gives_nan_where_undefined():
    y = np.ones(20, dtype=int)
    s = np.linspace(0.05, 0.95, 20)
    assert math.isnan(compute_metric("roc_auc", y, s))
    assert math.isnan(compute_metric("false_positive_rate", y, s))
    assert compute_metric("recall", y, s) == pytest.approx(skm.recall_score(y, s >= 0.5), abs=TOL)
    # scikit-learn averages recall over the classes present in y_true only
    with pytest.warns(UserWarning):
        expected = skm.balanced_accuracy_score(y, (s >= 0.5).astype(int))
    assert compute_metric("balanced_accuracy", y, s) == pytest.approx(expected, abs=TOL)


def test_precision_without_predicted_positive_is_nan_not_zero():
    y = np.array([0, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.3, 0.4])
    assert math.isnan(compute_metric("precision", y, s))
    assert math.isnan(skm.precision_score(y, s >= 0.5, zero_division=np.nan))


def test_nan_scores_make_the_metric_nan():
    y = np.array([0, 1, 0, 1])
    s = np.array([0.1, np.nan, 0.8, 0.9])
    assert math.isnan(compute_metric("accuracy", y, s))
    assert math.isnan(compute_metric("roc_auc", y, s))


def test_constant_truth_r2_is_nan():
    # scikit-learn returns 0.0 (force_finite) or -inf here; R² is undefined without variance
    assert math.isnan(compute_metric("r2", np.ones(5), np.arange(5.0)))
    assert compute_metric("r2", np.arange(5.0), np.arange(5.0)) == pytest.approx(1.0)


def test_unknown_metric_is_a_usage_error():
    with pytest.raises(UnknownMetricError, match=r"unknown metric.*auc"):
        compute_metric("auc", [0, 1], [0.1, 0.9])


def test_to_binary():
    assert to_binary(["good", "bad", "bad"], "bad").tolist() == [0, 1, 1]
    assert to_binary([1, 2, 2], 2).tolist() == [0, 1, 1]
    assert to_binary(np.array(["1", "2"]), 1).tolist() == [1, 0]
    assert to_binary([True, False]).tolist() == [1, 0]
    with pytest.raises(UsageError, match="not 0/1"):
        to_binary([1, 2])
    with pytest.raises(UsageError, match="missing"):
        to_binary([1.0, np.nan], 1)


def test_shared_score_order_gives_the_same_numbers(data):
    y, s = data
    codes = np.random.default_rng(4).integers(-1, 3, len(y))  # -1 rows are dropped before ranking
    names = ["roc_auc", "recall"]
    plain = group_metrics(y, s, codes, 3, names)
    shared = group_metrics(y, s, codes, 3, names, order=score_order(s))
    assert shared == plain


def test_to_binary_refuses_a_positive_label_the_target_does_not_have():
    with pytest.raises(UsageError, match="positive_label 'bad' is not a value of the target"):
        to_binary(np.array([1, 2, 2, 1]), "bad")
    with pytest.raises(UsageError, match="'Good', 'Bad'"):
        to_binary(np.array(["Good", "Bad"]), "bad")
    # a quoted label against a numeric column, and a data set without any positive row
    assert to_binary(np.array([0.0, 1.0, 1.0]), "1").tolist() == [0, 1, 1]
    assert to_binary(np.array(["good", "good"]), "bad").tolist() == [0, 0]
