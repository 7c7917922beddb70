"""Load the deployed churn model. mlprod calls `load()` with no argument."""

from pathlib import Path

import joblib

ROOT = Path(__file__).resolve().parent.parent


def load(path: str | None = None):
    """Return the fitted model (an object with predict_proba)."""
    return joblib.load(ROOT / (path or "models/model.joblib"))
