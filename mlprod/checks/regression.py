"""Collaboration and regression: predictions of the new version against the previous one."""

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
    res = at_most(
        CONCERN,
        "flip_rate",
        rate,
        float(max_flip_rate),
        f"prediction flip rate against {previous}",
        subject=subject or previous,
        details={"rows": total, "flips": n, "threshold": threshold, "tolerance": tolerance},
    )
    if total:
        from dataclasses import replace

        res = replace(res, message=f"{res.message} ({n} of {total} rows)")
    return res
