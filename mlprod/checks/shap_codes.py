"""SHAP values for models that take string (categorical) features.

`shap.Explainer(f, X)` with a DataFrame holding strings fails inside SHAP's maskers
(`TypeError: unsupported operand type(s) for -: 'str' and 'str'`): they do arithmetic on
the background data. Here every non-numeric column is replaced by integer codes (one code
per distinct value of the background and explained rows, in sorted order) before SHAP
sees the data, and the function SHAP calls decodes the codes back to the original values
before calling the model. A feature keeps one SHAP value per row, whatever the model's own
encoding (one-hot, ordinal, native categories), and masking a feature still means "take
the background row's value", so the values are SHAP's own interventional Shapley values.
"""

from __future__ import annotations

from typing import Any

from mlprod.errors import UsageError


class Codec:
    """Numeric columns as floats, the others as integer codes, and back."""

    def __init__(self, *frames: Any) -> None:
        import pandas as pd

        first = frames[0]
        self.columns = [str(c) for c in first.columns]
        self.dtypes = {c: first[c].dtype for c in first.columns}
        self.categories: dict[Any, list[Any]] = {}
        for c in first.columns:
            if first[c].dtype.kind not in "biuf":
                values = pd.concat([f[c] for f in frames]).dropna().unique().tolist()
                self.categories[c] = sorted(values, key=str)

    def encode(self, X: Any) -> Any:
        import numpy as np

        out = np.empty((len(X), len(X.columns)), dtype=float)
        for j, c in enumerate(X.columns):
            if c in self.categories:
                index = {v: i for i, v in enumerate(self.categories[c])}
                out[:, j] = [index.get(v, np.nan) for v in X[c]]
            else:
                out[:, j] = X[c].to_numpy(dtype=float)
        return out

    def decode(self, Z: Any) -> Any:
        import numpy as np
        import pandas as pd

        data: dict[Any, Any] = {}
        for j, (c, dtype) in enumerate(self.dtypes.items()):
            col = np.asarray(Z[:, j], dtype=float)
            if c in self.categories:
                cats = self.categories[c]
                data[c] = pd.Series([cats[int(v)] if v == v else None for v in col], dtype=dtype)
            elif dtype.kind in "iu" and not np.isnan(col).any():
                data[c] = col.astype(dtype)
            else:
                data[c] = col
        return pd.DataFrame(data)


def shap_values(
    model: Any,
    rows: Any,
    background: Any,
    predict_method: str = "predict_proba",
    *,
    multiclass: bool = False,
    class_label: Any = None,
) -> Any:
    """SHAP values (rows x features) of the model's score for `rows`, against `background`.

    Multiclass: SHAP values of every class's probability, and per row those of its predicted
    class (or of `class_label`). Raises UsageError when shap is not installed.
    """
    try:
        import shap
    except ImportError as exc:
        raise UsageError("SHAP values need the shap package", hint="pip install shap") from exc
    import numpy as np

    from .loading import predict_scores

    codec = Codec(background, rows)
    masker = shap.maskers.Independent(codec.encode(background), max_samples=len(background))

    def score(Z: Any) -> Any:
        out = predict_scores(model, codec.decode(np.atleast_2d(Z)), predict_method, multiclass=multiclass)
        return np.asarray(out, dtype=float)

    explainer = shap.Explainer(score, masker, feature_names=codec.columns)
    values = np.asarray(explainer(codec.encode(rows), silent=True).values, dtype=float)
    if not multiclass:
        return values
    proba = predict_scores(model, rows, predict_method, multiclass=True)
    cols = np.argmax(np.asarray(proba), axis=1)
    if class_label is not None:
        from .metrics_multiclass import label_text

        texts = [label_text(c) for c in proba.classes]
        if label_text(class_label) not in texts:
            raise UsageError(f"class_label {class_label!r} is not a class of the model ({', '.join(texts)})")
        cols[:] = texts.index(label_text(class_label))
    return values[np.arange(len(rows)), :, cols]


def shap_reason_codes(
    model: Any,
    rows: Any,
    background: Any,
    top_k: int = 3,
    predict_method: str = "predict_proba",
    *,
    multiclass: bool = False,
    class_label: Any = None,
) -> list[list[tuple[str, float]]]:
    """Per row, the top_k (feature, SHAP value) pairs by absolute value (ties: column order);
    multiclass: of the row's predicted class (or `class_label`)."""
    import numpy as np

    values = shap_values(
        model, rows, background, predict_method, multiclass=multiclass, class_label=class_label
    )
    columns = [str(c) for c in rows.columns]
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top_k]
    return [[(columns[j], float(values[i, j])) for j in order[i]] for i in range(len(rows))]


def shap_importance(
    model: Any,
    X: Any,
    background: Any,
    predict_method: str = "predict_proba",
    *,
    multiclass: bool = False,
    class_label: Any = None,
) -> dict[str, float]:
    """Mean |SHAP value| per feature over the rows of `X` (multiclass: of each row's predicted class)."""
    import numpy as np

    values = shap_values(model, X, background, predict_method, multiclass=multiclass, class_label=class_label)
    return dict(zip(map(str, X.columns), np.abs(values).mean(axis=0).tolist(), strict=True))
