"""The deployed credit model: its feature list and how to load it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib

# The project root: the folder holding mlprod.yaml, data/ and models/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The only columns the model may see (data.features in mlprod.yaml), in spec order.
FEATURES: list[str] = [
    "status_of_existing_checking_account",
    "duration_in_month",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings_account_and_bonds",
    "present_employment_since",
    "installment_rate_in_percentage_of_disposable_income",
    "property",
    "age_in_years",
    "housing",
    "job",
]
NUMERIC: list[str] = [
    "duration_in_month",
    "credit_amount",
    "installment_rate_in_percentage_of_disposable_income",
    "age_in_years",
]
CATEGORICAL: list[str] = [name for name in FEATURES if name not in NUMERIC]

TARGET = "default"
ID_COLUMN = "application_id"
MODEL_PATH = Path("models") / "model.joblib"


def load_model(path: str | Path | None = None) -> Any:
    """Load a fitted model with joblib.

    Without an argument, load the deployed model (models/model.joblib). A relative `path`
    (for example an earlier version in the registry) is resolved against the project root.
    """
    target = Path(path) if path is not None else MODEL_PATH
    if not target.is_absolute():
        target = PROJECT_ROOT / target
    if not target.is_file():
        raise FileNotFoundError(f"no model artifact at {target}; run `python prepare.py` first")
    return joblib.load(target)
