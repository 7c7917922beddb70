"""Infrastructure: latency, batch time, peak memory, latency growth in a prediction log.

`PredictionLogger` wraps a model so a serving process writes the log that monitoring and
`check_log_growth` read (columns named by the spec's `infrastructure.log`).
"""

from __future__ import annotations

import hashlib
import json
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .results import CheckResult, at_most, is_missing

CONCERN = "infrastructure"


def _take_rows(X: Any, rows: int, start: int = 0) -> Any:
    """`rows` rows of X starting at `start`, wrapping around (repeating) when X is smaller."""
    import numpy as np

    n = len(X)
    if n == 0:
        raise ValueError("no rows to predict on")
    idx = (np.arange(rows) + start) % n
    return X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]


def measure_latency(
    predict: Callable[[Any], Any],
    X: Any,
    batch_size: int = 1,
    runs: int = 100,
    warmup: int = 5,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Time `runs` calls of `predict` on batches of `batch_size` rows (after `warmup` untimed calls).

    Batches cycle through X. Returns p50_ms, p95_ms, p99_ms, mean_ms, max_ms, runs, batch_size.
    """
    import numpy as np

    for i in range(warmup):
        predict(_take_rows(X, batch_size, i * batch_size))
    times = np.empty(runs, dtype=float)
    for i in range(runs):
        batch = _take_rows(X, batch_size, i * batch_size)  # built outside the timed section
        t0 = clock()
        predict(batch)
        times[i] = (clock() - t0) * 1000.0
    return {
        "p50_ms": float(np.percentile(times, 50)),
        "p95_ms": float(np.percentile(times, 95)),
        "p99_ms": float(np.percentile(times, 99)),
        "mean_ms": float(times.mean()),
        "max_ms": float(times.max()),
        "runs": float(runs),
        "batch_size": float(batch_size),
    }


def check_latency(
    predict: Callable[[Any], Any] | None = None,
    X: Any = None,
    batch_size: int = 1,
    runs: int = 100,
    warmup: int = 5,
    p50_ms: float | None = None,
    p95_ms: float | None = None,
    *,
    measured: dict[str, float] | None = None,
    subject: str = "model",
) -> list[CheckResult]:
    """p50 and p95 latency per batch within budget (pass `measured` to judge existing numbers)."""
    m = measured if measured is not None else measure_latency(predict, X, batch_size, runs, warmup)  # type: ignore[arg-type]
    out = []
    for key, limit in (("p50_ms", p50_ms), ("p95_ms", p95_ms)):
        if limit is None:
            continue
        name = key.removesuffix("_ms")
        out.append(
            at_most(
                CONCERN,
                f"latency_{name}",
                m.get(key),
                float(limit),
                f"{name} latency of {subject} for batches of {batch_size} rows ({runs} runs), in ms",
                subject=subject,
                details=dict(m),
            )
        )
    return out


def check_batch_time(
    predict: Callable[[Any], Any],
    X: Any,
    rows: int,
    max_ms: float,
    *,
    subject: str = "model",
    clock: Callable[[], float] = time.perf_counter,
) -> CheckResult:
    """Time to predict one batch of `rows` rows drawn from X (repeated when X is smaller); best of two."""
    batch = _take_rows(X, rows)
    predict(_take_rows(X, min(rows, 10)))  # warm-up: first-call costs are not the batch time
    best = float("inf")
    for _ in range(2):
        t0 = clock()
        predict(batch)
        best = min(best, (clock() - t0) * 1000.0)
    return at_most(
        CONCERN,
        "batch_time",
        best,
        float(max_ms),
        f"time to predict {rows} rows with {subject}, in ms",
        subject=subject,
        details={"rows": rows, "source_rows": len(X)},
    )


def check_memory(
    predict: Callable[[Any], Any], X: Any, rows: int, max_mb: float, *, subject: str = "model"
) -> CheckResult:
    """Peak memory added by predicting one batch of `rows` rows, as tracemalloc sees it.

    tracemalloc counts Python objects and numpy/pandas buffers (numpy reports its
    allocations to it); memory a native library allocates itself (LightGBM, XGBoost,
    ONNX Runtime, torch's C++ allocator, OpenMP thread buffers) is not seen, so for such
    models the number is a lower bound. `details["method"]` says so.
    """
    batch = _take_rows(X, rows)
    predict(_take_rows(X, min(rows, 10)))  # warm-up: lazy imports and caches are not the batch's memory
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        predict(batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    added_mb = max(peak - base, 0) / (1024 * 1024)
    return at_most(
        CONCERN,
        "memory",
        added_mb,
        float(max_mb),
        f"peak memory added by predicting {rows} rows with {subject}, in MB",
        subject=subject,
        details={"rows": rows, "method": "tracemalloc (Python and numpy allocations only)"},
    )


def log_timestamps(values: Any) -> Any:
    """Timestamps of a prediction log as naive datetimes on their own wall clock (NaT when unreadable).

    Days are counted where each row was logged: `2026-11-27T22:00:00-05:00` belongs to
    2026-11-27 (a UTC conversion would move it to the 28th and out of a window ending
    today). PredictionLogger writes local time with its offset; naive stamps are taken as
    they are. This keeps the windows independent of the timezone of the machine checking.
    """
    import pandas as pd

    s = pd.Series(values)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    # drop a UTC offset that follows a time of day (a date's "-27" is not an offset)
    offset = r"^(.*[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
    text = s.astype("string").str.strip().str.replace(offset, r"\1", regex=True)
    return pd.to_datetime(text, errors="coerce", format="ISO8601")


def check_log_growth(
    log_df: Any,
    *,
    timestamp: str = "ts",
    latency_ms: str = "latency_ms",
    max_growth_pct: float = 20.0,
    window_days: int = 7,
    today: date | str | None = None,
    min_rows: int = 10,
    subject: str | None = None,
) -> CheckResult:
    """Median latency in the last `window_days` vs the window before it grows by at most max_growth_pct.

    The last window is the `window_days` days up to and including today, each row counted
    on the day of its own wall clock (`log_timestamps`); too few rows in either window gives
    a result with judged=False (reported, not failed).
    """
    import pandas as pd

    from .release import parse_date
    from .release import today as _today

    subject = subject or "prediction log"
    for col in (timestamp, latency_ms):
        if col not in log_df.columns:
            return CheckResult(
                CONCERN,
                "latency_growth",
                False,
                f"{subject} has no column {col!r} (columns: {', '.join(map(str, log_df.columns))})",
                None,
                max_growth_pct,
                subject,
            )
    end_day = parse_date(today) if today is not None else _today()
    ts = log_timestamps(log_df[timestamp])
    lat = pd.to_numeric(log_df[latency_ms], errors="coerce")
    end = pd.Timestamp(end_day) + pd.Timedelta(days=1)  # include all of today
    mid = end - pd.Timedelta(days=window_days)
    start = mid - pd.Timedelta(days=window_days)
    recent = lat[(ts >= mid) & (ts < end)].dropna()
    before = lat[(ts >= start) & (ts < mid)].dropna()
    details = {
        "recent_rows": int(recent.size),
        "previous_rows": int(before.size),
        "window_days": window_days,
        "today": end_day.isoformat(),
    }
    if recent.size < min_rows or before.size < min_rows:
        return CheckResult(
            CONCERN,
            "latency_growth",
            True,
            f"{subject} has too little data to judge latency growth ({recent.size} rows in the last "
            f"{window_days} days, {before.size} in the {window_days} days before; need {min_rows} each)",
            None,
            max_growth_pct,
            subject,
            details,
            judged=False,
        )
    m_recent, m_before = float(recent.median()), float(before.median())
    details.update(median_recent_ms=m_recent, median_previous_ms=m_before)
    growth = (m_recent / m_before - 1.0) * 100.0 if m_before > 0 else (0.0 if m_recent == 0 else float("inf"))
    res = at_most(
        CONCERN,
        "latency_growth",
        growth,
        float(max_growth_pct),
        f"median latency growth in {subject} over the last {window_days} days, in %",
        subject=subject,
        details=details,
    )
    if not is_missing(res.value):
        from dataclasses import replace

        res = replace(res, message=f"{res.message} ({m_before:.3g} ms -> {m_recent:.3g} ms)")
    return res


class PredictionLogger:
    """Wrap a model; every predict/predict_proba call appends one log row per input row.

    Each row has: the timestamp column (ISO 8601, UTC, from `clock`), the latency column
    (the call's wall time in ms divided by the number of rows: per-row latency), `input_sha256`
    (sha256 of the row's values as JSON), `prediction` (the score: column 1 of a binary
    predict_proba, else the value), and `rows_in_call`. The log is CSV or JSONL by suffix
    (`.jsonl`/`.json` -> JSON lines, otherwise CSV with a header written once).
    """

    def __init__(
        self,
        model: Any,
        path: str | Path,
        *,
        method: str = "predict_proba",
        timestamp: str = "ts",
        latency_ms: str = "latency_ms",
        clock: Callable[[], datetime] | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.model = model
        self.path = Path(path)
        self.method = method
        self.timestamp = timestamp
        self.latency_ms = latency_ms
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.timer = timer
        self.jsonl = self.path.suffix.lower() in (".jsonl", ".json", ".ndjson")

    def predict_proba(self, X: Any) -> Any:
        """The model's predict_proba, logged."""
        return self._call("predict_proba", X)

    def predict(self, X: Any) -> Any:
        """The model's predict, logged."""
        return self._call("predict", X)

    def __getattr__(self, name: str) -> Any:  # everything else passes through to the model
        return getattr(self.model, name)

    def _call(self, method: str, X: Any) -> Any:
        import numpy as np

        t0 = self.timer()
        out = getattr(self.model, method)(X)
        elapsed_ms = (self.timer() - t0) * 1000.0
        arr = np.asarray(out)
        score = arr[:, 1] if arr.ndim == 2 and arr.shape[1] == 2 else arr
        n = len(score)
        stamp = self.clock().isoformat()
        per_row = elapsed_ms / n if n else elapsed_ms
        hashes = _row_hashes(X)
        records = [
            {
                self.timestamp: stamp,
                self.latency_ms: round(per_row, 6),
                "input_sha256": h,
                "prediction": _plain(s),
                "rows_in_call": n,
            }
            for h, s in zip(hashes, score.tolist() if hasattr(score, "tolist") else list(score), strict=False)
        ]
        self._append(records)
        return out

    def _append(self, records: list[dict[str, Any]]) -> None:
        import csv

        if not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.jsonl:
            with self.path.open("a", encoding="utf-8", newline="\n") as fh:
                for rec in records:
                    fh.write(json.dumps(rec, sort_keys=True) + "\n")
            return
        new = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(records[0]), lineterminator="\n")
            if new:
                writer.writeheader()
            writer.writerows(records)


def read_log(path: str | Path) -> Any:
    """Read a prediction log written by PredictionLogger (CSV or JSON lines, by suffix)."""
    import pandas as pd

    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path)


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _row_hashes(X: Any) -> list[str]:
    """sha256 of each row's values as compact JSON (column order as given)."""
    import numpy as np

    if hasattr(X, "itertuples"):
        rows = (list(r) for r in X.itertuples(index=False, name=None))
    else:
        arr = np.asarray(X)
        rows = (
            r.tolist() if hasattr(r, "tolist") else [r] for r in (arr if arr.ndim > 1 else arr.reshape(-1, 1))
        )
    return [
        hashlib.sha256(
            json.dumps([_plain(v) for v in r], default=str, separators=(",", ":")).encode()
        ).hexdigest()
        for r in rows
    ]
