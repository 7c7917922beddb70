"""Determinism: repeated predictions agree, and predictions match the golden file.

The golden file (format in docs/formats.md) is written by `mlprod record` with the hash of
the model artifact it was recorded with, so a changed artifact is reported as such rather
than as a mysterious prediction difference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .formats import Golden, read_golden, write_golden
from .results import CheckResult, at_most

CONCERN = "determinism"

__all__ = ["Golden", "align_to_golden", "check_golden", "check_repeatable", "read_golden", "write_golden"]


def check_repeatable(
    predict: Callable[[Any], Any], X: Any, repeats: int = 3, tolerance: float = 0.0, *, subject: str = "model"
) -> CheckResult:
    """Call `predict(X)` `repeats` times; max abs difference to the first call <= tolerance."""
    import numpy as np

    repeats = max(int(repeats), 2)
    out = np.asarray(predict(X), dtype=float)
    n_rows = int(out.shape[0]) if out.ndim else 1  # a multiclass matrix: every probability compared
    first = out.ravel()
    worst = 0.0
    differing = 0
    for _ in range(repeats - 1):
        again = np.asarray(predict(X), dtype=float).ravel()
        if again.shape != first.shape:
            return CheckResult(
                CONCERN,
                "repeatable",
                False,
                f"{subject} returned {again.size} predictions on a repeat, {first.size} the first time",
                None,
                tolerance,
                subject,
            )
        diff = np.abs(again - first)
        # NaN in one run and not the other is a difference; NaN in both is not.
        nan_mismatch = np.isnan(again) != np.isnan(first)
        if nan_mismatch.any():
            worst = float("inf")
        finite = ~np.isnan(diff)
        if finite.any():
            worst = max(worst, float(diff[finite].max()))
        differing = max(differing, int(((diff > tolerance) & finite).sum() + nan_mismatch.sum()))
    if np.isnan(first).all() and first.size:
        return CheckResult(
            CONCERN, "repeatable", False, f"{subject} predicted only NaN", None, tolerance, subject
        )
    result = at_most(
        CONCERN,
        "repeatable",
        worst,
        tolerance,
        f"max difference between {repeats} repeated predictions of {subject} on {n_rows} rows",
        subject=subject,
        details={"repeats": repeats, "rows": n_rows, "rows_differing": differing},
    )
    if not result.passed and differing:
        result = _with_message(result, f"{result.message} ({differing} rows differ)")
    return result


def align_to_golden(df: Any, golden: Golden, id_column: str | None) -> Any:
    """The rows of `df` in the golden file's order, matched by id (as text), or by position without ids.

    Raises UsageError naming up to five ids missing from `df`.
    """
    from mlprod.errors import UsageError

    if id_column is None:
        idx = [int(i) for i in golden.ids]
        if idx and max(idx) >= len(df):
            raise UsageError(f"golden file has row {max(idx)} but the data set has {len(df)} rows")
        return df.iloc[idx]
    if id_column not in df.columns:
        raise UsageError(f"id column {id_column!r} is not in the data set")
    keys = df[id_column].astype(str)
    if keys.duplicated().any():
        raise UsageError(f"id column {id_column!r} has duplicate values; golden rows cannot be matched")
    pos = dict(zip(keys.tolist(), range(len(keys)), strict=True))
    missing = [i for i in golden.ids if i not in pos]
    if missing:
        raise UsageError(
            f"{len(missing)} golden ids are not in the data set (e.g. {', '.join(missing[:5])})",
            hint="run `mlprod record` after changing the data set",
        )
    return df.iloc[[pos[i] for i in golden.ids]]


def check_golden(
    scores_now: Any, golden: Golden, tolerance: float = 1e-9, model_sha256: str | None = None
) -> CheckResult:
    """Current scores (aligned with the golden rows) match the golden scores within tolerance.

    When the golden file names a model hash and `model_sha256` (the artifact's) differs,
    the check fails with a message telling to re-record, whatever the scores.
    """
    import numpy as np

    subject = golden.path or "golden predictions"
    now = np.asarray(scores_now, dtype=float).ravel()
    ref = np.asarray(golden.scores, dtype=float).ravel()
    details: dict[str, Any] = {
        "rows": int(ref.size),
        "golden_model_sha256": golden.model_sha256,
        "model_sha256": model_sha256,
    }
    if golden.model_sha256 and model_sha256 and golden.model_sha256 != model_sha256:
        return CheckResult(
            CONCERN,
            "golden",
            False,
            f"golden file was recorded with model {golden.model_sha256[:12]}, the artifact is "
            f"{model_sha256[:12]}: run `mlprod record`",
            None,
            tolerance,
            subject,
            details,
        )
    if golden.classes is not None or np.ndim(scores_now) == 2:
        return _check_golden_classes(scores_now, golden, tolerance, subject, details)
    if now.shape != ref.shape:
        return CheckResult(
            CONCERN,
            "golden",
            False,
            f"{now.size} predictions for {ref.size} golden rows in {subject}",
            None,
            tolerance,
            subject,
            details,
        )
    if ref.size == 0:
        return CheckResult(
            CONCERN,
            "golden",
            False,
            f"{subject} has no rows: run `mlprod record`",
            None,
            tolerance,
            subject,
            details,
        )
    diff = np.abs(now - ref)
    nan_mismatch = np.isnan(now) != np.isnan(ref)
    both_nan = np.isnan(now) & np.isnan(ref)
    diff = np.where(both_nan, 0.0, diff)
    diff = np.where(nan_mismatch, np.inf, diff)
    worst = float(diff.max())
    n_diff = int((diff > tolerance).sum())
    details.update(rows_differing=n_diff, max_difference=worst)
    ok = n_diff == 0
    if ok:
        msg = (
            f"all {ref.size} golden predictions in {subject} match within {tolerance:.3g} "
            f"(max difference {worst:.3g})"
        )
    else:
        msg = (
            f"{n_diff} of {ref.size} predictions differ from {subject} by more than {tolerance:.3g} "
            f"(max difference {worst:.3g})"
        )
    return CheckResult(CONCERN, "golden", ok, msg, worst, float(tolerance), subject, details)


def _check_golden_classes(
    proba: Any, golden: Golden, tolerance: float, subject: str, details: dict[str, Any]
) -> CheckResult:
    """Format 2: every class probability of every row within `tolerance`; classes must match."""
    import numpy as np

    from .metrics_multiclass import label_text

    def fail(msg: str) -> CheckResult:
        return CheckResult(CONCERN, "golden", False, msg, None, float(tolerance), subject, details)

    if golden.classes is None:
        return fail(
            f"{subject} holds one score per row (format 1), the model gives class probabilities: "
            "run `mlprod record`"
        )
    now_classes = [label_text(c) for c in getattr(proba, "classes", ())]
    if now_classes != golden.classes:
        return fail(
            f"{subject} was recorded for classes {', '.join(golden.classes)}, the model has "
            f"{', '.join(now_classes) or 'no classes'}: run `mlprod record`"
        )
    now, ref = np.asarray(proba, dtype=float), np.asarray(golden.scores, dtype=float)
    if now.shape != ref.shape:
        return fail(f"{len(now)} predictions for {len(ref)} golden rows in {subject}")
    if ref.size == 0:
        return fail(f"{subject} has no rows: run `mlprod record`")
    diff = np.abs(now - ref)
    diff = np.where(np.isnan(now) & np.isnan(ref), 0.0, diff)
    diff = np.where(np.isnan(now) != np.isnan(ref), np.inf, diff)
    per_row = diff.max(axis=1)
    worst = float(per_row.max())
    n_diff = int((per_row > tolerance).sum())
    labels_now = [label_text(v) for v in proba.predicted()]
    changed = sum(a != b for a, b in zip(labels_now, golden.labels or labels_now, strict=False))
    details.update(
        rows_differing=n_diff, max_difference=worst, labels_changed=changed, classes=golden.classes
    )
    n = len(ref)
    if n_diff == 0:
        msg = (
            f"all {n} golden rows in {subject} match every class probability within {tolerance:.3g} "
            f"(max difference {worst:.3g})"
        )
    else:
        msg = (
            f"{n_diff} of {n} rows differ from {subject} by more than {tolerance:.3g} in a class "
            f"probability (max difference {worst:.3g}; {changed} predicted labels changed)"
        )
    return CheckResult(CONCERN, "golden", n_diff == 0, msg, worst, float(tolerance), subject, details)


def _with_message(result: CheckResult, message: str) -> CheckResult:
    from dataclasses import replace

    return replace(result, message=message)
