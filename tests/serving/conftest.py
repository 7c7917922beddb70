"""Fixtures of the serving tests: a prepared credit example with a serving section, and its servers.

Servers listen on 127.0.0.1 only, on a free port, and are waited for with a bound.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "suites"))

from suitekit import EXAMPLE, FRESH, run, subprocess_env  # noqa: E402

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def server(root: Path, defect: str = "", health: str = "/health") -> Iterator[str]:
    """Start apps.make_app (examples/credit/serve.py, maybe with a defect); yield its base URL."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "--factory", "apps:make_app", "--app-dir", str(HERE)]
    args += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    env = subprocess_env(CREDIT_ROOT=str(root), SERVE_DEFECT=defect)
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _ready(url + health):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.communicate(timeout=10)[0]
                pytest.fail(f"the {defect or 'healthy'} server did not start:\n{out}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def served_credit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/credit copied, prepared, locked, recorded and generated (it declares `serving`)."""
    root = tmp_path_factory.mktemp("served") / "credit"
    shutil.copytree(EXAMPLE, root, ignore=FRESH)
    for args in (
        [sys.executable, "prepare.py"],
        [sys.executable, "-m", "mlprod", "lock"],
        [sys.executable, "-m", "mlprod", "record"],
        [sys.executable, "-m", "mlprod", "generate", "--force"],
    ):
        proc = run(args, root, timeout=300)
        assert proc.returncode == 0, f"{' '.join(args[1:])} failed:\n{proc.stdout}\n{proc.stderr}"
    assert (root / "tests" / "mlprod" / "test_serving.py").is_file()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return root


#: The example's p99 budget is 250 ms; a machine on which the healthy server's p99 is above
#: a fifth of it is too busy to judge latency (other work, not the server, sets the figure).
BUSY_P99_MS = 50.0


@pytest.fixture(scope="session")
def healthy_figures(served_credit: Path) -> dict[str, float]:
    """The healthy server's open-loop figures at the example's rate, measured once."""
    from mlprod.checks.serving_client import Endpoint
    from mlprod.checks.serving_load import LoadReport

    sys.path.insert(0, str(served_credit))
    import pandas as pd
    from credit.model import FEATURES

    from mlprod.checks.serving import run_load

    X = pd.read_csv(served_credit / "data" / "test.csv").loc[:100, FEATURES]
    with server(served_credit) as url:
        report: LoadReport = run_load(Endpoint(url), X, rate=20.0, duration_s=4.0, warmup_s=1.0)
    return {
        "p50_ms": report.percentile(50),
        "p99_ms": report.percentile(99),
        "errors": float(report.errors),
        "achieved_rps": report.achieved_rps,
    }


@pytest.fixture(scope="session")
def busy(healthy_figures: dict[str, float]) -> bool:
    """True when this machine is too loaded for the example's latency budget to mean anything."""
    return healthy_figures["p99_ms"] > BUSY_P99_MS
