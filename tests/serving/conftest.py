"""Fixtures of the serving tests: a prepared credit example with a serving section, and the
healthy server's figures (helpers in servekit.py)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "suites"))

from servekit import BUSY_P50_MS, BUSY_P99_MS, server  # noqa: E402
from suitekit import EXAMPLE, FRESH, run  # noqa: E402


def features(root: Path) -> list[str]:
    """data.features of the project's spec (read from the spec: the example's modules are not imported
    here, so later tests import their own copy of `credit`)."""
    from mlprod.schema import load_spec

    return list(load_spec(root / "mlprod.yaml").spec.data.features)


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


@pytest.fixture(scope="session")
def healthy_figures(served_credit: Path) -> dict[str, float]:
    """The healthy server's open-loop figures at the example's rate, measured once."""
    import pandas as pd

    from mlprod.checks.serving import run_load
    from mlprod.checks.serving_client import Endpoint
    from mlprod.checks.serving_load import LoadReport

    X = pd.read_csv(served_credit / "data" / "test.csv").loc[:100, features(served_credit)]
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
    return healthy_figures["p50_ms"] > BUSY_P50_MS or healthy_figures["p99_ms"] > BUSY_P99_MS
