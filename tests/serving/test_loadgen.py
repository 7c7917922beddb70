"""The open-loop generator in simulated time: coordinated omission, exactly and on any machine.

A simulated single-worker server answers in 5 ms, except that it stalls all processing
for 300 ms every 2 s (requests arriving then wait for the stall to end, and queue). The
same `open_loop` and `closed_loop` code as against a real server runs on `VirtualTime`.
The reference latencies are computed independently below, from the queue's definition.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlprod.checks.serving_load import LoadReport, VirtualTime, closed_loop, open_loop, schedule_size

SERVICE_S, PERIOD_S, STALL_S = 0.005, 2.0, 0.3


def stalling_server(vt: VirtualTime, calls: list[float] | None = None):
    """FIFO server with one worker; no work starts inside a stall window."""
    free = [0.0]

    async def send(i: int) -> bool:
        now = vt.clock()
        if calls is not None:
            calls.append(now)
        start = max(now, free[0])
        if start % PERIOD_S < STALL_S:
            start += STALL_S - start % PERIOD_S
        free[0] = start + SERVICE_S
        await vt.sleep(free[0] - now)
        return True

    return send


def queue_reference(arrivals: np.ndarray) -> np.ndarray:
    """Latency (ms) of each arrival of the same queue, by the recurrence, without asyncio."""
    out, free = [], 0.0
    for a in arrivals:
        start = max(a, free)
        if start % PERIOD_S < STALL_S:
            start += STALL_S - start % PERIOD_S
        free = start + SERVICE_S
        out.append((free - a) * 1000)
    return np.asarray(out)


def test_closed_loop_under_reports_p99_and_open_loop_does_not() -> None:
    rate, seconds = 50.0, 10.0
    vt = VirtualTime()
    opened = vt.run(open_loop(stalling_server(vt), rate, seconds, clock=vt.clock, sleep=vt.sleep))
    vt = VirtualTime()
    closed = vt.run(
        closed_loop(stalling_server(vt), rate, int(rate * seconds), clock=vt.clock, sleep=vt.sleep)
    )
    # What traffic at 50 req/s really experiences: every request on the schedule, queued.
    truth = queue_reference(np.arange(int(rate * seconds)) / rate)
    assert opened.percentile(99) == pytest.approx(np.percentile(truth, 99), abs=1e-6)
    assert opened.percentile(50) == pytest.approx(np.percentile(truth, 50), abs=1e-6)
    assert opened.percentile(99) > 250  # the stall, seen by every request it delays
    # The closed loop sends nothing while it waits, so each stall is one slow sample.
    assert closed.percentile(99) < 0.2 * opened.percentile(99)
    assert sum(lat > 100 for lat in closed.latencies_ms) == 5  # one per stall in 10 s
    assert closed.percentile(50) == pytest.approx(opened.percentile(50), abs=1.0)


def test_requests_go_out_on_the_fixed_schedule_and_are_bounded() -> None:
    vt = VirtualTime()
    calls: list[float] = []
    report = vt.run(open_loop(stalling_server(vt, calls), 40.0, 3.0, 0.5, clock=vt.clock, sleep=vt.sleep))
    assert len(calls) == schedule_size(40, 3.0) + schedule_size(40, 0.5) == 140
    np.testing.assert_allclose(calls, np.arange(140) / 40.0, atol=1e-12)  # not held back by the stalls
    assert report.sent == 120 and report.errors == 0 and len(report.latencies_ms) == 120
    assert report.achieved_rps == pytest.approx(40.0)
    assert report.overhead_ms == pytest.approx(0.0)


def test_unanswered_requests_count_as_errors_after_the_timeout() -> None:
    vt = VirtualTime()

    async def hangs_after_ten(i: int) -> bool:
        await vt.sleep(0.001 if i < 10 else 3600.0)
        return True

    report = vt.run(open_loop(hangs_after_ten, 10.0, 2.0, clock=vt.clock, sleep=vt.sleep, timeout_s=1.0))
    assert report.sent == 20 and report.errors == 10 and report.error_rate == 0.5
    assert vt.now < 3.0 + 1e-9  # bounded: the last request was due at 1.9 s, plus the 1 s timeout


def test_failures_and_exceptions_are_errors_and_warmup_is_not_measured() -> None:
    vt = VirtualTime()

    async def flaky(i: int) -> bool:
        await vt.sleep(0.002)
        if i % 4 == 3:
            raise ConnectionError("reset")
        return i % 4 != 2

    report = vt.run(open_loop(flaky, 20.0, 1.0, 1.0, clock=vt.clock, sleep=vt.sleep))
    assert report.sent == 20 and report.errors == 10 and len(report.latencies_ms) == 10
    assert report.latencies_ms == pytest.approx([2.0] * 10)


def test_an_empty_report_is_nan_not_zero() -> None:
    report = LoadReport(10.0, 0.0, 0, 0)
    assert np.isnan(report.percentile(99)) and np.isnan(report.error_rate)
