"""The stages of the credit pipeline, in the order mlprod.yaml chains them.

ingest -> build_features -> train -> predict. Each stage takes and returns plain data
(DataFrames, a fitted scikit-learn Pipeline, an array), so mlprod's generated tests can
run each one on a sample and chain them end to end.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .model import CATEGORICAL, FEATURES, NUMERIC, TARGET

# Columns every extract of the applications table carries (train, test and current).
REQUIRED = [*FEATURES, TARGET, "sex"]
# Inverse regularisation strength of the deployed model (1.0.0), chosen by 5-fold
# cross-validated ROC AUC on the training split among 0.03, 0.1, 0.3, 1 and 3.
DEFAULT_C = 0.1


def ingest(df: pd.DataFrame) -> pd.DataFrame:
    """Validate an applications extract and return a normalised copy.

    The extracts already carry the derived columns (`default`, `sex`, `application_id`);
    this stage checks they are present and complete, strips stray whitespace from text
    columns and gives numeric columns an integer dtype. Rows are never dropped.
    """
    missing = [name for name in REQUIRED if name not in df.columns]
    if missing:
        raise ValueError(f"applications extract lacks columns: {', '.join(missing)}")
    out = df.copy()
    for name in [*CATEGORICAL, "sex"]:
        out[name] = out[name].astype(str).str.strip()
    for name in NUMERIC:
        if out[name].isna().any():
            raise ValueError(f"column {name} has missing values")
        out[name] = out[name].astype("int64")
    if out[TARGET].isna().any():
        raise ValueError(f"target column {TARGET} has missing values")
    out[TARGET] = out[TARGET].astype("int64")
    return out


def build_features(df: pd.DataFrame) -> pd.DataFrame:
    """Keep only the model's features (plus the target when present).

    Everything else is dropped here, so neither personal data (names, emails, phones) nor
    sensitive attributes (sex, personal status, foreign worker) reach the model. Rows and
    their order are preserved.
    """
    missing = [name for name in FEATURES if name not in df.columns]
    if missing:
        raise ValueError(f"cannot build features, missing columns: {', '.join(missing)}")
    keep = FEATURES + ([TARGET] if TARGET in df.columns else [])
    out = df.loc[:, keep].copy()
    if out.isna().any().any():
        raise ValueError("feature table has missing values")
    return out


def make_model(seed: int = 42, *, features: Sequence[str] = FEATURES, C: float = DEFAULT_C) -> Pipeline:
    """An unfitted model: one-hot categories, scaled numbers, logistic regression.

    The transformer selects its columns by name and drops the rest, so the fitted model
    accepts any extract that has the feature columns.
    """
    categorical = [name for name in features if name in CATEGORICAL]
    numeric = [name for name in features if name in NUMERIC]
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), numeric),
        ],
        remainder="drop",
    )
    # lbfgs is deterministic; the seed is passed for solvers that shuffle.
    classifier = LogisticRegression(C=C, max_iter=1000, random_state=seed)
    return Pipeline([("encode", encode), ("classify", classifier)])


def train(
    features_df: pd.DataFrame, seed: int = 42, *, features: Sequence[str] = FEATURES, C: float = DEFAULT_C
) -> Pipeline:
    """Fit the model on a feature table that includes the target column."""
    if TARGET not in features_df.columns:
        raise ValueError(f"training needs the target column {TARGET}")
    model = make_model(seed, features=features, C=C)
    model.fit(features_df.loc[:, list(features)], features_df[TARGET].to_numpy())
    return model


def predict(model: Pipeline, features_df: pd.DataFrame) -> np.ndarray:
    """Probabilities of default, one per row, in [0, 1]."""
    return model.predict_proba(features_df)[:, 1]
