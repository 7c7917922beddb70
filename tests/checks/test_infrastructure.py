"""Infrastructure: latency percentiles, batch time, peak memory, log growth, the prediction logger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlprod.checks.infrastructure import (
    PredictionLogger,
    check_batch_time,
    check_latency,
    check_log_growth,
    check_memory,
    measure_latency,
    read_log,
)


class FakeClock:
    """perf_counter stand-in: predict() advances it by the next scripted duration (seconds)."""

    def __init__(self, durations):
        self.t = 0.0
        self.durations = iter(durations)
        self.batches = []

    def __call__(self):
        return self.t

    def predict(self, batch):
        self.batches.append(len(batch))
        self.t += next(self.durations)
        return np.zeros(len(batch))


def test_latency_percentiles_match_numpy():
    durations_ms = np.random.default_rng(0).uniform(1, 30, size=50)
    warmup = 3
    clock = FakeClock([0.0] * warmup + list(durations_ms / 1000))
    X = pd.DataFrame({"a": range(7)})
    m = measure_latency(clock.predict, X, batch_size=4, runs=50, warmup=warmup, clock=clock)
    assert m["p50_ms"] == pytest.approx(np.percentile(durations_ms, 50))
    assert m["p95_ms"] == pytest.approx(np.percentile(durations_ms, 95))
    assert set(clock.batches) == {4}  # batches cycle through X, wrapping around


def test_check_latency_judges_p50_and_p95():
    measured = {"p50_ms": 10.0, "p95_ms": 60.0}
    p50, p95 = check_latency(batch_size=1, runs=200, p50_ms=15, p95_ms=50, measured=measured)
    assert p50.passed and p50.check == "latency_p50"
    assert not p95.passed and "60 > 50" in p95.message
    (nan,) = check_latency(p50_ms=15, measured={"p50_ms": float("nan")})
    assert not nan.passed


def test_real_latency_runs_on_a_model():
    X = np.random.default_rng(0).normal(size=(50, 3))
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    results = check_latency(model.predict_proba, X, batch_size=1, runs=20, warmup=2, p50_ms=1000, p95_ms=1000)
    assert all(r.passed for r in results), [r.message for r in results]


def test_batch_time_repeats_rows_and_fails_when_slow():
    clock = FakeClock([0.0, 0.5, 0.4])  # warm-up, then two timed runs: best is 400 ms
    res = check_batch_time(clock.predict, pd.DataFrame({"a": range(30)}), rows=1000, max_ms=250, clock=clock)
    assert clock.batches == [10, 1000, 1000]
    assert not res.passed and res.value == pytest.approx(400)
    clock = FakeClock([0.0, 0.1, 0.2])
    assert check_batch_time(clock.predict, np.zeros((3, 2)), rows=5, max_ms=250, clock=clock).passed


def test_memory_measures_the_batch_allocation():
    def predict(batch):
        return np.ones((len(batch), 1000)).sum(axis=1)  # 8 kB per row

    X = np.zeros((100, 2))
    res = check_memory(predict, X, rows=1000, max_mb=1.0)  # ~7.6 MB
    assert not res.passed and 7 < res.value < 20
    assert check_memory(predict, X, rows=1000, max_mb=100).passed


def _log(days_latency: dict[int, float], today="2026-11-27", per_day=5):
    end = datetime.fromisoformat(today)
    rows = []
    for back, lat in days_latency.items():
        for k in range(per_day):
            rows.append({"ts": (end - timedelta(days=back, hours=k)).isoformat(), "latency_ms": lat + k})
    return pd.DataFrame(rows)


def test_log_growth_compares_window_medians():
    df = _log({**{d: 10.0 for d in range(7, 14)}, **{d: 20.0 for d in range(0, 7)}})
    res = check_log_growth(df, max_growth_pct=20, window_days=7, today="2026-11-27")
    recent = df[pd.to_datetime(df.ts) > pd.Timestamp("2026-11-21")]["latency_ms"].median()
    before = df[pd.to_datetime(df.ts) <= pd.Timestamp("2026-11-21")]["latency_ms"].median()
    assert res.value == pytest.approx((recent / before - 1) * 100)
    assert not res.passed and "ms ->" in res.message
    flat = check_log_growth(_log(dict.fromkeys(range(14), 10.0)), today="2026-11-27")
    assert flat.passed and flat.value == 0


def test_log_growth_too_little_data_is_not_judged():
    res = check_log_growth(_log({1: 10.0}, per_day=3), today="2026-11-27")
    assert res.judged is False and "too little data" in res.message
    res = check_log_growth(pd.DataFrame({"when": [], "latency_ms": []}), today="2026-11-27")
    assert not res.passed and "no column 'ts'" in res.message


def test_log_growth_uses_mlprod_today(monkeypatch):
    monkeypatch.setenv("MLPROD_TODAY", "2026-11-27")
    df = _log({**{d: 10.0 for d in range(7, 14)}, **{d: 30.0 for d in range(0, 7)}})
    assert not check_log_growth(df).passed


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_prediction_logger_writes_the_log_monitoring_reads(tmp_path, suffix):
    X = pd.DataFrame({"a": [0.0, 1.0, -1.0], "b": [1.0, 2.0, 3.0]})
    model = LogisticRegression().fit(X, [0, 1, 0])
    t0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
    stamps = iter([t0, t0 + timedelta(days=1)])
    ticks = iter([0.0, 0.003, 10.0, 10.006])  # 3 ms then 6 ms per call
    path = tmp_path / "logs" / f"predictions{suffix}"
    logged = PredictionLogger(
        model, path, timestamp="when", latency_ms="lat", clock=lambda: next(stamps), timer=lambda: next(ticks)
    )
    np.testing.assert_array_equal(logged.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(logged.predict(X.iloc[:2]), model.predict(X.iloc[:2]))
    assert logged.classes_.tolist() == [0, 1]  # other attributes pass through
    log = read_log(path)
    assert len(log) == 5
    assert log["lat"].tolist() == pytest.approx([1.0] * 3 + [3.0] * 2)  # per-row latency
    assert log["when"].iloc[0] == t0.isoformat()
    np.testing.assert_allclose(log["prediction"].iloc[:3], model.predict_proba(X)[:, 1])
    assert log["input_sha256"].iloc[0] != log["input_sha256"].iloc[1]
    assert log["input_sha256"].iloc[0] == log["input_sha256"].iloc[3]  # same row, same hash
    if suffix == ".csv":
        assert path.read_text().count("input_sha256") == 1  # header once
    else:
        assert json.loads(path.read_text().splitlines()[0])["rows_in_call"] == 3
    res = check_log_growth(
        log, timestamp="when", latency_ms="lat", today="2026-11-21", min_rows=1, window_days=1
    )
    assert res.judged and not res.passed and res.value == pytest.approx(200)


def test_log_days_are_counted_on_the_wall_clock_of_each_row():
    # PredictionLogger writes local time with its offset; a row logged late today west of UTC
    # is today's row, whatever the timezone of the machine that checks the log
    from mlprod.checks.infrastructure import log_timestamps

    rows = [{"ts": f"2026-11-{d:02d}T22:30:00-05:00", "latency_ms": 10.0} for d in range(14, 21)]
    rows += [{"ts": f"2026-11-{d:02d}T22:30:00-05:00", "latency_ms": 30.0} for d in range(21, 28)]
    res = check_log_growth(pd.DataFrame(rows), today="2026-11-27", min_rows=7)
    assert res.judged and res.details["recent_rows"] == 7 and res.details["previous_rows"] == 7
    assert not res.passed and res.value == pytest.approx(200)
    naive = pd.DataFrame({"ts": ["2026-11-27", "2026-11-27 23:59:59", "2026-11-28T00:30:00Z"]})
    assert log_timestamps(naive["ts"]).dt.day.tolist() == [27, 27, 28]
