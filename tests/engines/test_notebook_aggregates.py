"""The drift notebook's views on a duckdb data set come from aggregates, never from the rows.

The distribution plot of an engine table is the drift check's compared bins (their shares
checked here against pandas' own value counts of the whole files), and the skewness table
is `check_skew` on the engine's quantiles (equal to the pandas table).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from enginekit import mixed_frame

from mlprod.checks import monitoring as mon
from mlprod.checks.project import Project

N = 20_000
FEATURES = ["normal", "heavy", "levels", "cat", "city"]
LIMITS = {
    "numeric": {"method": "psi", "max": 0.1},
    "categorical": {"method": "psi", "max": 0.1},
    "skew": 0.1,
}
DUCK = {
    "engine": "duckdb",
    "sample_rows": 50,
    "datasets": {
        "reference": {"path": "data/reference.parquet"},
        "current": {"path": "data/current-*.parquet"},
    },
}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    pytest.importorskip("duckdb")
    root = tmp_path_factory.mktemp("nb")
    (root / "data").mkdir()
    mixed_frame(N, 1).to_parquet(root / "data" / "reference.parquet", index=False)
    cur = mixed_frame(N, 2, shift=0.5)
    cur.iloc[: N // 2].to_parquet(root / "data" / "current-1.parquet", index=False)
    cur.iloc[N // 2 :].to_parquet(root / "data" / "current-2.parquet", index=False)
    return root


def _project(root: Path, engine: str) -> Project:
    cfg = {
        "task": "binary_classification",
        "target": "label",
        "id_column": "id",
        "features": FEATURES,
        "datasets": {"reference": "data/reference.parquet", "current": "data/current-*.parquet"},
        "seed": 3,
        "engines": {**DUCK, "engine": engine},
    }
    return Project(root, cfg)


def _no_rows(*_a, **_k):
    raise AssertionError("the notebook view loaded rows of an engine table")


def _drift(project: Project) -> dict[str, object]:
    results = [project.check_feature_drift("reference", "current", f, **LIMITS) for f in FEATURES]
    return {r.subject: r for rs in results for r in rs if r.check == "feature_drift"}


def test_duckdb_views_use_no_rows(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    duck = _project(root, "duckdb")
    monkeypatch.setattr(duck, "dataset", _no_rows)
    assert mon.frames(duck, "reference", "current") == (None, None)
    drifts = _drift(duck)
    for f in FEATURES:
        fig = mon.plot_distribution(drifts[f], None, None, f)
        bars = [p for p in fig.axes[0].patches]
        assert len(bars) == 2 * len(drifts[f].details["shares"]["labels"]) > 0
    table = mon.skew_table_for(duck, "reference", "current", FEATURES, LIMITS["skew"]).data
    assert set(table["feature"]) == {"normal", "heavy", "levels"}


def test_bin_shares_equal_pandas_counts_of_the_files(root: Path) -> None:
    ref = pd.read_parquet(root / "data" / "reference.parquet")
    cur = pd.concat([pd.read_parquet(p) for p in sorted((root / "data").glob("current-*.parquet"))])
    shares = _drift(_project(root, "duckdb"))["cat"].details["shares"]
    for side, df in (("reference", ref), ("current", cur)):
        expected = df["cat"].fillna("<missing>").value_counts(normalize=True)
        got = dict(zip(shares["labels"], shares[side], strict=True))
        for label, share in expected.items():
            key = label if label in got else next(k for k in got if "missing" in k.lower())
            assert got[key] == pytest.approx(share, abs=1e-12)
        assert sum(shares[side]) == pytest.approx(1.0, abs=1e-12)


def test_skew_table_same_on_every_engine_and_as_the_row_table(root: Path) -> None:
    pandas_project, duck = _project(root, "pandas"), _project(root, "duckdb")
    ref, cur = mon.frames(pandas_project, "reference", "current")
    assert ref is not None and cur is not None
    rows = mon.skew_table(ref, cur, FEATURES, LIMITS["skew"]).data.set_index("feature")
    for project in (pandas_project, duck):
        agg = mon.skew_table_for(project, "reference", "current", FEATURES, LIMITS["skew"]).data
        agg = agg.set_index("feature")
        assert list(agg.index) == list(rows.index)
        for col in ("reference", "current", "change", "moment_reference", "moment_current"):
            np.testing.assert_allclose(agg[col].astype(float), rows[col].astype(float), rtol=1e-9, atol=1e-12)
        assert list(agg["status"]) == list(rows["status"])


def test_pandas_keeps_the_density_plots(root: Path) -> None:
    pandas_project = _project(root, "pandas")
    ref, cur = mon.frames(pandas_project, "reference", "current")
    drift = _drift(pandas_project)["normal"]
    fig = mon.plot_distribution(drift, ref, cur, "normal")
    assert fig.axes[0].get_ylabel() == "density"
