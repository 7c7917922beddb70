"""The class sections of a multiclass model card, from `.mlprod/evaluation.json` (untrusted JSON).

Per-class precision, recall, F1 and support; the confusion matrix as counts and as shares of
each true class; per-cohort recall of every class; and, when collaboration names a previous
version, the class-to-class transition table of the predictions (previous version's class in
rows, this model's in columns). Every string is escaped (`cell`), every number formatted.
"""

from __future__ import annotations

from typing import Any

from ._cardfmt import cell, get, items, num, table


def _labels(ev: Any) -> list[str]:
    labels = get(ev, "classes", "classes")
    return [cell(c) for c in labels] if isinstance(labels, list) else []


def _matrix(labels: list[str], rows: Any, corner: str, fmt: Any) -> str:
    if not isinstance(rows, list) or len(rows) != len(labels):
        return "Not measured.\n"
    body = [
        [f"**{label}**", *[fmt(v) for v in (row if isinstance(row, list) else [])]]
        for label, row in zip(labels, rows, strict=True)
    ]
    if any(len(r) != len(labels) + 1 for r in body):
        return "Not measured.\n"
    return table([corner, *labels], body, ["l", *["r"] * len(labels)])


def per_class(ev: dict[str, Any]) -> str:
    """Precision, recall, F1 and support of every class."""
    c = get(ev, "classes")
    if not isinstance(c, dict):
        return "Not measured.\n"
    head = (
        f"On data set {cell(get(c, 'dataset'))}. n/a: undefined (a class the model never predicts "
        "has no precision).\n\n"
    )
    rows = [
        [
            cell(get(r, "label")),
            num(get(r, "precision")),
            num(get(r, "recall")),
            num(get(r, "f1")),
            num(get(r, "support")),
        ]
        for r in items(c, "per_class")
    ]
    return head + table(["Class", "Precision", "Recall", "F1", "Support"], rows, ["l", "r", "r", "r", "r"])


def confusion(ev: dict[str, Any]) -> str:
    """The confusion matrix: counts, then each true class's row as shares."""
    labels = _labels(ev)
    if not labels:
        return "Not measured.\n"
    counts = get(ev, "classes", "confusion", "counts")
    shares = get(ev, "classes", "confusion", "normalized")
    return (
        "True class in rows, predicted class in columns. Counts:\n\n"
        + _matrix(labels, counts, "true \\ predicted", num)
        + "\nShare of each true class's rows (rows sum to 1):\n\n"
        + _matrix(labels, shares, "true \\ predicted", num)
    )


def cohort_recall(ev: dict[str, Any]) -> str:
    """Recall of every class within every cohort group."""
    labels = _labels(ev)
    rows_in = items(get(ev, "classes"), "cohort_recall")
    if not labels or not rows_in:
        return "No cohorts declared.\n"
    raw = get(ev, "classes", "classes")
    rows = [
        [
            cell(get(r, "cohort")),
            cell(get(r, "group")),
            num(get(r, "n")),
            "yes" if get(r, "judged") is True else "no",
            *[num(get(r, "recall", str(k))) for k in raw],
        ]
        for r in rows_in
    ]
    header = ["Cohort", "Group", "Rows", "Judged", *[f"Recall {label}" for label in labels]]
    return table(header, rows, ["l", "l", "r", "c", *["r"] * len(labels)])


def transitions(ev: dict[str, Any]) -> str:
    """Predicted classes of the previous version (rows) against this model's (columns)."""
    t = get(ev, "classes", "transitions")
    if not isinstance(t, dict):
        return "No previous version declared (collaboration.regression).\n"
    labels = [cell(c) for c in t.get("classes") or []]
    head = (
        f"Predictions on data set {cell(get(t, 'dataset'))}: the previous version "
        f"{cell(get(t, 'previous'))} in rows, this model in columns; off the diagonal, rows whose "
        f"predicted class changed (flip rate {num(get(t, 'flip_rate'))}).\n\n"
    )
    return head + _matrix(labels, get(t, "counts"), "previous \\ new", num)
