"""Prediction-log latency windows over an engine table (issue 17).

A window is structured filters on the timestamp column, then latency quantiles of the rows
in it, so the log never leaves the engine. ISO-8601 text stamps (what PredictionLogger
writes) are compared as text against "YYYY-MM-DD" day bounds: a stamp belongs to the day
its own wall clock shows, as `infrastructure.log_timestamps` counts it; a datetime column
is compared with datetimes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from typing import Any

from mlprod.engines import Filter, ScanRequest, Table

from .results import CheckResult, at_most, is_missing

CONCERN = "infrastructure"


def window(
    table: Table, timestamp: str, latency_ms: str, first: dt.date, last: dt.date, probs: list[float]
) -> tuple[int, list[float]]:
    """(rows with a latency, latency quantiles) of the log rows stamped on days first..last."""
    end = last + dt.timedelta(days=1)
    if table.kinds().get(timestamp) == "datetime":
        lo: Any = dt.datetime.combine(first, dt.time())
        hi: Any = dt.datetime.combine(end, dt.time())
    else:
        lo, hi = first.isoformat(), end.isoformat()
    where = (Filter(timestamp, ">=", lo), Filter(timestamp, "<", hi))
    scan = table.scan(ScanRequest(quantiles={latency_ms: probs}, stats=[latency_ms], where=where))
    st = scan.stats[latency_ms]
    return st.n - st.missing, [float(q) for q in scan.quantiles[latency_ms]]


def _missing_column(table: Table, timestamp: str, latency_ms: str) -> str | None:
    kinds = table.kinds()
    for col in (timestamp, latency_ms):
        if col not in kinds:
            return f"has no column {col!r} (columns: {', '.join(kinds)})"
    if kinds[latency_ms] != "numeric":
        return f"column {latency_ms!r} is not numeric ({kinds[latency_ms]})"
    return None


def check_log_growth_table(
    table: Table,
    *,
    timestamp: str = "ts",
    latency_ms: str = "latency_ms",
    max_growth_pct: float = 20.0,
    window_days: int = 7,
    today: dt.date,
    min_rows: int = 10,
    subject: str = "prediction log",
) -> CheckResult:
    """As `infrastructure.check_log_growth`: median latency of the last window vs the one before."""
    problem = _missing_column(table, timestamp, latency_ms)
    if problem:
        return CheckResult(
            CONCERN, "latency_growth", False, f"{subject} {problem}", None, max_growth_pct, subject
        )
    mid = today - dt.timedelta(days=window_days)
    n_recent, (m_recent,) = window(table, timestamp, latency_ms, mid + dt.timedelta(days=1), today, [0.5])
    n_before, (m_before,) = window(
        table, timestamp, latency_ms, mid - dt.timedelta(days=window_days - 1), mid, [0.5]
    )
    details: dict[str, Any] = {
        "recent_rows": n_recent,
        "previous_rows": n_before,
        "window_days": window_days,
        "today": today.isoformat(),
    }
    if n_recent < min_rows or n_before < min_rows:
        msg = (
            f"{subject} has too little data to judge latency growth ({n_recent} rows in the last "
            f"{window_days} days, {n_before} in the {window_days} days before; need {min_rows} each)"
        )
        return CheckResult(
            CONCERN, "latency_growth", True, msg, None, max_growth_pct, subject, details, judged=False
        )
    details.update(median_recent_ms=m_recent, median_previous_ms=m_before)
    if m_before > 0:
        growth = (m_recent / m_before - 1.0) * 100.0
    else:
        growth = 0.0 if m_recent == 0 else math.inf
    what = f"median latency growth in {subject} over the last {window_days} days, in %"
    res = at_most(
        CONCERN, "latency_growth", growth, float(max_growth_pct), what, subject=subject, details=details
    )
    if not is_missing(res.value):
        res = replace(res, message=f"{res.message} ({m_before:.3g} ms -> {m_recent:.3g} ms)")
    return res
