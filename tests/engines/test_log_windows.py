"""Latency growth in a prediction log from the engine's windowed quantiles equals check_log_growth's."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from enginekit import engine_params, make_engine

from mlprod.checks.infrastructure import check_log_growth
from mlprod.checks.logs_tables import check_log_growth_table

TODAY = dt.date(2026, 11, 27)


def _log(n: int, slower: float) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    days = rng.integers(0, 20, n)
    hours = rng.integers(0, 24, n)
    offsets = rng.choice(["+01:00", "-05:00", "Z", ""], n)
    stamps = [
        f"{TODAY - dt.timedelta(days=int(d))}T{int(h):02d}:30:00{o}"
        for d, h, o in zip(days, hours, offsets, strict=True)
    ]
    latency = rng.lognormal(1.0, 0.5, n) * np.where(days < 7, slower, 1.0)
    return pd.DataFrame({"ts": stamps, "latency_ms": latency})


@pytest.mark.parametrize("engine", engine_params())
@pytest.mark.parametrize("slower", [1.0, 1.5])
def test_growth_matches_the_pandas_check(engine, slower, tmp_path):
    log = _log(30_000, slower)
    path = tmp_path / "log.parquet"
    log.to_parquet(path, index=False)
    want = check_log_growth(log, max_growth_pct=20.0, today=TODAY)
    eng = make_engine(engine)
    try:
        got = check_log_growth_table(eng.from_path(str(path)), max_growth_pct=20.0, today=TODAY)
    finally:
        eng.close()
    assert (want.passed, want.judged) == (got.passed, got.judged)
    assert got.passed is (slower == 1.0)
    assert want.value == pytest.approx(got.value, rel=1e-9)
    assert want.details["recent_rows"] == got.details["recent_rows"]
    assert want.details["previous_rows"] == got.details["previous_rows"]
