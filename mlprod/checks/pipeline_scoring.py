"""The deployed model on the pipeline's output: the end-to-end check that uses the real model.

The stages' own `predict` stage scores with the model the pipeline just trained; this check
takes the last stage output that holds every model feature and scores it with the deployed
model, so a deployed model that returns the wrong type, shape or range, or NaN, on what the
pipeline produces fails in `pipeline` (issue 15).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .results import CheckResult

CONCERN = "pipeline"


def feature_stage(
    stages: Mapping[str, Any], outputs: Mapping[str, Any], features: Sequence[str]
) -> str | None:
    """The last stage (in run order) whose sampled output is a DataFrame with every feature."""
    found = None
    for name in stages:
        out = outputs.get(name)
        columns = getattr(out, "columns", None)
        if columns is not None and hasattr(out, "loc") and all(f in columns for f in features):
            found = name
    return found


def check_scores_of_stage(scores: Any, rows: int, stage: str, *, bounded: bool) -> list[CheckResult]:
    """Numeric scores, one per row, finite, and within [0, 1] when they are probabilities."""
    import numpy as np

    what = f"the deployed model on the output of stage {stage}"
    try:
        values = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        msg = f"{what} returned non-numeric predictions ({type(scores).__name__})"
        return [CheckResult(CONCERN, "deployed_scores", False, msg, subject=stage)]
    out = []
    # one score per row, or one row of class probabilities per row (multiclass)
    shape_ok = values.ndim in (1, 2) and len(values) == rows and (values.ndim == 1 or values.shape[1] >= 2)
    shape = f"{values.size} predictions" if values.ndim == 1 else f"shape {values.shape}"
    msg = f"{what} gave {shape} for {rows} rows"
    out.append(CheckResult(CONCERN, "deployed_shape", shape_ok, msg, float(values.size), float(rows), stage))
    flat = values.ravel()
    nan = int(np.count_nonzero(~np.isfinite(flat)))
    msg = f"{what} gave {nan} NaN or infinite predictions" if nan else f"{what} gave finite predictions"
    out.append(CheckResult(CONCERN, "deployed_finite", nan == 0, msg, float(nan), 0.0, stage))
    if bounded:
        finite = flat[np.isfinite(flat)]
        outside = finite[(finite < 0.0) | (finite > 1.0)]
        shown = ", ".join(f"{v:.4g}" for v in outside[:5])
        msg = (
            f"{what} gave {outside.size} probabilities outside [0, 1] (e.g. {shown})"
            if outside.size
            else f"{what} gave probabilities within [0, 1]"
        )
        out.append(
            CheckResult(CONCERN, "deployed_range", outside.size == 0, msg, float(outside.size), 0.0, stage)
        )
    return out
