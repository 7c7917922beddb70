"""A model with no skill cannot pass the generated suite, even at the laxest bounds validate accepts.

The deployed model of a prepared credit copy is replaced by noise: its score is a hash of
the row (deterministic, independent of the label). Every bound of baseline and bias is
set as lax as `validate` allows (just inside the limits of schema/bounds.py; unbounded
statistics far out). At least one test of each concern must still fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from suitekit import mlprod, run_generated
from test_defects import failures, wrap_model

pytestmark = pytest.mark.slow

NOISE = """
def _defect(X, p):
    import numpy as np
    import pandas as pd

    h = pd.util.hash_pandas_object(X.reset_index(drop=True), index=False).to_numpy()
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)
"""

EPS = 1e-9


def _laxest(spec: dict) -> dict:
    """The example's spec with every baseline and bias bound at the laxest value validate accepts."""
    lax_rate = 1.0 - EPS  # a gap, difference or drop of a rate: 1 is refused
    base = spec["baseline"]
    base["min_lift"] = 0.0  # negative is refused
    base["previous"]["max_drop"] = lax_rate
    fair = spec["fairness"]
    fair["max_gap"] = {metric: lax_rate for metric in fair["max_gap"]}
    fair["min"] = {"roc_auc": 0.5 + EPS}  # 0.5 or less is refused
    fair["demographic_parity_difference"] = lax_rate
    fair["equalized_odds_difference"] = lax_rate
    drift = spec["drift"]
    for key in ("numeric", "categorical", "target"):
        drift[key]["max"] = 1e9  # PSI has no upper end: not capped
    drift["skew"]["max_change"] = 1.99  # quantile skewness lies in [-1, 1]: validate refuses 2
    return spec


def test_noise_fails_baseline_and_bias_at_the_laxest_bounds(credit_copy: Path) -> None:
    spec_path = credit_copy / "mlprod.yaml"
    spec = _laxest(yaml.safe_load(spec_path.read_text(encoding="utf-8")))
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    valid = mlprod(credit_copy, "validate")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    gen = mlprod(credit_copy, "generate")
    assert gen.returncode == 0, gen.stdout + gen.stderr
    wrap_model(credit_copy, NOISE)
    outcomes, _ = run_generated(credit_copy, "test_baseline.py", "test_bias.py")
    failed = failures(outcomes)
    baseline = sorted(n for n in failed if n.startswith("test_baseline.py"))
    bias = sorted(n for n in failed if n.startswith("test_bias.py"))
    assert baseline, f"noise passed every baseline test: {sorted(outcomes)}"
    assert bias, f"noise passed every bias test: {sorted(outcomes)}"
    # baseline: the dummies are not beaten beyond chance; bias: some group's ROC AUC is chance
    assert any("beyond chance" in failed[n] for n in baseline), {n: failed[n] for n in baseline}
    assert any("test_metric_minimum_in_every_group[" in n for n in bias), bias
