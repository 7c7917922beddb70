"""The open-loop latency check against a real (trivial) HTTP server on 127.0.0.1, with and without stalls.

The server answers every request at once, except that it stalls all processing for
300 ms every 2 s. At 20 requests/s for 6 s, three stalls each delay one request by more
than 250 ms (the schedule is 50 ms apart), so 3 of 120 requests (2.5 %) are over 250 ms:
p99 fails while p50 passes. The same server without stalls passes. Its handler costs next
to nothing, so this holds on a busy machine too (unlike the credit model's server).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
from servekit import free_port

from mlprod.checks.serving import check_served_latency

SERVER = textwrap.dedent(
    """
    import asyncio, sys, time

    STALL = sys.argv[2] == "stall"
    BODY = b'{"predictions": [[0.5, 0.5]]}'
    HEAD = b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\n"
    HEAD += b"content-length: %d\\r\\n\\r\\n" % len(BODY)

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\\r\\n\\r\\n")
                length = 0
                for line in head.split(b"\\r\\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                phase = time.monotonic() % 2.0
                if STALL and phase < 0.3:
                    await asyncio.sleep(0.3 - phase)
                writer.write(HEAD + BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=512)
        async with server:
            await server.serve_forever()

    asyncio.run(main())
    """
)
SERVING = {
    "protocol": "records",
    "health_path": "/health",
    "timeout_s": 5.0,
    "load": {"rate_per_s": 20.0, "duration_s": 6.0, "warmup_s": 1.0},
    "budget": {"p50_ms": 100.0, "p95_ms": 250.0, "p99_ms": 250.0, "max_error_rate": 0.0},
}


def _results(mode: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    import socket

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), mode])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the trivial server did not start")
                time.sleep(0.05)
        monkeypatch.setenv("MODEL_URL", f"http://127.0.0.1:{port}")
        X = pd.DataFrame({"x": range(10)})
        return {r.check: r for r in check_served_latency(SERVING, X)}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_stalls_fail_p99_and_pass_p50(monkeypatch: pytest.MonkeyPatch) -> None:
    results = _results("stall", monkeypatch)
    p99, p50 = results["served_p99"], results["served_p50"]
    assert not p99.passed and p99.value is not None and p99.value > 250, p99.message
    assert p50.passed, p50.message
    assert results["served_error_rate"].passed
    assert p99.details["requests"] == 120


def test_without_stalls_every_figure_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    # A machine that itself stalls the processes for over 250 ms (other work on a shared
    # runner) makes a healthy run fail, correctly measured; a second run must then pass.
    # The stall test above needs no such allowance: stalls only add latency.
    for attempt in (1, 2):
        results = _results("healthy", monkeypatch)
        if all(r.passed for r in results.values()) or attempt == 2:
            break
    assert all(r.passed for r in results.values()), [r.message for r in results.values()]
    assert abs(results["served_p50"].details["achieved_rps"] - 20.0) < 1.0
