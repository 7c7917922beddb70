"""A multiclass card: per-class table, confusion matrix (counts and shares, also as a figure),
per-cohort per-class recall and the class transitions, each equal to scikit-learn's numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cardkit import table_under
from cardrun import mlprod
from taskkit import multiclass_project


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mc") / "wine"
    multiclass_project(root)
    proc = mlprod(root, "evaluate", "--no-latency", "--html", "card.html")
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    return root


def _predictions(root: Path, artifact: str = "model.joblib") -> tuple[pd.DataFrame, np.ndarray]:
    import joblib

    test = pd.read_csv(root / "data" / "test.csv")
    model = joblib.load(root / "models" / artifact)
    X = test[["alcohol", "malic_acid", "ash", "magnesium"]]
    return test, model.classes_[np.argmax(model.predict_proba(X), axis=1)]


def _evaluation(root: Path) -> dict:
    return json.loads((root / ".mlprod" / "evaluation.json").read_text())["classes"]


def test_per_class_table_equals_sklearn(wine: Path) -> None:
    from sklearn.metrics import precision_recall_fscore_support

    test, pred = _predictions(wine)
    labels = sorted(test["y"].unique())
    p, r, f, support = precision_recall_fscore_support(test["y"], pred, labels=labels, zero_division=np.nan)
    measured = {row["label"]: row for row in _evaluation(wine)["per_class"]}
    card = {
        row["Class"]: row
        for row in table_under((wine / "MODEL_CARD.md").read_text(), "### Per-class metrics")
    }
    assert list(card) == labels == list(measured)
    for i, label in enumerate(labels):
        assert measured[label]["support"] == support[i] == int(card[label]["Support"])
        for key, want in (("precision", p[i]), ("recall", r[i]), ("f1", f[i])):
            assert measured[label][key] == pytest.approx(want, rel=1e-5), (label, key)
            assert float(card[label][key.capitalize() if key != "f1" else "F1"]) == pytest.approx(
                want, abs=1e-3
            )
    assert len(set(np.round(r, 3))) > 1  # the classes differ: a table of equal values would prove little


def test_confusion_matrix_counts_and_shares_equal_sklearn(wine: Path) -> None:
    from sklearn.metrics import confusion_matrix

    test, pred = _predictions(wine)
    labels = sorted(test["y"].unique())
    counts = confusion_matrix(test["y"], pred, labels=labels)
    shares = confusion_matrix(test["y"], pred, labels=labels, normalize="true")
    measured = _evaluation(wine)["confusion"]
    assert measured["counts"] == counts.tolist()
    np.testing.assert_allclose(measured["normalized"], shares, rtol=1e-5)
    assert counts.sum() - np.trace(counts) > 0  # some rows misclassified
    text = (wine / "MODEL_CARD.md").read_text()
    rows = table_under(text, "### Confusion matrix")
    assert [[int(row[label]) for label in labels] for row in rows] == counts.tolist()
    page = (wine / "card.html").read_text()
    assert re.search(r'<img alt="Confusion matrix" src="data:image/png;base64,', page)


def test_cohort_recall_of_each_class_equals_sklearn(wine: Path) -> None:
    from sklearn.metrics import recall_score

    test, pred = _predictions(wine)
    labels = sorted(test["y"].unique())
    rows = _evaluation(wine)["cohort_recall"]
    assert [r["group"] for r in rows] == ["[0, 13)", "[13, 20)"]
    for row, mask in zip(rows, [test["alcohol"] < 13, test["alcohol"] >= 13], strict=True):
        want = recall_score(test["y"][mask], pred[mask], labels=labels, average=None, zero_division=np.nan)
        for label, value in zip(labels, want, strict=True):
            got = row["recall"][label]
            assert (got is None and np.isnan(value)) or got == pytest.approx(value, rel=1e-5), label
    card = table_under((wine / "MODEL_CARD.md").read_text(), "### Per-cohort recall of each class")
    assert [f"Recall {label}" in card[0] for label in labels] == [True] * len(labels)


def test_class_transitions_equal_a_crosstab_of_both_versions(wine: Path) -> None:
    test, new = _predictions(wine)
    _, old = _predictions(wine, "previous.joblib")
    labels = sorted(test["y"].unique())
    want = pd.crosstab(pd.Categorical(old, labels), pd.Categorical(new, labels), dropna=False)
    t = _evaluation(wine)["transitions"]
    assert t["classes"] == labels
    assert t["counts"] == want.to_numpy().tolist()
    assert t["flip_rate"] == pytest.approx(float(np.mean(old != new)), rel=1e-5)
    text = (wine / "MODEL_CARD.md").read_text()
    rows = table_under(text, "### Class transitions against the previous version")
    assert [[int(row[label]) for label in labels] for row in rows] == want.to_numpy().tolist()


def test_multiclass_card_has_no_threshold_or_selection_rate(wine: Path) -> None:
    for name in ("MODEL_CARD.md", "card.html"):
        assert not re.search(r"threshold|selection[ _]rate", (wine / name).read_text(), re.IGNORECASE), name


def test_notebooks_show_the_confusion_matrix_and_class_recall(wine: Path) -> None:
    from taskkit import run_notebook

    bias = (wine / "monitoring" / "bias.ipynb").read_text()
    baseline = (wine / "monitoring" / "baseline.ipynb").read_text()
    assert "Recall of each class per cohort" in bias
    assert "selection" not in bias.replace("selection=False", "")
    assert "## Confusion matrix" in baseline
    assert len(run_notebook(wine, "bias.ipynb")) == 2  # the cohort metrics, then each class's recall
    assert len(run_notebook(wine, "baseline.ipynb")) == 3  # lift bars, top-k curves, confusion matrix


def test_per_class_metric_names_read_as_words_and_stay_escaped() -> None:
    from mlprod.generator.units._card_numbers import metric_name

    assert metric_name("recall[severe]") == "Recall of severe"
    assert metric_name("f1_macro") == "F1 (macro)"
    assert metric_name("precision[a|b]") == "Precision of a\\|b"  # a pipe cannot break the table


def test_trivial_top_k_accuracy_is_left_off_the_card(wine: Path) -> None:
    """Three classes and the default k of 3: every row is a top-3 hit, so the card shows no 1.0."""
    overall = json.loads((wine / ".mlprod" / "evaluation.json").read_text())["overall"]["metrics"]
    assert "top_k_accuracy" not in overall
    assert {"accuracy", "f1_macro", "log_loss"} <= set(overall)
    assert "Top-k" not in (wine / "MODEL_CARD.md").read_text()
