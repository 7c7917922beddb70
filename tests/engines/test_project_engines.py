"""The generated tests' `Project` reads data sets through the spec's engine.

Data-only checks (feature drift, skew, target drift, drift within cohorts) give the pandas
numbers on a duckdb table; model-based checks get the engine's seeded sample of
`data.sample_rows` rows, the same rows every engine draws.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from enginekit import mixed_frame

from mlprod.checks.project import Project
from mlprod.engines.pandas import PandasEngine

N = 20_000
FEATURES = ["normal", "heavy", "levels", "cat", "city"]
SPEC_DRIFT = {"numeric": {"method": "psi", "max": 0.1}, "categorical": {"method": "psi", "max": 0.1}}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("proj")
    (root / "data").mkdir()
    mixed_frame(N, 1).to_parquet(root / "data" / "reference.parquet", index=False)
    half = mixed_frame(N, 2, shift=0.5)
    half.iloc[: N // 2].to_parquet(root / "data" / "current-1.parquet", index=False)
    half.iloc[N // 2 :].to_parquet(root / "data" / "current-2.parquet", index=False)
    return root


def _config(engines: dict | None) -> dict:
    cfg = {
        "task": "binary_classification",
        "target": "label",
        "id_column": "id",
        "features": FEATURES,
        "datasets": {"reference": "data/reference.parquet", "current": "data/current-*.parquet"},
        "seed": 3,
    }
    if engines:
        cfg["engines"] = engines
    return cfg


DUCK = {
    "engine": "duckdb",
    "sample_rows": 50,
    "datasets": {
        "reference": {"path": "data/reference.parquet"},
        "current": {"path": "data/current-*.parquet"},
    },
}


def test_drift_checks_match_pandas(root: Path) -> None:
    pandas_project, duck = Project(root, _config({**DUCK, "engine": "pandas"})), Project(root, _config(DUCK))
    assert duck.engine_name("current") == "duckdb" and pandas_project.engine_name("current") == "pandas"
    for f in FEATURES:
        want = pandas_project.check_feature_drift("reference", "current", f, **SPEC_DRIFT, skew=0.1)
        got = duck.check_feature_drift("reference", "current", f, **SPEC_DRIFT, skew=0.1)
        assert [(r.check, r.subject, r.passed) for r in want] == [(r.check, r.subject, r.passed) for r in got]
        assert [r.value for r in want] == pytest.approx([r.value for r in got], rel=1e-9, abs=1e-12)
    t_want = pandas_project.check_target_drift("reference", "current", method="psi", max=0.1)
    t_got = duck.check_target_drift("reference", "current", method="psi", max=0.1)
    assert t_want.value == pytest.approx(t_got.value, rel=1e-9) and t_want.passed == t_got.passed
    cohort = {"name": "cat", "by": "cat"}
    kw = {"min_rows": 500, **SPEC_DRIFT}
    c_want = pandas_project.check_cohort_drift("reference", "current", cohort, ["normal"], **kw)
    c_got = duck.check_cohort_drift("reference", "current", cohort, ["normal"], **kw)
    assert [r.value for r in c_want] == pytest.approx([r.value for r in c_got], rel=1e-9)


def test_model_checks_draw_the_same_sample(root: Path) -> None:
    duck = Project(root, _config(DUCK))
    sample = duck.dataset("current")
    assert len(sample) == 50
    whole = PandasEngine().from_path(str(root / "data" / "current-*.parquet"))
    assert sample["id"].tolist() == whole.sample(50, 3, id_column="id")["id"].tolist()
