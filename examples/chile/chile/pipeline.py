"""The stages of the vote-intention pipeline, in the order mlprod.yaml chains them.

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

from .model import CATEGORICAL, CLASSES, FEATURES, NUMERIC, TARGET

# Columns every extract of the survey carries (train, test and current).
REQUIRED = [*FEATURES, TARGET, "sex"]
# Integer-valued columns (the survey codes population, age and income as whole numbers).
INTEGER = ["population", "age", "income"]
# Inverse regularisation strength of the deployed model (1.0.0): scikit-learn's default.
# 5-fold cross-validated macro F1 on the training split is flat from C = 0.3 to 3 (0.520 to
# 0.521; 0.03: 0.508), so the default stays (scripts/measure.py prints the table).
DEFAULT_C = 1.0
# 1.0.0 weights each class by the inverse of its frequency: without it the model never
# predicts the rarest class, A (abstain), as 0.9.0 did not.
DEFAULT_CLASS_WEIGHT: str | None = "balanced"


def ingest(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a survey extract and return a normalised copy.

    The extracts already carry the derived column `respondent_id` and no missing values
    (prepare.py keeps complete answers only); this stage checks the columns are present and
    complete, strips stray whitespace from text columns and gives integer columns an
    integer dtype. Rows are never dropped.
    """
    missing = [name for name in REQUIRED if name not in df.columns]
    if missing:
        raise ValueError(f"survey extract lacks columns: {', '.join(missing)}")
    out = df.copy()
    for name in [*CATEGORICAL, "sex", TARGET]:
        if out[name].isna().any():
            raise ValueError(f"column {name} has missing values")
        out[name] = out[name].astype(str).str.strip()
    for name in NUMERIC:
        if out[name].isna().any():
            raise ValueError(f"column {name} has missing values")
    for name in INTEGER:
        out[name] = out[name].astype("int64")
    out["statusquo"] = out["statusquo"].astype("float64")
    unknown = sorted(set(out[TARGET]) - set(CLASSES))
    if unknown:
        raise ValueError(f"target column {TARGET} has unknown classes: {', '.join(unknown)}")
    return out


def build_features(df: pd.DataFrame) -> pd.DataFrame:
    """Keep only the model's features (plus the target when present).

    Everything else is dropped here, so neither personal data (names, phones) nor the
    sensitive attribute `sex` reaches the model. Rows and their order are preserved.
    """
    missing = [name for name in FEATURES if name not in df.columns]
    if missing:
        raise ValueError(f"cannot build features, missing columns: {', '.join(missing)}")
    keep = FEATURES + ([TARGET] if TARGET in df.columns else [])
    out = df.loc[:, keep].copy()
    if out.isna().any().any():
        raise ValueError("feature table has missing values")
    return out


def make_model(
    seed: int = 42,
    *,
    features: Sequence[str] = FEATURES,
    C: float = DEFAULT_C,
    class_weight: str | None = DEFAULT_CLASS_WEIGHT,
) -> Pipeline:
    """An unfitted model: one-hot categories, scaled numbers, multinomial logistic regression.

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
    # lbfgs fits one multinomial (softmax) model over the four classes and is deterministic;
    # the seed is passed for solvers that shuffle.
    classifier = LogisticRegression(C=C, class_weight=class_weight, max_iter=2000, random_state=seed)
    return Pipeline([("encode", encode), ("classify", classifier)])


def train(
    features_df: pd.DataFrame,
    seed: int = 42,
    *,
    features: Sequence[str] = FEATURES,
    C: float = DEFAULT_C,
    class_weight: str | None = DEFAULT_CLASS_WEIGHT,
) -> Pipeline:
    """Fit the model on a feature table that includes the target column."""
    if TARGET not in features_df.columns:
        raise ValueError(f"training needs the target column {TARGET}")
    model = make_model(seed, features=features, C=C, class_weight=class_weight)
    model.fit(features_df.loc[:, list(features)], features_df[TARGET].to_numpy())
    return model


def predict(model: Pipeline, features_df: pd.DataFrame) -> np.ndarray:
    """Class probabilities, one row per input row and one column per class (A, N, U, Y)."""
    return model.predict_proba(features_df)
