"""SHAP values with string features equal SHAP's own TreeExplainer values on a tree model.

The model is a pipeline (ordinal-encoded categories + a random forest) over two string
and two numeric features. SHAP's reference values come from `shap.TreeExplainer` on the
forest itself, in the encoded space, with the same background rows (interventional);
mlprod's come from the whole pipeline through `shap_codes`, which SHAP alone cannot
explain with string columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

shap = pytest.importorskip("shap")
pytestmark = pytest.mark.slow  # the first call compiles SHAP's numba code (about a minute)

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OrdinalEncoder  # noqa: E402

from mlprod.checks.shap_codes import Codec, shap_importance, shap_reason_codes, shap_values  # noqa: E402

CATS, NUMS = ["housing", "purpose"], ["age", "amount"]


@pytest.fixture(scope="module")
def fitted() -> tuple[Pipeline, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 400
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 75, n),
            "housing": rng.choice(["own", "rent", "for free"], n),
            "amount": rng.gamma(2.0, 1500.0, n).round(2),
            "purpose": rng.choice(["car", "education", "radio/tv", "business"], n),
        }
    )
    logit = 0.04 * (40 - X["age"]) + (X["housing"] == "rent") * 1.0 + X["amount"] / 4000.0 - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    pipe = Pipeline(
        [
            ("encode", ColumnTransformer([("cat", OrdinalEncoder(), CATS)], remainder="passthrough")),
            ("forest", RandomForestClassifier(n_estimators=15, max_depth=4, random_state=0)),
        ]
    )
    return pipe.fit(X, y), X


def test_shap_alone_fails_on_string_features(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    pipe, X = fitted
    with pytest.raises(TypeError):
        shap.Explainer(lambda d: pipe.predict_proba(d)[:, 1], X.iloc[:20])(X.iloc[:2])


def test_values_equal_tree_explainer(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    pipe, X = fitted
    background, rows = X.iloc[:40], X.iloc[100:110]
    ours = shap_values(pipe, rows, background)
    encoder, forest = pipe[0], pipe[-1]
    explainer = shap.TreeExplainer(
        forest, data=encoder.transform(background), feature_perturbation="interventional"
    )
    theirs = np.asarray(explainer.shap_values(encoder.transform(rows)))
    theirs = theirs[..., 1] if theirs.ndim == 3 else theirs  # class 1 (the score)
    # The encoder's output order is categories first, then the remaining columns.
    position = {c: i for i, c in enumerate([*CATS, *[c for c in X.columns if c not in CATS]])}
    theirs = theirs[:, [position[c] for c in X.columns]]
    np.testing.assert_allclose(ours, theirs, atol=1e-6)  # TreeExplainer sums in float32
    # Local accuracy: values add up to the score minus the background's mean score.
    base = pipe.predict_proba(background)[:, 1].mean()
    np.testing.assert_allclose(ours.sum(axis=1), pipe.predict_proba(rows)[:, 1] - base, atol=1e-9)


def test_reason_codes_and_importance(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    pipe, X = fitted
    background, rows = X.iloc[:30], X.iloc[200:205]
    values = shap_values(pipe, rows, background)
    codes = shap_reason_codes(pipe, rows, background, top_k=2)
    for i, row in enumerate(codes):
        expected = sorted(range(4), key=lambda j: -abs(values[i, j]))[:2]
        assert row == [(str(X.columns[j]), pytest.approx(values[i, j])) for j in expected]
    importance = shap_importance(pipe, rows, background)
    assert importance == pytest.approx(dict(zip(X.columns, np.abs(values).mean(axis=0), strict=True)))


def test_codec_round_trip(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    _, X = fitted
    codec = Codec(X.iloc[:50], X.iloc[50:60])
    back = codec.decode(codec.encode(X.iloc[50:60]))
    pd.testing.assert_frame_equal(back, X.iloc[50:60].reset_index(drop=True), check_dtype=True)


def test_multiclass_shap_values_explain_the_predicted_class_and_add_up() -> None:
    """Per row, the SHAP values of its predicted class (or a declared one) sum to that class's
    probability minus its mean over the background (SHAP's additivity, exact for 3 features)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    n = 200
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["u", "v"], n)})
    y = np.where(X["a"] > 0.5, "hi", np.where(X["a"] < -0.5, "lo", "mid"))
    encode = ColumnTransformer([("c", OneHotEncoder(), ["c"])], remainder="passthrough")
    model = Pipeline([("encode", encode), ("classify", LogisticRegression())]).fit(X, y)
    rows, background = X.iloc[:15], X.iloc[:60]
    P, B = model.predict_proba(rows), model.predict_proba(background)
    values = shap_values(model, rows, background, multiclass=True)
    cols = P.argmax(axis=1)
    np.testing.assert_allclose(values.sum(axis=1), P[np.arange(15), cols] - B.mean(axis=0)[cols], atol=1e-9)
    lo = list(model.classes_).index("lo")
    fixed = shap_values(model, rows, background, multiclass=True, class_label="lo")
    np.testing.assert_allclose(fixed.sum(axis=1), P[:, lo] - B[:, lo].mean(), atol=1e-9)
    importance = shap_importance(model, rows, background, multiclass=True)
    assert max(importance, key=importance.get) == "a"
    codes = shap_reason_codes(model, rows, background, top_k=1, multiclass=True)
    assert [row[0][0] for row in codes] == [["a", "b", "c"][j] for j in np.abs(values).argmax(axis=1)]
