"""Per-cohort metrics from a table of labels and scores equal metrics.group_metrics (AUC within its bound)."""

from __future__ import annotations

import numpy as np
import pytest
from enginekit import engine_params, make_engine, mixed_frame

from mlprod.checks.cohort_metrics_tables import cohort_metrics_table
from mlprod.checks.cohorts import cohort_groups
from mlprod.checks.metrics import group_metrics

METRICS = [
    "accuracy",
    "precision",
    "recall",
    "false_positive_rate",
    "selection_rate",
    "balanced_accuracy",
    "roc_auc",
]
COHORTS = [{"name": "cat", "by": "cat"}, {"name": "age_band", "by": "age", "bins": [18, 40, 80]}]


@pytest.mark.parametrize("engine", engine_params())
def test_metrics_per_group(engine, tmp_path):
    frame = mixed_frame(50_000, 9)
    rng = np.random.default_rng(0)
    frame["score"] = np.clip(frame["label"] * 0.3 + rng.random(len(frame)) * 0.7, 0, 1)
    path = tmp_path / "scored.parquet"
    frame.to_parquet(path, index=False)
    eng = make_engine(engine)
    try:
        table = eng.from_path(str(path))
        for cohort in COHORTS:
            got = cohort_metrics_table(table, cohort, "label", "score", METRICS, threshold=0.5)
            groups = cohort_groups(frame, cohort)
            want = group_metrics(frame["label"], frame["score"], groups.codes, groups.n_groups, METRICS)
            assert list(got) == groups.labels
            for i, g in enumerate(groups.labels):
                for m in METRICS[:-1]:
                    assert got[g][m] == pytest.approx(want[i][m], rel=1e-12), (g, m)
                bound = got[g]["roc_auc_bound"]
                assert 0 < bound < 1e-3
                assert abs(got[g]["roc_auc"] - want[i]["roc_auc"]) <= bound + 1e-12
    finally:
        eng.close()
