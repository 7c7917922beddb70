"""The multiclass metrics mlprod reports on the Chile example equal scikit-learn's (issue 16).

The committed example (data splits and models, as `git` has them) is scored once; every
metric name of the spec format is computed by mlprod.checks and by scikit-learn called
directly, overall and per cohort group, and must agree within 1e-12.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlprod.checks.metrics import compute_metrics, group_metrics
from mlprod.checks.metrics_multiclass import ClassProba

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chile"
FEATURES = ["region", "population", "education", "age", "income", "statusquo"]
CLASSES = ["A", "N", "U", "Y"]
K = 3
TOL = 1e-12


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    test = pd.read_csv(EXAMPLE / "data" / "test.csv")
    model = joblib.load(EXAMPLE / "models" / "model.joblib")
    assert list(model.classes_) == CLASSES
    return test["vote"].to_numpy(dtype=object), model.predict_proba(test[FEATURES]), test


def sklearn_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Every multiclass metric name, computed by scikit-learn with its defaults."""
    yhat = np.asarray(CLASSES, dtype=object)[proba.argmax(axis=1)]
    out = {
        "accuracy": skm.accuracy_score(y, yhat),
        "balanced_accuracy": skm.balanced_accuracy_score(y, yhat),
        "f1_macro": skm.f1_score(y, yhat, average="macro", zero_division=0),
        "f1_weighted": skm.f1_score(y, yhat, average="weighted", zero_division=0),
        "precision_macro": skm.precision_score(y, yhat, average="macro", zero_division=0),
        "recall_macro": skm.recall_score(y, yhat, average="macro", zero_division=0),
        "log_loss": skm.log_loss(y, proba, labels=CLASSES),
        "top_k_accuracy": skm.top_k_accuracy_score(y, proba, k=K, labels=CLASSES),
    }
    if len(set(y)) == len(CLASSES):
        out["roc_auc_ovr"] = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=CLASSES)
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        values = fn(y, yhat, labels=CLASSES, average=None, zero_division=np.nan)
        out.update({f"{name}[{c}]": float(v) for c, v in zip(CLASSES, values, strict=True)})
    return {k: float(v) for k, v in out.items()}


def assert_equal(ours: dict[str, float], theirs: dict[str, float], where: str) -> None:
    for name, expected in theirs.items():
        got = ours[name]
        if np.isnan(expected):
            assert np.isnan(got), (where, name, got)
        else:
            assert abs(got - expected) <= TOL, (where, name, got, expected)


def test_overall_metrics_equal_sklearn(scored: tuple[np.ndarray, np.ndarray, pd.DataFrame]) -> None:
    y, proba, _ = scored
    theirs = sklearn_metrics(y, proba)
    assert len(theirs) == 9 + 3 * len(CLASSES)
    ours = compute_metrics(list(theirs), y, ClassProba(proba, CLASSES, k=K))
    assert_equal(ours, theirs, "test")
    # the figures the spec's thresholds and the README quote
    assert round(theirs["f1_macro"], 3) == 0.544 and round(theirs["accuracy"], 3) == 0.637


@pytest.mark.parametrize("column", ["sex", "education", "region"])
def test_per_group_metrics_equal_sklearn(
    scored: tuple[np.ndarray, np.ndarray, pd.DataFrame], column: str
) -> None:
    y, proba, test = scored
    groups = sorted(test[column].unique())
    codes = test[column].map({g: i for i, g in enumerate(groups)}).to_numpy(dtype=np.int64)
    names = list(sklearn_metrics(y, proba))
    ours = group_metrics(y, ClassProba(proba, CLASSES, k=K), codes, len(groups), names)
    for i, group in enumerate(groups):
        rows = codes == i
        theirs = sklearn_metrics(y[rows], proba[rows])
        assert_equal(ours[i], theirs, f"{column}={group}")


def sig6(value: float) -> float:
    """A figure as evaluation.json records it: 6 significant digits."""
    return float(f"{value:.6g}")


def test_committed_evaluation_equals_sklearn(scored: tuple[np.ndarray, np.ndarray, pd.DataFrame]) -> None:
    """The numbers behind the committed model card (.mlprod/evaluation.json) are scikit-learn's."""
    import json

    from sklearn.dummy import DummyClassifier

    y, proba, test = scored
    evaluation = json.loads((EXAMPLE / ".mlprod" / "evaluation.json").read_text(encoding="utf-8"))
    theirs = sklearn_metrics(y, proba)
    overall = evaluation["overall"]["metrics"]
    assert overall.keys() <= theirs.keys() and len(overall) == 9
    for name, value in overall.items():
        assert value == sig6(theirs[name]), name
    yhat = np.asarray(CLASSES, dtype=object)[proba.argmax(axis=1)]
    classes = evaluation["classes"]
    assert classes["classes"] == CLASSES
    counts = skm.confusion_matrix(y, yhat, labels=CLASSES)
    assert classes["confusion"]["counts"] == counts.tolist()
    for row in classes["per_class"]:
        label = row["label"]
        for name in ("precision", "recall", "f1"):
            assert row[name] == sig6(theirs[f"{name}[{label}]"]), (label, name)
        assert row["support"] == int((y == label).sum())
    previous = joblib.load(EXAMPLE / "models" / "registry" / "0.9.0" / "model.joblib")
    old = previous.predict(test[FEATURES])
    transitions = classes["transitions"]
    assert transitions["counts"] == skm.confusion_matrix(old, yhat, labels=CLASSES).tolist()
    assert transitions["flip_rate"] == sig6(float(np.mean(old != yhat)))
    # baseline: the model, the previous version and each dummy scored with the same f1_macro
    baseline = evaluation["baseline"]
    assert baseline["metric"] == "f1_macro" and baseline["model"] == sig6(theirs["f1_macro"])
    assert baseline["previous"]["value"] == sig6(skm.f1_score(y, old, average="macro"))
    train = pd.read_csv(EXAMPLE / "data" / "train.csv")
    assert [row["strategy"] for row in baseline["strategies"]] == ["prior", "stratified"]
    for row in baseline["strategies"]:
        dummy = DummyClassifier(strategy=row["strategy"], random_state=42).fit(train[FEATURES], train["vote"])
        # scored as the model is: the class of the largest probability (the first on ties)
        predicted = dummy.classes_[dummy.predict_proba(test[FEATURES]).argmax(axis=1)]
        value = skm.f1_score(y, predicted, average="macro", zero_division=0)
        assert row["value"] == sig6(value), row["strategy"]


def test_figures_the_readme_quotes_are_measured(scored: tuple[np.ndarray, np.ndarray, pd.DataFrame]) -> None:
    """examples/chile/README.md explains the thresholds with figures; each is recomputed here."""
    y, proba, test = scored
    readme = " ".join((EXAMPLE / "README.md").read_text(encoding="utf-8").split())
    yhat = np.asarray(CLASSES, dtype=object)[proba.argmax(axis=1)]
    previous = joblib.load(EXAMPLE / "models" / "registry" / "0.9.0" / "model.joblib")
    old = previous.predict(test[FEATURES])

    def recall(rows: np.ndarray, label: str) -> float:
        return float(skm.recall_score(y[rows] == label, yhat[rows] == label))

    def macro_gap(column: str, groups: pd.Series) -> float:
        values = [
            skm.recall_score(y[groups == g], yhat[groups == g], average="macro", zero_division=0)
            for g in groups.unique()
        ]
        return float(max(values) - min(values))

    everyone = np.ones(len(y), dtype=bool)
    ages = pd.cut(test["age"], [18, 30, 45, 60, 71], right=False).astype(str)
    quoted = {
        f"macro F1 {skm.f1_score(y, yhat, average='macro'):.3f}",
        f"accuracy {skm.accuracy_score(y, yhat):.3f}",
        f"0.9.0: {skm.f1_score(y, old, average='macro'):.3f} and {skm.accuracy_score(y, old):.3f}",
        f"recall of A {skm.recall_score(y == 'A', old == 'A', zero_division=0):.2f}, "
        f"1.0.0: {recall(everyone, 'A'):.2f}",
        f"{100 * np.mean(old != yhat):.1f} % of the test rows change class",
        f"{100 * recall(test['sex'].to_numpy() == 'F', 'U'):.0f} % of undecided women",
        f"{100 * recall(test['sex'].to_numpy() == 'M', 'U'):.0f} % of undecided men",
        f"measured: {macro_gap('sex', test['sex']):.3f} and {macro_gap('age', ages):.3f}",
    }
    for figure in quoted:
        assert figure in readme, figure
    ps = test["education"].to_numpy() == "PS"
    assert int(((y == "U") & ps).sum()) == 9 and recall(ps, "U") == 0.0  # "none of the 9 undecided"
    assert ((old == "N") & (yhat == "Y")).sum() == ((old == "Y") & (yhat == "N")).sum() == 0  # none between
