"""NaN in a Parquet file is a missing value on the duckdb engine, as on pandas.

DuckDB's statistics propagation folds `isnan(x)` to false when the file's min/max statistics
(which leave NaN out) say the column holds none; the engine turns that optimizer off.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlprod.checks.drift import feature_drift
from mlprod.engines.base import ScanRequest

pytest.importorskip("duckdb")


def test_nan_in_parquet_counts_as_missing(tmp_path: Path) -> None:
    from mlprod.engines import create

    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.exponential(2.0, 50_000)})
    cur = pd.DataFrame({"x": rng.exponential(2.0, 50_000)})
    ref.loc[rng.random(50_000) < 0.02, "x"] = np.nan
    cur.loc[rng.random(50_000) < 0.30, "x"] = np.nan  # drift in missingness only
    import pyarrow as pa
    import pyarrow.parquet as pq

    # written by pyarrow itself (as data pipelines do): its statistics leave NaN out
    pq.write_table(pa.table({"x": ref["x"].to_numpy()}), tmp_path / "ref.parquet")
    pq.write_table(pa.table({"x": cur["x"].to_numpy()}), tmp_path / "cur.parquet")
    engine = create("duckdb")
    r, c = engine.from_path(str(tmp_path / "ref.parquet")), engine.from_path(str(tmp_path / "cur.parquet"))
    stats = r.scan(ScanRequest(stats=["x"])).stats["x"]
    assert stats.missing == int(ref["x"].isna().sum()) > 0
    assert np.isfinite(stats.max) and stats.max == pytest.approx(ref["x"].max())
    spec = {"method": "psi", "max": 0.1}
    duck = feature_drift(r, c, ["x"], numeric=spec)[0]
    pandas = feature_drift(ref, cur, ["x"], numeric=spec)[0]
    assert not pandas.passed and not duck.passed
    assert duck.value == pytest.approx(pandas.value, rel=1e-9)
