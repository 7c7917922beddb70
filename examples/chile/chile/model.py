"""The deployed vote-intention model: its features, classes and how to load it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib

# The project root: the folder holding mlprod.yaml, data/ and models/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The only columns the model may see (data.features in mlprod.yaml), in spec order. The
# respondent's sex is in the data but not a feature: it is a sensitive attribute the
# cohort checks watch, never a model input.
FEATURES: list[str] = ["region", "population", "education", "age", "income", "statusquo"]
NUMERIC: list[str] = ["population", "age", "income", "statusquo"]
CATEGORICAL: list[str] = [name for name in FEATURES if name not in NUMERIC]

TARGET = "vote"
# A: will abstain, N: will vote no, U: undecided, Y: will vote yes (sorted, as the model's classes_).
CLASSES: list[str] = ["A", "N", "U", "Y"]
ID_COLUMN = "respondent_id"
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
