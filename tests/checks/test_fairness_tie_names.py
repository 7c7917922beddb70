"""A gap between equal group values names two different groups, never one group twice."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlprod.checks.cohorts import cohort_groups
from mlprod.checks.fairness import check_demographic_parity


def test_equal_selection_rates_name_two_groups() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"sex": ["f"] * 50 + ["m"] * 50})
    y = rng.integers(0, 2, 100)
    scores = np.ones(100)  # every row selected: the rates tie at 1.0
    groups = cohort_groups(df, {"name": "sex", "by": "sex"})
    res = check_demographic_parity(y, scores, groups, 0.1, min_rows=30)
    assert res.passed and res.value == 0.0
    assert "(f 1.00, m 1.00)" in res.message, res.message
