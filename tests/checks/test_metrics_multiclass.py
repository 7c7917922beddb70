"""Multiclass metrics overall and per group equal scikit-learn's, computed independently here."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from mlprod.checks.metrics import HIGHER_IS_BETTER, compute_metric, compute_metrics, group_metrics
from mlprod.checks.metrics_multiclass import (
    MULTICLASS,
    ClassProba,
    class_codes,
    confusion,
    label_text,
    split_class_metric,
)
from mlprod.errors import UsageError

TOL = 1e-12


def _sk(name: str, y, P, classes, k: int = 3) -> float:
    """scikit-learn's value, called as a user would (default zero_division for averages)."""
    labels = list(classes)
    pred = np.array(labels)[np.argmax(P, axis=1)]  # natural dtype: sklearn refuses object ints
    y = np.array(list(y))
    order = sorted(range(len(labels)), key=lambda i: labels[i])  # sklearn wants sorted labels
    Ps, sorted_labels = P[:, order], [labels[i] for i in order]
    per = split_class_metric(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if per is not None:
            fn = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[per[0]]
            label = next(c for c in labels if label_text(c) == per[1])
            return float(fn(y, pred, labels=[label], average=None, zero_division=np.nan)[0])
        return float(
            {
                "accuracy": lambda: skm.accuracy_score(y, pred),
                "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, pred),
                "f1_macro": lambda: skm.f1_score(y, pred, average="macro"),
                "f1_weighted": lambda: skm.f1_score(y, pred, average="weighted"),
                "precision_macro": lambda: skm.precision_score(y, pred, average="macro"),
                "recall_macro": lambda: skm.recall_score(y, pred, average="macro"),
                "log_loss": lambda: skm.log_loss(y, Ps, labels=sorted_labels),
                "roc_auc_ovr": lambda: skm.roc_auc_score(
                    y, Ps, multi_class="ovr", average="macro", labels=sorted_labels
                ),
                "top_k_accuracy": lambda: skm.top_k_accuracy_score(y, Ps, k=k, labels=sorted_labels),
            }[name]()
        )


def _data(n: int, classes, seed: int, *, absent_pred=None, ties: bool = False):
    rng = np.random.default_rng(seed)
    C = len(classes)
    P = rng.dirichlet(np.ones(C), size=n)
    if ties:
        P = np.round(P * 4) / 4 + 1e-9  # many tied probabilities (not normalised exactly: fine for metrics)
        P = P / P.sum(axis=1, keepdims=True)
    truth = np.where(rng.random(n) < 0.6, np.argmax(P, axis=1), rng.integers(0, C, n))
    if absent_pred is not None:  # the model never predicts this class
        j = list(classes).index(absent_pred)
        P[:, j] = 0.0
        P = P / P.sum(axis=1, keepdims=True)
    y = np.asarray([classes[i] for i in truth], dtype=object)
    return y, P


def _names(classes, k_names=True):
    per = [f"{b}[{label_text(c)}]" for c in classes for b in ("precision", "recall", "f1")]
    return list(MULTICLASS) + per


@pytest.mark.parametrize(
    ("classes", "n", "kwargs"),
    [
        (("A", "N", "U", "Y"), 400, {}),  # string labels
        ((3, 7, 11), 300, {}),  # int labels
        (("low", "mid", "high", "top"), 200, {"absent_pred": "mid"}),  # a class never predicted
        ((0, 1, 2, 3, 4), 250, {"ties": True}),  # tied probabilities (top-k, ROC AUC ranks)
        (("a", "b", "c"), 7, {}),  # tiny sample
    ],
)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_every_metric_equals_scikit_learn(classes, n, kwargs, k):
    y, P = _data(n, classes, seed=n + k, **kwargs)
    proba = ClassProba(P, classes, k=k)
    names = _names(classes)
    ours = compute_metrics(names, y, proba)
    for name in names:
        want = _sk(name, y, P, classes, k=k)
        got = ours[name]
        if math.isnan(want):
            assert math.isnan(got), name
        else:
            assert got == pytest.approx(want, abs=TOL, rel=0), name


def test_per_group_equals_each_group_alone():
    classes = ("A", "N", "U", "Y")
    y, P = _data(600, classes, seed=5)
    codes = np.random.default_rng(1).integers(-1, 4, len(y))  # -1: rows outside every group
    proba = ClassProba(P, classes)
    names = _names(classes)
    per = group_metrics(y, proba, codes, 5, names)
    for gi in range(5):
        rows = codes == gi
        for name in names:
            got = per[gi][name]
            if not rows.any():
                assert math.isnan(got)
                continue
            want = _sk(name, y[rows], P[rows], classes)
            if math.isnan(want):
                assert math.isnan(got), (gi, name)
            else:
                assert got == pytest.approx(want, abs=TOL, rel=0), (gi, name)


def test_class_absent_from_truth_gives_nan_roc_auc_and_per_class_recall():
    classes = ("a", "b", "c")
    y = np.array(["a", "b", "a", "b", "a", "b"], dtype=object)
    P = np.array([[0.6, 0.3, 0.1]] * 3 + [[0.2, 0.7, 0.1]] * 3)
    out = compute_metrics(
        ["roc_auc_ovr", "recall[c]", "precision[c]", "f1[c]", "accuracy"], y, ClassProba(P, classes)
    )
    assert math.isnan(out["roc_auc_ovr"]) and math.isnan(out["recall[c]"]) and math.isnan(out["f1[c]"])
    assert math.isnan(out["precision[c]"])  # never predicted either
    assert out["accuracy"] == pytest.approx(4 / 6)


def test_labels_match_as_written_and_unknown_labels_are_refused():
    assert class_codes([1.0, 2, "3"], [1, 2, 3]).tolist() == [0, 1, 2]
    with pytest.raises(UsageError, match="not classes of the model"):
        class_codes(["a", "z"], ["a", "b"])
    with pytest.raises(UsageError, match="missing values"):
        class_codes(["a", None], ["a", "b"])
    P = ClassProba(np.eye(3), ["a", "b", "c"])
    with pytest.raises(UsageError, match="'d' is not a class"):
        compute_metric("recall[d]", ["a", "b", "c"], P)
    with pytest.raises(UsageError, match="not defined for multiclass"):
        compute_metric("roc_auc", ["a", "b", "c"], P)


def test_int_labels_in_names_and_nan_scores():
    classes = (0, 1, 2)
    P = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [np.nan, 0.5, 0.5]])
    out = compute_metrics(["recall[1]", "accuracy"], np.array([0, 1, 2, 1]), ClassProba(P, classes))
    assert math.isnan(out["recall[1]"]) and math.isnan(out["accuracy"])  # a NaN score: undefined


def test_slicing_keeps_classes_and_k():
    proba = ClassProba(np.eye(4)[[0, 1, 2, 3, 0]], ["w", "x", "y", "z"], k=2)
    part = proba[[0, 2]]
    assert isinstance(part, ClassProba) and part.classes == ("w", "x", "y", "z") and part.k == 2
    assert part.predicted().tolist() == ["w", "y"]


def test_broken_models_score_badly():
    classes = ("A", "B", "C")
    y, P = _data(300, classes, seed=2)
    good = compute_metrics(["accuracy", "recall[B]", "f1_macro", "log_loss"], y, ClassProba(P, classes))
    never_b = P.copy()
    never_b[:, 1] = 0
    bad = compute_metrics(
        ["recall[B]", "precision[B]"], y, ClassProba(never_b / never_b.sum(1, keepdims=True), classes)
    )
    assert bad["recall[B]"] == 0 and math.isnan(bad["precision[B]"]) and good["recall[B]"] > 0.5
    swapped = compute_metrics(["accuracy", "f1_macro"], y, ClassProba(P[:, [1, 0, 2]], classes))
    assert swapped["accuracy"] < good["accuracy"] - 0.2
    dummy = compute_metrics(["log_loss"], y, ClassProba(np.full_like(P, 1 / 3), classes))
    assert dummy["log_loss"] == pytest.approx(math.log(3)) and not HIGHER_IS_BETTER["log_loss"]


def test_confusion_counts():
    classes = ("A", "B", "C")
    y, P = _data(120, classes, seed=9)
    proba = ClassProba(P, classes)
    got = confusion(y, proba)
    want = skm.confusion_matrix(y, proba.predicted(), labels=list(classes))
    assert got == {"classes": ["A", "B", "C"], "counts": want.tolist()}


def test_labels_with_brackets_spaces_and_unicode_are_measured_per_class():
    """A class label the spec cannot name (`x]y`) is still measured: the card names every class."""
    classes = ["x]y", "a b", "a_b", "é[ü"]
    y = np.array(["x]y", "a b", "a_b", "é[ü", "x]y", "a_b"], dtype=object)
    P = np.eye(4)[[0, 1, 1, 3, 0, 2]] * 0.7 + 0.075
    names = [f"{m}[{c}]" for c in classes for m in ("precision", "recall", "f1")]
    out = compute_metrics(names, y, ClassProba(P, classes))
    pred = np.array(classes, dtype=object)[P.argmax(axis=1)]
    recall = skm.recall_score(y, pred, labels=classes, average=None, zero_division=np.nan)
    assert [out[f"recall[{c}]"] for c in classes] == pytest.approx(list(recall), nan_ok=True)
    assert split_class_metric("recall[x]y]") == ("recall", "x]y")


@pytest.mark.parametrize("row", [[5.0, 7.0, 1.0], [-1.0, 2.0, 0.0], [0.2, 0.2, 0.2]])
def test_log_loss_of_rows_that_are_no_distribution_is_undefined(row):
    """Clipping [5, 7, 1] gave a log loss of 2e-16 (perfect) whatever the truth; scikit-learn refuses."""
    y = np.array([0, 1, 2, 1])
    P = np.array([row, [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]])
    out = compute_metrics(["log_loss", "accuracy"], y, ClassProba(P, (0, 1, 2)))
    assert math.isnan(out["log_loss"])
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(y, P.argmax(axis=1)))
    ok = np.array([[0.5, 0.3, 0.2], *P[1:]])
    good = compute_metrics(["log_loss"], y, ClassProba(ok, (0, 1, 2)))["log_loss"]
    assert good == pytest.approx(skm.log_loss(y, ok, labels=[0, 1, 2]), abs=1e-12)
