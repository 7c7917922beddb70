"""The multiclass paths of the checks: each agrees with an independent computation on healthy
data and fails on an obviously broken input (a class never predicted, swapped labels, a dummy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from mlprod.checks.baseline import check_beats_dummies, check_previous, dummy_scores
from mlprod.checks.cohorts import cohort_groups
from mlprod.checks.determinism import check_golden, read_golden
from mlprod.checks.drift import check_prediction_drift, check_target_drift
from mlprod.checks.explain_quality import check_importances_informative, permutation_stats
from mlprod.checks.explainability import (
    check_reason_codes,
    class_score_fn,
    global_importance,
    reason_codes,
    reference_values,
    score_change_scorer,
)
from mlprod.checks.fairness import (
    check_demographic_parity,
    check_equalized_odds,
    check_max_gap,
    check_min,
    cohort_report,
)
from mlprod.checks.formats import golden_text
from mlprod.checks.loading import predict_scores
from mlprod.checks.metrics import compute_metric
from mlprod.checks.metrics_multiclass import ClassProba, trivial_reason
from mlprod.checks.regression import check_flip_rate
from mlprod.errors import UsageError

CLASSES = ["high", "low", "mid"]  # sorted, as a scikit-learn model's classes_


def _frame(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    noise = rng.normal(size=n)  # a feature the target does not depend on
    logits = np.column_stack([1.5 * x1, np.zeros(n), -1.5 * x1 + 1.2 * x2])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array(CLASSES)[(rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)]
    g = rng.choice(["a", "b"], n)
    return pd.DataFrame({"x1": x1, "x2": x2, "noise": noise, "g": g, "y": y})


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, LogisticRegression, ClassProba]:
    df = _frame()
    model = LogisticRegression(max_iter=500).fit(df[["x1", "x2", "noise"]], df["y"])
    proba = predict_scores(model, df[["x1", "x2", "noise"]], "predict_proba", multiclass=True)
    return df, model, proba


def _never_predicts(proba: ClassProba, label: str, rows: np.ndarray | None = None) -> ClassProba:
    """The same scores, except that `label` is never predicted (on `rows`, else everywhere)."""
    P = np.asarray(proba).copy()
    j = list(proba.classes).index(label)
    mask = np.ones(len(P), bool) if rows is None else rows
    P[mask, j] = 0.0
    P[mask] = P[mask] / P[mask].sum(axis=1, keepdims=True)
    return ClassProba(P, proba.classes, k=proba.k)


def test_predict_scores_gives_the_model_classes(fitted):
    df, model, proba = fitted
    assert isinstance(proba, ClassProba) and list(proba.classes) == list(model.classes_)
    np.testing.assert_array_equal(proba.predicted(), model.predict(df[["x1", "x2", "noise"]]))

    class NoClasses:
        def predict_proba(self, X):
            return np.full((len(X), 3), 1 / 3)

    with pytest.raises(UsageError, match="classes_"):
        predict_scores(NoClasses(), df, "predict_proba", multiclass=True)


# --- fairness ---------------------------------------------------------------------------------


def _one_vs_rest(fn, y, proba, g):
    pred = proba.predicted()
    return max(fn(y == c, pred == c, sensitive_features=g) for c in proba.classes)


@pytest.mark.parametrize(
    ("check", "fairlearn_fn"),
    [
        (check_demographic_parity, demographic_parity_difference),
        (check_equalized_odds, equalized_odds_difference),
    ],
)
def test_parity_and_odds_per_class_equal_fairlearn_one_vs_rest(fitted, check, fairlearn_fn):
    df, _, proba = fitted
    groups = cohort_groups(df, {"name": "g", "by": "g"})
    res = check(df["y"].to_numpy(), proba, groups, 0.9, min_rows=30)
    want = _one_vs_rest(fairlearn_fn, df["y"].to_numpy(), proba, df["g"].to_numpy())
    assert res.judged and res.passed
    assert res.value == pytest.approx(want, abs=1e-12)
    assert set(res.details["per_class"]) == set(CLASSES)
    # a model that never predicts "high" for group b: both differences blow up, and the class is named
    broken = _never_predicts(proba, "high", df["g"].to_numpy() == "b")
    bad = check(df["y"].to_numpy(), broken, groups, 0.2, min_rows=30)
    assert not bad.passed and "class high" in bad.message
    assert bad.value == pytest.approx(
        _one_vs_rest(fairlearn_fn, df["y"].to_numpy(), broken, df["g"]), abs=1e-12
    )


def test_per_class_and_macro_gaps_and_minimums(fitted):
    df, _, proba = fitted
    groups = cohort_groups(df, {"name": "g", "by": "g"})
    y = df["y"].to_numpy()
    metrics = ["recall[high]", "recall_macro", "f1_macro"]
    report = cohort_report(y, proba, groups, metrics, min_rows=30)
    for m in metrics:
        res = check_max_gap(report, m, 0.1, cohort="g")
        values = [compute_metric(m, y[df["g"] == k], proba[(df["g"] == k).to_numpy()]) for k in ("a", "b")]
        assert res.passed and res.value == pytest.approx(abs(values[0] - values[1]), abs=1e-12), m
    assert all(r.passed for r in check_min(report, "recall[high]", 0.5, cohort="g"))
    broken = _never_predicts(proba, "high", df["g"].to_numpy() == "b")
    report = cohort_report(y, broken, groups, ["recall[high]", "recall_macro"], min_rows=30)
    assert not check_max_gap(report, "recall[high]", 0.15, cohort="g").passed
    assert not check_max_gap(report, "recall_macro", 0.1, cohort="g").passed
    mins = check_min(report, "recall[high]", 0.5, cohort="g")
    assert [r.passed for r in mins] == [True, False] or [r.passed for r in mins] == [False, True]


# --- baseline ---------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["prior", "most_frequent", "stratified", "uniform"])
def test_multiclass_dummies_equal_scikit_learn(fitted, strategy):
    df, _, proba = fitted
    X = df[["x1"]]
    got = dummy_scores(strategy, X, df["y"], X, seed=3, classes=proba.classes, k=2)
    want = DummyClassifier(strategy=strategy, random_state=3).fit(np.zeros((len(df), 1)), df["y"])
    np.testing.assert_allclose(np.asarray(got), want.predict_proba(np.zeros((len(df), 1))), atol=1e-8)
    assert list(got.classes) == CLASSES and got.k == 2
    if strategy == "uniform":  # the predicted classes are drawn, not all the first column's
        shares = pd.Series(got.predicted()).value_counts(normalize=True)
        assert set(shares.index) == set(CLASSES) and shares.min() > 0.25


def test_beats_dummies_and_a_dummy_model_does_not(fitted):
    df, _, proba = fitted
    y = df["y"].to_numpy()
    dummies = {s: dummy_scores(s, df, y, df, seed=0, classes=proba.classes) for s in ("prior", "uniform")}
    for metric in ("f1_macro", "log_loss", "roc_auc_ovr"):
        assert all(r.passed for r in check_beats_dummies(proba, y, dummies, metric, 0.02)), metric
        for strategy, dummy_model in dummies.items():  # a dummy model ties its own strategy
            res = check_beats_dummies(dummy_model, y, {strategy: dummies[strategy]}, metric, 0.02)
            assert not res[0].passed, (metric, strategy)


def test_previous_version_by_log_loss_lower_is_better(fitted):
    df, _, proba = fitted
    y = df["y"].to_numpy()
    worse = ClassProba(0.5 * np.asarray(proba) + 0.5 / 3, proba.classes)
    now, before = compute_metric("log_loss", y, worse), compute_metric("log_loss", y, proba)
    res = check_previous(now, before, 0.01, "log_loss")
    assert not res.passed and res.value == pytest.approx(now - before) and now > before
    assert check_previous(before, now, 0.01, "log_loss").passed


def test_top_k_with_k_at_least_the_classes_is_not_judged():
    proba = ClassProba(np.eye(3), CLASSES, k=3)
    assert "not judged" in (trivial_reason("top_k_accuracy", proba) or "")
    assert trivial_reason("top_k_accuracy", ClassProba(np.eye(3), CLASSES, k=2)) is None


# --- determinism: golden format 2, prediction drift ------------------------------------------------


def test_golden_format_2_round_trip_and_tolerance(fitted, tmp_path):
    _, _, proba = fitted
    labels = ["a,b", "plain", "x"]  # a label that needs CSV quoting
    scores = ClassProba(np.asarray(proba)[:20], labels)
    path = tmp_path / "golden.csv"
    path.write_text(golden_text([f"r{i}" for i in range(20)], scores, "ab" * 32))
    golden = read_golden(path)
    assert golden.classes == labels and golden.labels == [str(v) for v in scores.predicted()]
    np.testing.assert_array_equal(golden.scores, np.asarray(scores))  # repr(float) round-trips exactly
    assert check_golden(scores, golden, 1e-9, "ab" * 32).passed
    moved = np.asarray(scores).copy()
    moved[3, 1] += 1e-6
    bad = check_golden(ClassProba(moved, labels), golden, 1e-9)
    assert not bad.passed and bad.details["rows_differing"] == 1
    other = check_golden(ClassProba(np.asarray(scores), ["p", "q", "r"]), golden, 1e-9)
    assert not other.passed and "recorded for classes" in other.message


def test_golden_format_1_is_still_read(tmp_path):
    path = tmp_path / "golden.csv"
    path.write_text(golden_text(["1", "2"], np.array([0.25, 0.75]), None))
    golden = read_golden(path)
    assert golden.classes is None and golden.scores.tolist() == [0.25, 0.75]
    assert "format 1" in path.read_text().splitlines()[0]
    assert check_golden(np.array([0.25, 0.75]), golden, 0.0).passed
    wrong = check_golden(ClassProba(np.eye(2), ["a", "b"]), golden, 0.0)
    assert not wrong.passed and "format 1" in wrong.message


def test_prediction_drift_over_predicted_classes(fitted):
    df, _, proba = fitted
    half = len(df) // 2
    same = check_prediction_drift(proba[:half], proba[half:], method="psi", max=0.2)
    assert same.passed and same.judged and same.details["kind"] == "categorical"
    shifted = _never_predicts(proba[half:], "high")
    res = check_prediction_drift(proba[:half], shifted, method="psi", max=0.2)
    assert not res.passed and "predicted classes" in res.message
    ref = pd.Series([str(v) for v in proba[:half].predicted()]).value_counts(normalize=True)
    cur = pd.Series([str(v) for v in shifted.predicted()]).value_counts(normalize=True)
    keys = sorted(set(ref.index) | set(cur.index))
    r = np.array([max(ref.get(k, 0.0), 1e-4) for k in keys])
    c = np.array([max(cur.get(k, 0.0), 1e-4) for k in keys])
    assert res.value == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-9)


# --- collaboration --------------------------------------------------------------------------------


def test_flip_rate_of_predicted_classes_and_transition_table(fitted):
    _, _, proba = fitted
    assert check_flip_rate(proba, proba, None, 0.05).value == 0.0
    swapped = ClassProba(np.asarray(proba)[:, [2, 1, 0]], proba.classes)  # "high" and "mid" swapped
    res = check_flip_rate(swapped, proba, None, 0.1)
    old, new = proba.predicted(), swapped.predicted()
    assert not res.passed and res.value == pytest.approx(np.mean(old != new))
    table = res.details["transitions"]
    want = pd.crosstab(pd.Series(old), pd.Series(new)).reindex(
        index=table["classes"], columns=table["classes"]
    )
    assert table["counts"] == want.fillna(0).astype(int).to_numpy().tolist()
    assert table["counts"][0][0] == 0  # every "high" became "mid"


# --- target drift ---------------------------------------------------------------------------------


def test_target_drift_over_classes_string_and_int_labels():
    rng = np.random.default_rng(1)
    ref = pd.Series(rng.choice(["A", "N", "U", "Y"], 3000, p=[0.3, 0.3, 0.2, 0.2]), name="vote")
    cur = pd.Series(rng.choice(["A", "N", "U", "Y"], 2000, p=[0.3, 0.3, 0.2, 0.2]), name="vote")
    ok = check_target_drift(ref, cur, "psi", 0.05, classes=True)
    assert ok.passed and ok.judged
    shifted = pd.Series(rng.choice(["A", "N", "U", "Y"], 2000, p=[0.6, 0.1, 0.1, 0.2]), name="vote")
    assert not check_target_drift(ref, shifted, "psi", 0.05, classes=True).passed
    assert not check_target_drift(ref, shifted, "chi2", 0.1, classes=True).passed
    # int labels, and the current ones read as floats because of a missing value: the same classes
    codes = {"A": 0, "N": 1, "U": 2, "Y": 3}
    ref_i = ref.map(codes).astype("int64")
    cur_f = pd.concat([cur.map(codes).astype(float), pd.Series([np.nan])], ignore_index=True)
    as_int = check_target_drift(ref_i, cur_f, "psi", 0.05, classes=True)
    as_text = check_target_drift(
        ref, pd.concat([cur, pd.Series([None])], ignore_index=True), "psi", 0.05, classes=True
    )
    assert as_int.passed and as_int.value == pytest.approx(as_text.value, abs=1e-12)
    assert as_int.details["unseen"]["categories"] == as_text.details["unseen"]["categories"]


# --- explainability -------------------------------------------------------------------------------


def test_explanations_of_the_predicted_class(fitted):
    df, model, proba = fitted
    X = df[["x1", "x2", "noise"]]

    def predict(Z):
        return predict_scores(model, Z, "predict_proba", multiclass=True)

    score = class_score_fn(predict, X)
    P = np.asarray(proba)
    np.testing.assert_allclose(score(X), P.max(axis=1))
    np.testing.assert_allclose(score(X.iloc[[5, 2]]), P[[5, 2]].max(axis=1))  # rows matched by index
    fixed = class_score_fn(predict, X, "low")
    np.testing.assert_allclose(fixed(X), P[:, CLASSES.index("low")])
    with pytest.raises(UsageError, match="not a class"):
        class_score_fn(predict, X, "none")
    ref = reference_values(X)
    codes = reason_codes(score, X.iloc[:20], ref, top_k=2)
    assert check_reason_codes(codes, 2, n_features=3).passed
    row = X.iloc[[0]]
    changed = row.copy()
    changed[codes[0][0][0]] = ref[codes[0][0][0]]
    assert codes[0][0][1] == pytest.approx(float(score(row)[0] - score(changed)[0]))
    imp = global_importance(model, X, method="permutation", score=score, seed=0)
    assert list(imp)[-1] == "noise" and imp["noise"] < 0.2 * imp["x1"]
    means, stds = permutation_stats(model, X, None, score_change_scorer(score, X), seed=0)
    assert check_importances_informative(means, stds).passed

    class Constant:  # a dummy model: its scores do not depend on the features
        classes_ = np.array(CLASSES)

        def fit(self, X, y):
            return self

        def predict_proba(self, Z):
            return np.tile([0.2, 0.5, 0.3], (len(Z), 1))

    const = Constant()
    flat = class_score_fn(lambda Z: predict_scores(const, Z, "predict_proba", multiclass=True), X)
    means, stds = permutation_stats(const, X, None, score_change_scorer(flat, X), seed=0)
    assert not check_importances_informative(means, stds).passed


def test_repeatable_compares_every_class_probability(fitted):
    from mlprod.checks.determinism import check_repeatable

    df, model, _ = fitted
    X = df[["x1", "x2", "noise"]]

    def steady(Z):
        return predict_scores(model, Z, "predict_proba", multiclass=True)

    ok = check_repeatable(steady, X, 3, 0.0)
    assert ok.passed and ok.details["rows"] == len(X)
    rng = np.random.default_rng(0)

    def jittery(Z):  # one class probability moves between calls; the label rarely does
        P = np.asarray(steady(Z)).copy()
        P[:, 1] += rng.normal(0, 1e-6, len(P))
        return ClassProba(P, CLASSES)

    assert not check_repeatable(jittery, X, 3, 1e-9).passed
