"""DuckDB's skewness() raises "SKEW is out of range" when its sums of powers overflow (a
Cauchy-like tail); the engine then measures moment skewness from central moments instead
of failing the whole scan (the drift of every column)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from mlprod.engines.base import ScanRequest

duckdb = pytest.importorskip("duckdb")


def test_overflowing_skewness_does_not_fail_the_scan() -> None:
    from mlprod.engines import create

    rng = np.random.default_rng(0)
    x = np.r_[rng.exponential(1.0, 5000), 1e103, -5e102]
    df = pd.DataFrame({"x": x, "y": np.r_[rng.exponential(1.0, 5000), 0.5, 0.5], "k": np.full(5002, 3.0)})
    with pytest.raises(duckdb.Error, match="SKEW is out of range"):
        duckdb.connect().execute("SELECT skewness(x) FROM df").fetchall()
    stats = create("duckdb").from_frame(df).scan(ScanRequest(stats=["x", "y", "k"])).stats
    with np.errstate(over="ignore"):
        assert math.isinf(stats["x"].skew) and math.isinf(scipy.stats.skew(x))
    assert stats["x"].max == 1e103 and stats["x"].min == -5e102
    assert stats["y"].skew == pytest.approx(scipy.stats.skew(df["y"]), rel=1e-9)
    assert stats["k"].skew == 0.0
