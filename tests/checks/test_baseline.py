"""Baseline: dummy strategies (scikit-learn), direction-aware lift, drop against the previous version."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import brier_score_loss, mean_squared_error, roc_auc_score

from mlprod.checks.baseline import check_beats_dummies, check_previous, dummy_scores
from mlprod.errors import UsageError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.7 * rng.normal(size=400) > 0.3).astype(int)
    return X[:250], y[:250], X[250:], y[250:]


def test_dummy_scores_match_sklearn(data):
    Xt, yt, Xe, _ = data
    prior = dummy_scores("prior", Xt, yt, Xe, seed=0)
    np.testing.assert_allclose(prior, np.full(len(Xe), yt.mean()))
    ref = DummyClassifier(strategy="stratified", random_state=3).fit(Xt, yt).predict_proba(Xe)[:, 1]
    np.testing.assert_array_equal(dummy_scores("stratified", Xt, yt, Xe, seed=3), ref)
    reg = dummy_scores("median", Xt, Xt[:, 2], Xe, seed=0)
    np.testing.assert_allclose(reg, DummyRegressor(strategy="median").fit(Xt, Xt[:, 2]).predict(Xe))
    with pytest.raises(UsageError, match="unknown dummy strategy"):
        dummy_scores("smart", Xt, yt, Xe, seed=0)


def test_model_beats_dummies(data):
    Xt, yt, Xe, ye = data
    scores = LogisticRegression().fit(Xt, yt).predict_proba(Xe)[:, 1]
    dummies = {s: dummy_scores(s, Xt, yt, Xe, seed=42) for s in ("prior", "stratified")}
    results = check_beats_dummies(scores, ye, dummies, "roc_auc", 0.10)
    assert [r.subject for r in results] == ["prior", "stratified"]
    assert all(r.passed and r.concern == "baseline" for r in results), [r.message for r in results]
    prior = results[0]
    expected = roc_auc_score(ye, scores) - roc_auc_score(ye, dummies["prior"])
    assert prior.value == pytest.approx(expected)
    assert prior.message.startswith(f"roc_auc {roc_auc_score(ye, scores):.3g} beats prior 0.5 by")


def test_dummy_level_model_fails(data):
    Xt, yt, Xe, ye = data
    dummies = {"prior": dummy_scores("prior", Xt, yt, Xe, seed=0)}
    weak = dummy_scores("stratified", Xt, yt, Xe, seed=1)  # a "model" no better than chance
    (res,) = check_beats_dummies(weak, ye, dummies, "roc_auc", 0.10)
    assert not res.passed and "does not beat prior" in res.message and res.value < 0.10


def test_error_metric_direction(data):
    Xt, yt, Xe, ye = data
    scores = LogisticRegression().fit(Xt, yt).predict_proba(Xe)[:, 1]
    dummies = {"prior": dummy_scores("prior", Xt, yt, Xe, seed=0)}
    (res,) = check_beats_dummies(scores, ye, dummies, "brier", 0.02)
    expected = brier_score_loss(ye, dummies["prior"]) - brier_score_loss(ye, scores)
    assert res.passed and res.value == pytest.approx(expected) and expected > 0
    assert "lower is better" in res.message
    (worse,) = check_beats_dummies(1 - scores, ye, dummies, "brier", 0.0)
    assert not worse.passed and worse.value < 0


def test_regression_metrics():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=200)
    pred = LinearRegression().fit(X[:150], y[:150]).predict(X[150:])
    dummies = {s: dummy_scores(s, X[:150], y[:150], X[150:], seed=0) for s in ("mean", "median")}
    results = check_beats_dummies(pred, y[150:], dummies, "rmse", 0.5)
    assert all(r.passed for r in results)
    rmse = lambda p: mean_squared_error(y[150:], p) ** 0.5  # noqa: E731
    assert results[0].value == pytest.approx(rmse(dummies["mean"]) - rmse(pred))


def test_nan_metric_fails(data):
    Xt, yt, Xe, _ = data
    one_class = np.ones(len(Xe), dtype=int)  # ROC AUC undefined
    dummies = {"prior": dummy_scores("prior", Xt, yt, Xe, seed=0)}
    (res,) = check_beats_dummies(np.linspace(0, 1, len(Xe)), one_class, dummies, "roc_auc", 0.1)
    assert not res.passed and "NaN" in res.message


def test_check_previous():
    assert check_previous(0.78, 0.79, 0.02, "roc_auc").passed
    bad = check_previous(0.70, 0.79, 0.02, "roc_auc", previous="version 0.9.0")
    assert not bad.passed and "version 0.9.0" in bad.message and bad.value == pytest.approx(0.09)
    assert check_previous(0.30, 0.35, 0.0, "log_loss").passed  # lower loss is no drop
    worse = check_previous(0.40, 0.35, 0.02, "log_loss")
    assert not worse.passed and worse.value == pytest.approx(0.05)
    assert not check_previous(float("nan"), 0.79, 0.02, "roc_auc").passed


def test_lift_interval_equals_a_paired_percentile_bootstrap_by_hand() -> None:
    from mlprod.checks.baseline import lift_interval

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    model = np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1)
    dummy = np.full(300, y.mean())
    draw = np.random.default_rng(0)
    lifts = []
    for _ in range(200):
        idx = draw.integers(0, 300, 300)
        if len(set(y[idx])) == 2:
            lifts.append(roc_auc_score(y[idx], model[idx]) - roc_auc_score(y[idx], dummy[idx]))
    lo, hi = lift_interval(model, dummy, y, "roc_auc")
    assert (lo, hi) == pytest.approx(tuple(np.percentile(lifts, [2.5, 97.5])), abs=1e-12)


def test_noise_does_not_beat_a_dummy_even_with_min_lift_zero() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 300)
    noise = rng.random(300)
    prior = np.full(300, y.mean())
    good = np.clip(0.4 * y + 0.6 * rng.random(300), 0, 1)
    (res,) = check_beats_dummies(noise, y, {"prior": prior}, "roc_auc", 0.0)
    assert not res.passed and "beyond chance" in res.message and res.details["lift_interval"][0] <= 0
    (ok,) = check_beats_dummies(good, y, {"prior": prior}, "roc_auc", 0.0)
    assert ok.passed and ok.details["lift_interval"][0] > 0
