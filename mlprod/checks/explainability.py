"""Explainability: global importances (permutation, coefficients, SHAP) and local reason codes.

Reason codes are local (DESIGN.md): for a row, the change of its score when one feature is
set to its reference value (median for numeric columns, mode otherwise). The contribution of
feature f to row r is `score(r) - score(r with f at its reference)`: positive pushes the
score up. One predict call per feature covers all rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from mlprod.errors import UsageError

from .results import CheckResult

CONCERN = "explainability"
METHODS = ("permutation", "coefficients", "shap")


def _final_estimator(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _coefficient_importance(model: Any, columns: list[str]) -> dict[str, float]:
    import numpy as np

    est = _final_estimator(model)
    if not hasattr(est, "coef_"):
        raise UsageError(
            f"method `coefficients` needs a linear model; {type(est).__name__} has no coef_",
            hint="use method: permutation",
        )
    coef = np.abs(np.asarray(est.coef_, dtype=float))
    coef = (
        coef.reshape(-1) if coef.ndim == 1 or coef.shape[0] == 1 else coef.mean(axis=0)
    )  # multiclass: mean |coef|
    if len(coef) == len(columns) and getattr(model, "steps", None) is None:
        return dict(zip(columns, coef.tolist(), strict=True))
    names: list[str] | None = None
    steps = getattr(model, "steps", None)
    if steps and len(steps) > 1:
        try:
            names = [str(n) for n in model[:-1].get_feature_names_out()]
        except Exception:  # a transformer without feature names
            names = None
    elif hasattr(est, "feature_names_in_"):
        names = [str(n) for n in est.feature_names_in_]
    if names is None or len(names) != len(coef):
        if len(coef) == len(columns):
            return dict(zip(columns, coef.tolist(), strict=True))
        raise UsageError(f"cannot map {len(coef)} coefficients to the {len(columns)} input features")
    # Map transformed names ("num__age", "cat__housing_rent") back to input columns:
    # strip the transformer prefix, then the longest input column the name starts with.
    by_len = sorted(columns, key=len, reverse=True)
    out = dict.fromkeys(columns, 0.0)
    mapped = 0
    for name, c in zip(names, coef.tolist(), strict=True):
        bare = name.split("__", 1)[1] if "__" in name else name
        col = next((col for col in by_len if bare == col or bare.startswith(col + "_")), None)
        if col is not None:
            out[col] += c
            mapped += 1
    if mapped == 0:
        return dict(zip(names, coef.tolist(), strict=True))
    return out


def _score_fn(metric: str, predict_method: str, threshold: float) -> Callable[[Any, Any, Any], float]:
    from .baseline import higher_is_better
    from .loading import predict_scores
    from .metrics import compute_metric

    sign = 1.0 if higher_is_better(metric) else -1.0  # permutation_importance wants "greater is better"

    def scorer(estimator: Any, X: Any, y: Any) -> float:
        return sign * compute_metric(
            metric, y, predict_scores(estimator, X, predict_method), threshold=threshold
        )

    return scorer


def global_importance(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    method: str = "permutation",
    metric: str = "roc_auc",
    predict_method: str = "predict_proba",
    seed: int | None = None,
    n_repeats: int = 5,
    threshold: float = 0.5,
    score: Callable[[Any], Any] | None = None,
    class_label: Any = None,
) -> dict[str, float]:
    """Importance per input feature, sorted from most to least important.

    permutation: mean decrease of `metric` (sklearn.inspection.permutation_importance; y must
    be 0/1 for classification metrics), or, with `score` (multiclass: the probability of each
    row's predicted class, `class_score_fn`), the mean |change| of that score. coefficients:
    |coef| of a linear model, summed over the encoded columns of each input feature (mean over
    classes for multiclass). shap: mean |SHAP value| of the score (needs shap).
    """
    import numpy as np

    columns = [str(c) for c in getattr(X, "columns", range(np.shape(X)[1]))]
    if method == "permutation":
        from sklearn.inspection import permutation_importance

        if y is None and score is None:
            raise UsageError("permutation importance needs the target")
        scoring = (
            score_change_scorer(score, X)
            if score is not None
            else _score_fn(metric, predict_method, threshold)
        )
        res = permutation_importance(
            model,
            X,
            np.zeros(len(X)) if y is None else np.asarray(y),
            scoring=scoring,
            n_repeats=n_repeats,
            random_state=seed,
        )
        values = dict(zip(columns, res.importances_mean.astype(float).tolist(), strict=True))
    elif method == "coefficients":
        values = _coefficient_importance(model, columns)
    elif method == "shap":
        values = _shap_importance(
            model, X, predict_method, multiclass=score is not None, class_label=class_label
        )
    else:
        raise UsageError(f"unknown importance method {method!r} (known: {', '.join(METHODS)})")
    return dict(sorted(values.items(), key=lambda kv: (-_sort_key(kv[1]), kv[0])))


def _sort_key(v: float) -> float:
    return -math.inf if v is None or math.isnan(v) else v


def _shap_importance(
    model: Any, X: Any, predict_method: str, *, multiclass: bool = False, class_label: Any = None
) -> dict[str, float]:
    try:
        import shap  # noqa: F401 - imported here so a missing package is a clear error
    except ImportError as exc:
        raise UsageError(
            "method `shap` needs the shap package", hint="pip install shap, or use permutation"
        ) from exc
    from .shap_codes import shap_importance

    # String features are coded for SHAP's maskers (shap_codes); at most 100 background rows.
    background = X.sample(min(len(X), 100), random_state=0) if len(X) > 100 else X
    return shap_importance(
        model, X, background, predict_method, multiclass=multiclass, class_label=class_label
    )


def check_importances_computed(importances: dict[str, float], *, subject: str = "model") -> CheckResult:
    """Global importances exist and are finite for every feature."""
    bad = sorted(f for f, v in importances.items() if v is None or not math.isfinite(v))
    if not importances or bad:
        why = "none were computed" if not importances else f"not finite for {', '.join(bad[:5])}"
        return CheckResult(
            CONCERN,
            "importances_computed",
            False,
            f"global importances of {subject}: {why}",
            float(len(bad)),
            0.0,
            subject,
            {"importances": importances},
        )
    top = next(iter(sorted(importances.items(), key=lambda kv: -kv[1])))
    return CheckResult(
        CONCERN,
        "importances_computed",
        True,
        f"global importances of {subject} computed for {len(importances)} features (top: {top[0]})",
        float(len(importances)),
        None,
        subject,
        {"importances": importances},
    )


def check_expected_top(importances: dict[str, float], expect_top: Iterable[str], top_k: int) -> CheckResult:
    """Each expected feature ranks within the top k; the message names the missing ones and their ranks."""
    ranked = [f for f, _ in sorted(importances.items(), key=lambda kv: (-_sort_key(kv[1]), kv[0]))]
    top = ranked[:top_k]
    nan = [f for f, v in importances.items() if v is None or not math.isfinite(v)]
    expected = list(expect_top)
    misses = []
    for feat in expected:
        if feat not in importances:
            misses.append(f"{feat} has no importance (not a model feature?)")
        elif feat in nan:
            misses.append(f"{feat} has a NaN importance")
        elif feat not in top:
            misses.append(f"{feat} ranks {ranked.index(feat) + 1} of {len(ranked)}")
    details = {
        "top": top,
        "expected": expected,
        "ranks": {f: ranked.index(f) + 1 for f in expected if f in ranked},
    }
    if misses:
        return CheckResult(
            CONCERN,
            "expected_top",
            False,
            f"expected features not in the top {top_k}: {'; '.join(misses)} (top: {', '.join(top)})",
            float(len(misses)),
            0.0,
            ", ".join(expected),
            details,
        )
    return CheckResult(
        CONCERN,
        "expected_top",
        True,
        f"{', '.join(expected)} in the top {top_k} features (top: {', '.join(top)})"
        if expected
        else f"top {top_k} features not judged: no expected feature is named",
        0.0,
        0.0,
        ", ".join(expected),
        details,
        judged=bool(expected),
    )


def class_score_fn(predict: Callable[[Any], Any], X: Any, class_label: Any = None) -> Callable[[Any], Any]:
    """The multiclass score to explain, `rows -> 1-D`: the probability of `class_label`, or of
    each row's predicted class in `X` (rows of `X` and its copies, matched by index label).

    `predict` returns a `ClassProba`; any other output is returned as is (a 1-D score).
    """
    import numpy as np
    import pandas as pd

    from .metrics_multiclass import label_text

    proba = predict(X)
    classes = getattr(proba, "classes", None)
    if classes is None or np.ndim(proba) != 2:
        return predict
    if class_label is not None:
        texts = [label_text(c) for c in classes]
        if label_text(class_label) not in texts:
            raise UsageError(
                f"explainability.class_label {class_label!r} is not a class of the model (classes: "
                f"{', '.join(texts)})"
            )
        col = texts.index(label_text(class_label))
        return lambda Z: np.asarray(predict(Z), dtype=float)[:, col]
    if not X.index.is_unique:
        raise UsageError("rows to explain need a unique index (it identifies each row's predicted class)")
    chosen = pd.Series(np.argmax(np.asarray(proba, dtype=float), axis=1), index=X.index)

    def score(Z: Any) -> Any:
        cols = chosen.reindex(Z.index).to_numpy(dtype=float)
        if np.isnan(cols).any():
            raise UsageError("rows to explain must come from the rows whose predicted class was fixed")
        P = np.asarray(predict(Z), dtype=float)
        return P[np.arange(len(P)), cols.astype(int)]

    return score


def score_change_scorer(score: Callable[[Any], Any], X: Any) -> Callable[[Any, Any, Any], float]:
    """A permutation scorer whose importance is the mean |change| of `score` over the rows of `X`
    when one feature is permuted (the baseline scores 0, a permuted copy minus that change)."""
    import numpy as np

    base = np.asarray(score(X), dtype=float)

    def scorer(estimator: Any, Xp: Any, y: Any) -> float:
        return -float(np.mean(np.abs(np.asarray(score(Xp), dtype=float) - base)))

    return scorer


def reference_values(X: Any) -> dict[str, Any]:
    """Per column: the median of a numeric column, else the mode (smallest on ties); NaN if all missing."""
    import pandas as pd

    out: dict[str, Any] = {}
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            med = s.median()
            out[col] = float(med) if pd.notna(med) else float("nan")
            if pd.api.types.is_integer_dtype(s) and pd.notna(med) and float(med).is_integer():
                out[col] = int(med)  # keep integer columns integer for models that check dtypes
        else:
            modes = s.mode(dropna=True)
            out[col] = modes.iloc[0] if len(modes) else float("nan")
    return out


def reason_codes(
    predict: Callable[[Any], Any], X_rows: Any, reference: dict[str, Any], top_k: int = 3
) -> list[list[tuple[str, float]]]:
    """Per row, the top_k (feature, contribution) pairs by absolute contribution.

    contribution = score(row) - score(row with that feature set to its reference value).
    """
    import numpy as np

    features = [c for c in X_rows.columns if c in reference]
    if not features or len(X_rows) == 0:
        return [[] for _ in range(len(X_rows))]
    base = np.asarray(predict(X_rows), dtype=float).ravel()
    deltas = np.empty((len(X_rows), len(features)), dtype=float)
    for j, feat in enumerate(features):
        changed = X_rows.copy()
        changed[feat] = reference[feat]
        deltas[:, j] = base - np.asarray(predict(changed), dtype=float).ravel()
    # Rank by |delta| descending; NaN last; ties keep column order (stable sort).
    key = np.where(np.isnan(deltas), -1.0, np.abs(deltas))
    order = np.argsort(-key, axis=1, kind="stable")[:, :top_k]
    return [[(str(features[j]), float(deltas[i, j])) for j in order[i]] for i in range(len(X_rows))]


def check_reason_codes(
    codes: list[list[tuple[str, float]]],
    top_k: int,
    *,
    n_features: int | None = None,
    subject: str = "the sampled rows",
) -> CheckResult:
    """Every row has min(top_k, n_features) reason codes, all finite."""
    want = min(top_k, n_features) if n_features is not None else top_k
    bad_rows = [
        i
        for i, row in enumerate(codes)
        if len(row) < want or any(v is None or not math.isfinite(v) for _, v in row)
    ]
    if not codes:
        return CheckResult(
            CONCERN, "reason_codes", False, f"no reason codes were computed for {subject}", 0.0, None, subject
        )
    if bad_rows:
        first = bad_rows[0]
        return CheckResult(
            CONCERN,
            "reason_codes",
            False,
            f"reason codes of {subject}: {len(bad_rows)} of {len(codes)} rows lack {want} finite codes "
            f"(first: row {first}, "
            f"codes {codes[first]})",
            float(len(bad_rows)),
            0.0,
            subject,
            {"rows": bad_rows[:20]},
        )
    return CheckResult(
        CONCERN,
        "reason_codes",
        True,
        f"reason codes of {subject}: all {len(codes)} rows have {want} finite codes",
        0.0,
        0.0,
        subject,
        {"rows": len(codes)},
    )
