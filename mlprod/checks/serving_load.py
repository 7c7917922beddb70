"""An open-loop load generator: requests on a fixed schedule, latency from the intended send time.

A closed loop (the next request waits for the previous answer, as Locust's users do) hides
queueing delay: while the server stalls, the loop stops sending, so the stall is sampled
once instead of once per request that real traffic would have sent (coordinated omission).
Here request `i` is due at `start + i / rate` whatever happened before; it is sent at that
time (or as soon as the generator can), and its latency is measured from the *intended*
time, so a stall shows up in every request it delays.

The clock and the sleep are injectable: `VirtualTime` runs the same generator in simulated
time against a simulated server, which makes the coordinated-omission comparison exact and
independent of the machine's load (tests/serving/test_loadgen.py).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

#: One request: its index in the schedule -> True when it succeeded.
Send = Callable[[int], Awaitable[bool]]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class LoadReport:
    """What a load run measured (warm-up requests excluded)."""

    target_rps: float
    achieved_rps: float  # requests actually sent per second over the measured window
    sent: int
    errors: int
    latencies_ms: list[float] = field(default_factory=list)  # of the successful requests
    overhead_ms: float = 0.0  # mean lag of actual behind intended send time (the generator's own delay)

    @property
    def error_rate(self) -> float:
        return self.errors / self.sent if self.sent else math.nan

    def percentile(self, q: float) -> float:
        """The q-th percentile (0-100) of the successful latencies, NaN without any."""
        if not self.latencies_ms:
            return math.nan
        import numpy as np

        return float(np.percentile(self.latencies_ms, q))


def schedule_size(rate: float, seconds: float) -> int:
    """How many requests `seconds` at `rate` per second are: at least one when seconds > 0."""
    return max(1, round(rate * seconds)) if seconds > 0 else 0


async def open_loop(
    send: Send,
    rate: float,
    duration_s: float,
    warmup_s: float = 0.0,
    *,
    timeout_s: float = 5.0,
    clock: Clock = time.perf_counter,
    sleep: Sleep = asyncio.sleep,
) -> LoadReport:
    """Send `rate` requests a second for `warmup_s + duration_s` on a fixed schedule.

    Each request gets at most `timeout_s` after its intended time plus its own timeout in
    `send`; requests still unanswered `timeout_s` after the last one was due count as errors.
    The number of requests and the total time are bounded by the arguments.
    """
    warm, measured = schedule_size(rate, warmup_s), schedule_size(rate, duration_s)
    total = warm + measured
    start = clock()
    latencies: list[float] = []
    errors = 0
    lags: list[float] = []
    first_sent = last_sent = start

    async def one(i: int, due: float) -> None:
        nonlocal errors
        try:
            ok = await send(i)
        except Exception:  # a failed request is an error of the server under test, not ours
            ok = False
        if i < warm:
            return
        if ok:
            latencies.append((clock() - due) * 1000.0)
        else:
            errors += 1

    tasks: list[asyncio.Task[None]] = []
    for i in range(total):
        due = start + i / rate
        wait = due - clock()
        if wait > 0:
            await sleep(wait)
        now = clock()
        if i >= warm:
            lags.append(now - due)
            if i == warm:
                first_sent = now
            last_sent = now
        tasks.append(asyncio.ensure_future(one(i, due)))
    # Drain: at most timeout_s (on the injected clock) after the last request was due.
    deadline = asyncio.ensure_future(sleep(max(start + (total - 1) / rate + timeout_s - clock(), 0.0)))
    everything = asyncio.ensure_future(asyncio.wait(tasks))
    await asyncio.wait({deadline, everything}, return_when=asyncio.FIRST_COMPLETED)
    deadline.cancel()
    everything.cancel()
    unanswered = [i for i, t in enumerate(tasks) if not t.done()]
    for i in unanswered:
        tasks[i].cancel()
    await asyncio.gather(*(tasks[i] for i in unanswered), return_exceptions=True)
    errors += sum(1 for i in unanswered if i >= warm)
    span = last_sent - first_sent + 1.0 / rate
    return LoadReport(
        target_rps=rate,
        achieved_rps=measured / span if measured else 0.0,
        sent=measured,
        errors=errors,
        latencies_ms=latencies,
        overhead_ms=1000.0 * sum(lags) / len(lags) if lags else 0.0,
    )


async def closed_loop(
    send: Send,
    rate: float,
    count: int,
    *,
    clock: Clock = time.perf_counter,
    sleep: Sleep = asyncio.sleep,
) -> LoadReport:
    """The comparison: one user that waits for each answer, paced at `rate`, timing from the send.

    This is how closed-loop tools measure; it exists to show what open_loop corrects.
    """
    start = clock()
    latencies: list[float] = []
    errors = 0
    for i in range(count):
        wait = start + i / rate - clock()
        if wait > 0:
            await sleep(wait)
        sent = clock()
        try:
            ok = await send(i)
        except Exception:
            ok = False
        if ok:
            latencies.append((clock() - sent) * 1000.0)
        else:
            errors += 1
    span = clock() - start
    return LoadReport(rate, count / span if span > 0 else math.nan, count, errors, latencies)


class VirtualTime:
    """Simulated time for asyncio code that only waits through `self.sleep`.

    `run(coro)` executes `coro` on a real event loop; whenever every task is waiting on a
    virtual sleep, time jumps to the earliest wake-up. Same code, same result, every run.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self.now + max(seconds, 0.0), next(self._seq), fut))
        await fut

    def run(self, coro: Awaitable[LoadReport], *, max_steps: int = 1_000_000) -> LoadReport:
        async def drive() -> LoadReport:
            main = asyncio.ensure_future(coro)
            for _ in range(max_steps):
                for _ in range(20):  # let every woken task run until it waits again
                    await asyncio.sleep(0)
                if main.done():
                    return main.result()
                if not self._heap:
                    raise RuntimeError("simulation stuck: no task is sleeping and the run is not done")
                wake, _, fut = heapq.heappop(self._heap)
                self.now = max(self.now, wake)
                if not fut.done():  # a cancelled sleep stays cancelled
                    fut.set_result(None)
            raise RuntimeError("simulation did not finish")

        return asyncio.run(drive())
