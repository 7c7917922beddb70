"""Collaboration and regression: predictions of the new version against the previous one.

Multiclass (scores are `ClassProba` matrices): a row flips when its predicted class changes;
the result's details carry the class-to-class transition table (counts, previous class in
rows, new class in columns) for the model card.
"""

from __future__ import annotations

from typing import Any

from .results import CheckResult, at_most

CONCERN = "collaboration"


def flip_rate(
    scores_new: Any, scores_old: Any, threshold: float | None = 0.5, tolerance: float | None = None
) -> tuple[float, int, int]:
    """(share of rows whose label differs, rows differing, rows compared).

    With a threshold, labels are `score >= threshold` (classification); with threshold None
    and a tolerance, a value flips when it moves by more than the tolerance (regression);
    with neither, the values themselves are compared (class labels). A NaN on either side
    counts as a flip.
    """
    import numpy as np

    if np.ndim(scores_new) == 2 and np.ndim(scores_old) == 2:  # multiclass: the predicted classes
        scores_new, scores_old = _labels(scores_new), _labels(scores_old)
        threshold = tolerance = None
    new, old = np.asarray(scores_new).ravel(), np.asarray(scores_old).ravel()
    if new.shape != old.shape:
        raise ValueError(f"{new.size} new predictions vs {old.size} previous ones")
    if new.size == 0:
        return float("nan"), 0, 0
    if threshold is None and tolerance is not None:
        nf, of = new.astype(float), old.astype(float)
        flips = ~(np.abs(nf - of) <= tolerance)  # NaN compares False, so it counts as a flip
    elif threshold is None:
        flips = new != old
    else:
        nf, of = new.astype(float), old.astype(float)
        bad = np.isnan(nf) | np.isnan(of)
        flips = ((nf >= threshold) != (of >= threshold)) | bad
    n = int(flips.sum())
    return n / new.size, n, int(new.size)


def check_flip_rate(
    scores_new: Any,
    scores_old: Any,
    threshold: float | None,
    max_flip_rate: float,
    *,
    previous: str = "the previous version",
    subject: str | None = None,
    tolerance: float | None = None,
) -> CheckResult:
    """Share of rows whose thresholded label differs from the previous version's is at most max_flip_rate."""
    try:
        rate, n, total = flip_rate(scores_new, scores_old, threshold, tolerance)
    except ValueError as exc:
        return CheckResult(
            CONCERN,
            "flip_rate",
            False,
            f"flip rate against {previous} not measurable: {exc}",
            None,
            float(max_flip_rate),
            subject or previous,
        )
    details: dict[str, Any] = {"rows": total, "flips": n, "threshold": threshold, "tolerance": tolerance}
    multiclass = getattr(scores_new, "ndim", 1) == 2 and getattr(scores_old, "ndim", 1) == 2
    if multiclass:
        details.update(threshold=None, tolerance=None, transitions=transitions(scores_new, scores_old))
    res = at_most(
        CONCERN,
        "flip_rate",
        rate,
        float(max_flip_rate),
        "predicted-class flip rate against " + previous
        if multiclass
        else f"prediction flip rate against {previous}",
        subject=subject or previous,
        details=details,
    )
    if total:
        from dataclasses import replace

        res = replace(res, message=f"{res.message} ({n} of {total} rows)")
    return res


def _labels(proba: Any) -> Any:
    """Predicted classes of a probability matrix, as text (so 1 and 1.0 are one class)."""
    from .metrics_multiclass import label_text

    predicted = proba.predicted() if hasattr(proba, "predicted") else proba.argmax(axis=1)
    return [label_text(v) for v in predicted]


def transitions(scores_new: Any, scores_old: Any) -> dict[str, Any]:
    """`{"classes": [labels], "counts": [[previous class x new class]]}` of two probability matrices.

    The classes are the union of both versions' classes (the previous version's first).
    """
    from .metrics_multiclass import label_text

    new, old = _labels(scores_new), _labels(scores_old)
    declared = [*getattr(scores_old, "classes", ()), *getattr(scores_new, "classes", ())]
    classes = list(dict.fromkeys([*(label_text(c) for c in declared), *old, *new]))
    index = {c: i for i, c in enumerate(classes)}
    counts = [[0] * len(classes) for _ in classes]
    for a, b in zip(old, new, strict=True):
        counts[index[a]][index[b]] += 1
    return {"classes": classes, "counts": counts}
