"""Explainability: permutation importance vs scikit-learn, coefficients, reason codes."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlprod.checks.explainability import (
    check_expected_top,
    check_importances_computed,
    check_reason_codes,
    global_importance,
    reason_codes,
    reference_values,
)
from mlprod.errors import UsageError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame(
        {
            "strong": rng.normal(size=n),
            "weak": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "housing": rng.choice(["own", "rent", "free"], size=n),
        }
    )
    logit = 2.5 * X["strong"] + 0.5 * X["weak"] + (X["housing"] == "rent") * 1.0
    y = (logit + rng.logistic(size=n) > 0).astype(int).to_numpy()
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["strong", "weak", "noise"]), ("cat", OneHotEncoder(), ["housing"])]
    )
    model = Pipeline([("pre", pre), ("clf", LogisticRegression())]).fit(X, y)
    return model, X, y


def test_permutation_matches_sklearn(data):
    model, X, y = data
    ours = global_importance(model, X, y, method="permutation", metric="roc_auc", seed=3, n_repeats=3)
    ref = permutation_importance(model, X, y, scoring="roc_auc", n_repeats=3, random_state=3)
    for col, value in zip(X.columns, ref.importances_mean, strict=True):
        assert ours[col] == pytest.approx(value)
    assert next(iter(ours)) == "strong"  # sorted most important first


def test_permutation_with_error_metric_is_positive_for_useful_features(data):
    model, X, y = data
    imp = global_importance(model, X, y, method="permutation", metric="log_loss", seed=0, n_repeats=2)
    assert imp["strong"] > 0 and next(iter(imp)) == "strong"


def test_coefficients_map_to_input_features(data):
    model, X, _ = data
    imp = global_importance(model, X, method="coefficients")
    coef = np.abs(model[-1].coef_.ravel())
    names = list(model[:-1].get_feature_names_out())
    assert set(imp) == set(X.columns)
    assert imp["strong"] == pytest.approx(coef[names.index("num__strong")])
    housing = sum(c for nm, c in zip(names, coef, strict=True) if nm.startswith("cat__housing_"))
    assert imp["housing"] == pytest.approx(housing)
    plain = LogisticRegression().fit(X[["strong", "weak"]], (X["strong"] > 0).astype(int))
    assert set(global_importance(plain, X[["strong", "weak"]], method="coefficients")) == {"strong", "weak"}


def test_coefficients_need_a_linear_model(data):
    _, X, y = data
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=2).fit(X[["strong"]], y)
    with pytest.raises(UsageError, match="no coef_"):
        global_importance(tree, X[["strong"]], method="coefficients")


def test_shap_without_shap_is_a_clear_error(data, monkeypatch):
    model, X, y = data
    monkeypatch.setitem(sys.modules, "shap", None)  # as if not installed (the dev extra has it)
    with pytest.raises(UsageError, match="shap"):
        global_importance(model, X, y, method="shap")


def test_expected_top():
    imp = {"a": 0.3, "b": 0.2, "c": 0.1, "d": float("nan")}
    assert check_expected_top(imp, ["a", "b"], 2).passed
    res = check_expected_top(imp, ["c", "zz", "d"], 2)
    assert not res.passed and res.concern == "explainability"
    assert "c ranks 3 of 4" in res.message and "zz has no importance" in res.message
    assert "d has a NaN importance" in res.message
    assert not check_importances_computed(imp).passed
    assert check_importances_computed({"a": 0.1}).passed
    assert not check_importances_computed({}).passed


def test_reference_values_median_and_mode():
    X = pd.DataFrame(
        {"n": [1, 2, 3, 100], "f": [0.5, np.nan, 1.5, 2.0], "c": ["x", "y", "y", "x"], "e": [np.nan] * 4}
    )
    ref = reference_values(X)
    assert ref["n"] == X["n"].median() and ref["f"] == X["f"].median()
    assert ref["c"] == "x"  # tie: the smallest mode, as pandas sorts modes
    assert np.isnan(ref["e"])


def test_reason_codes_are_local_deltas():
    X = pd.DataFrame({"a": [1.0, 4.0, 2.0], "b": [0.0, 1.0, 5.0], "c": [7.0, 7.0, 7.0]})
    w = {"a": 2.0, "b": -3.0, "c": 10.0}
    predict = lambda d: sum(w[k] * d[k] for k in w).to_numpy()  # noqa: E731
    ref = reference_values(X)
    codes = reason_codes(predict, X, ref, top_k=2)
    for i, row in enumerate(codes):
        expected = {k: w[k] * (X[k].iloc[i] - ref[k]) for k in w}
        top = sorted(expected, key=lambda k: -abs(expected[k]))[:2]
        assert [f for f, _ in row] == top
        for f, delta in row:
            assert delta == pytest.approx(expected[f])
    assert check_reason_codes(codes, 2).passed


def test_reason_codes_on_a_model(data):
    model, X, _ = data
    rows = X.iloc[:20]
    codes = reason_codes(lambda d: model.predict_proba(d)[:, 1], rows, reference_values(X), top_k=3)
    res = check_reason_codes(codes, 3, n_features=X.shape[1])
    assert res.passed, res.message
    assert len(codes) == 20


def test_reason_codes_nan_or_missing_fail():
    codes = [[("a", 0.1), ("b", float("nan"))], [("a", 0.2)]]
    res = check_reason_codes(codes, 2)
    assert not res.passed and "2 of 2" in res.message
    assert check_reason_codes([[("a", 0.2)]], 3, n_features=1).passed
    assert not check_reason_codes([], 3).passed


def test_project_importances_of_a_regression_use_a_regression_metric(tmp_path):
    # permutation importance scored with ROC AUC gives NaN for every feature of a regressor
    import joblib
    from sklearn.linear_model import LinearRegression

    from mlprod.checks.project import Project

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    df = X.assign(y=3 * X["a"] + 0.1 * rng.normal(size=300))
    (tmp_path / "data").mkdir()
    df.to_csv(tmp_path / "data" / "test.csv", index=False)
    joblib.dump(LinearRegression().fit(X, df["y"]), tmp_path / "model.joblib")
    (tmp_path / "regmodel.py").write_text(
        "import joblib\n\n\ndef load():\n    return joblib.load('model.joblib')\n"
    )
    config = {
        "task": "regression",
        "target": "y",
        "features": ["a", "b"],
        "datasets": {"test": "data/test.csv"},
        "model": {"load": "regmodel:load", "predict": "predict"},
        "seed": 0,
    }
    project = Project(tmp_path, config)
    assert project.check_importances("permutation", "test").passed
    assert project.check_expected_top("permutation", "test", "a", 1).passed


# --- issue 15: explainability that can fail ------------------------------------------------------


class _Noise:
    """Scores are a hash of the row: deterministic, finite, and unrelated to any feature."""

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        import hashlib

        p = np.array(
            [
                int(hashlib.md5(repr(tuple(r)).encode()).hexdigest()[:8], 16) / 2**32
                for r in X.itertuples(index=False)
            ]
        )
        return np.column_stack([1 - p, p])


@pytest.fixture
def linear_data():
    rng = np.random.default_rng(15)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": rng.normal(size=300)})
    y = ((2 * X["a"] + 0.5 * X["b"] + rng.normal(size=300)) > 0).astype(int)
    return X, y


def test_a_noise_model_fails_explainability(linear_data):
    from sklearn.metrics import roc_auc_score

    from mlprod.checks.explain_quality import (
        check_importances_informative,
        check_reason_codes_consistent,
        permutation_stats,
    )
    from mlprod.checks.explainability import reason_codes, reference_values

    X, y = linear_data
    noise = _Noise()
    scoring = lambda est, X_, y_: roc_auc_score(y_, est.predict_proba(X_)[:, 1])  # noqa: E731
    imp = check_importances_informative(*permutation_stats(noise, X, y, scoring, seed=0))
    assert not imp.passed and "degenerate" in imp.message
    predict = lambda d: noise.predict_proba(d)[:, 1]  # noqa: E731
    ref = reference_values(X)
    rows = X.iloc[:50]
    results = {
        r.check: r
        for r in check_reason_codes_consistent(predict, rows, ref, reason_codes(predict, rows, ref, 2))
    }
    assert results["reason_codes_replay"].passed  # a deterministic noise replays ...
    assert not results["reason_codes_explain"].passed  # ... but its codes explain nothing
    assert results["reason_codes_explain"].value < 0


def test_an_additive_model_explains_exactly_and_a_fitted_model_informs(linear_data):
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import roc_auc_score

    from mlprod.checks.explain_quality import (
        check_importances_informative,
        check_reason_codes_consistent,
        permutation_stats,
    )
    from mlprod.checks.explainability import reason_codes, reference_values

    X, y = linear_data
    additive = LinearRegression().fit(X, y)
    ref = reference_values(X)
    rows = X.iloc[:40]
    codes = reason_codes(additive.predict, rows, ref, 2)
    results = {r.check: r for r in check_reason_codes_consistent(additive.predict, rows, ref, codes)}
    assert results["reason_codes_replay"].passed and results["reason_codes_explain"].value == pytest.approx(
        1.0
    )
    model = LogisticRegression().fit(X, y)
    scoring = lambda est, X_, y_: roc_auc_score(y_, est.predict_proba(X_)[:, 1])  # noqa: E731
    means, stds = permutation_stats(model, X, y, scoring, seed=0)
    direct = permutation_importance(model, X, y, scoring=scoring, n_repeats=5, random_state=0)
    assert means["a"] == pytest.approx(direct.importances_mean[0]) and stds["a"] == pytest.approx(
        direct.importances_std[0]
    )
    informative = check_importances_informative(means, stds)
    assert informative.passed and informative.details["top"] == "a"
    flat = check_importances_informative({"a": 0.0, "b": 0.0, "c": 0.0})
    assert not flat.passed and "all zero" in flat.message


def test_a_batch_dependent_explanation_does_not_replay(linear_data):
    from sklearn.linear_model import LinearRegression

    from mlprod.checks.explain_quality import check_reason_codes_consistent
    from mlprod.checks.explainability import reason_codes, reference_values

    X, y = linear_data
    model = LinearRegression().fit(X, y)
    predict = lambda d: model.predict(d) + 0.1 * (model.predict(d) - model.predict(d).mean())  # noqa: E731
    ref = reference_values(X)
    rows = X.iloc[:30]
    results = {
        r.check: r
        for r in check_reason_codes_consistent(predict, rows, ref, reason_codes(predict, rows, ref, 2))
    }
    assert (
        not results["reason_codes_replay"].passed and "scored alone" in results["reason_codes_replay"].message
    )
