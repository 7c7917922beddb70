"""Explainability that can fail (issue 15): informative importances, consistent reason codes.

A model that returns noise still gets finite importances and finite reason codes, so
"computed" and "finite" cannot fail. These checks can:
- `check_importances_informative`: permutation importances are not all zero and not all
  equal within their noise: the top importance must exceed the median one by more than
  `Z` standard errors of the difference (from the permutation repeats). For coefficient or
  SHAP importances (no repeats) exact equality is the test.
- `check_reason_codes_consistent`: (a) replay: each row's top reason-code feature, set to its
  reference value in the row scored alone, changes the score by the amount reported
  (within `tolerance`); (b) the codes explain the score: the sum of a row's per-feature
  contributions accounts for the change of its score when every feature is set to its
  reference value. Over the sampled rows, the share of that change's variance left after
  subtracting the sums, 1 - sum((total - summed)^2) / sum((total - mean total)^2), must be
  at least `min_explained` (1 for an additive model, close to 1 for a generalised linear
  one, far below 0 for noise, whose per-feature "contributions" add up to a multiple of it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .results import CheckResult

CONCERN = "explainability"
Z = 8.0  # noise models reach about 4 (the largest of 12 features); the credit model 14 to 22


def permutation_stats(
    model: Any,
    X: Any,
    y: Any,
    scoring: Callable[[Any, Any, Any], float],
    *,
    seed: int | None,
    n_repeats: int = 5,
) -> tuple[dict[str, float], dict[str, float]]:
    """(mean, standard deviation over repeats) of permutation importance per feature."""
    import numpy as np
    from sklearn.inspection import permutation_importance

    res = permutation_importance(
        model,
        X,
        np.zeros(len(X)) if y is None else np.asarray(y),  # a score-change scorer needs no target
        scoring=scoring,
        n_repeats=n_repeats,
        random_state=seed,
    )
    cols = [str(c) for c in X.columns]
    return (
        dict(zip(cols, res.importances_mean.astype(float).tolist(), strict=True)),
        dict(zip(cols, res.importances_std.astype(float).tolist(), strict=True)),
    )


def check_importances_informative(
    means: Mapping[str, float], stds: Mapping[str, float] | None = None, *, repeats: int = 5
) -> CheckResult:
    """The top importance stands out of the median one by more than Z standard errors (or exactly)."""
    import numpy as np

    values = {f: v for f, v in means.items() if v is not None and math.isfinite(v)}
    subject = "global importances"
    if len(values) < 2:
        msg = f"importances not judged: {len(values)} finite feature importance(s), 2 needed"
        return CheckResult(CONCERN, "importances_informative", True, msg, None, None, subject, judged=False)
    ranked = sorted(values.items(), key=lambda kv: -kv[1])
    top, top_v = ranked[0]
    median = float(np.median(list(values.values())))
    gap = top_v - median
    details: dict[str, Any] = {"top": top, "top_importance": top_v, "median_importance": median}
    if stds:
        # the standard error of a difference of two means over the repeats, with the features'
        # median standard deviation (pooled: five repeats make one feature's own one unreliable)
        pooled = float(np.median([stds.get(f, 0.0) for f in values]))
        se = math.sqrt(2.0) * pooled / math.sqrt(max(repeats, 1))
        bound = Z * se
        details |= {"standard_error": se}
        how = f"{Z:g} standard errors ({se:.2g} each, from {repeats} permutation repeats)"
    else:
        bound = 1e-12 * max(1.0, abs(top_v))
        how = "exactly"
    if top_v <= 0 or gap <= bound:
        why = (
            "all zero or negative"
            if top_v <= 0
            else f"the top one is not above the median by more than {how}"
        )
        msg = (
            f"importances are degenerate (noise): {why}; top {top} {top_v:.3g}, median {median:.3g}; "
            "the model's scores do not depend on its features"
        )
        return CheckResult(CONCERN, "importances_informative", False, msg, gap, bound, subject, details)
    msg = f"importances inform: top {top} {top_v:.3g} exceeds the median {median:.3g} by more than {how}"
    return CheckResult(CONCERN, "importances_informative", True, msg, gap, bound, subject, details)


def _with(X: Any, features: list[str], reference: Mapping[str, Any]) -> Any:
    changed = X.copy()
    for f in features:
        changed[f] = reference[f]
    return changed


def check_reason_codes_consistent(
    predict: Callable[[Any], Any],
    X: Any,
    reference: Mapping[str, Any],
    codes: list[list[tuple[str, float]]],
    *,
    tolerance: float = 1e-6,
    min_explained: float = 0.5,
    subject: str = "the sampled rows",
) -> list[CheckResult]:
    """Replay of each row's top code, and the codes' sum against the all-reference change (module doc)."""
    import numpy as np

    features = [c for c in X.columns if c in reference]
    base = np.asarray(predict(X), dtype=float).ravel()
    out: list[CheckResult] = []
    # (a) replay the top code of every row, the row scored alone
    off = []
    for i, row_codes in enumerate(codes):
        if not row_codes:
            continue
        feat, claimed = row_codes[0]
        row = X.iloc[[i]]
        now = float(np.asarray(predict(row), dtype=float).ravel()[0])
        moved = now - float(np.asarray(predict(_with(row, [feat], reference)), dtype=float).ravel()[0])
        if not abs(moved - claimed) <= tolerance:
            off.append((i, feat, claimed, moved))
    if off:
        i, feat, claimed, moved = off[0]
        msg = (
            f"reason codes of {subject}: {len(off)} of {len(codes)} top codes are not reproduced when "
            f"the row is scored alone (row {i}: {feat} claims {claimed:.4g}, setting it to its reference "
            f"moves the score by {moved:.4g}; tolerance {tolerance:g})"
        )
        out.append(CheckResult(CONCERN, "reason_codes_replay", False, msg, float(len(off)), 0.0, subject))
    else:
        msg = f"reason codes of {subject}: every top code reproduced within {tolerance:g} on the row alone"
        out.append(CheckResult(CONCERN, "reason_codes_replay", True, msg, 0.0, 0.0, subject))
    # (b) the codes explain the score: sum of contributions vs the all-reference change
    deltas = np.empty((len(X), len(features)))
    for j, f in enumerate(features):
        deltas[:, j] = base - np.asarray(predict(_with(X, [f], reference)), dtype=float).ravel()
    total = base - np.asarray(predict(_with(X, features, reference)), dtype=float).ravel()
    summed = deltas.sum(axis=1)
    ok_rows = np.isfinite(total) & np.isfinite(summed)
    if ok_rows.sum() < 3 or np.std(total[ok_rows]) == 0:
        n = int(ok_rows.sum())
        msg = f"reason codes of {subject}: additivity not judged (scores do not vary over {n} rows)"
        out.append(
            CheckResult(
                CONCERN, "reason_codes_explain", True, msg, None, min_explained, subject, judged=False
            )
        )
        return out
    t, s_ = total[ok_rows], summed[ok_rows]
    explained = float(1.0 - np.sum((t - s_) ** 2) / np.sum((t - t.mean()) ** 2))
    details = {"explained": explained, "rows": int(ok_rows.sum())}
    ok = explained >= min_explained
    msg = (
        f"reason codes of {subject}: the sum of a row's contributions "
        f"{'accounts' if ok else 'does not account'} for its score's change with every feature at its "
        f"reference (share explained {explained:.3g} {'>=' if ok else '<'} {min_explained:g} over "
        f"{int(ok_rows.sum())} rows)"
    )
    out.append(
        CheckResult(CONCERN, "reason_codes_explain", ok, msg, explained, min_explained, subject, details)
    )
    return out
