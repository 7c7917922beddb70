"""`mlprod demo` end to end (slow, but run in CI): the whole value in one command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end_and_scores_at_least_18(tmp_path):
    env = dict(os.environ, MLPROD_TODAY="2026-11-27", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    folder = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "mlprod", "demo", str(folder)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    for step in ("prepare", "lock", "record", "generate", "evaluate", "generated tests"):
        assert step in out, step
    assert "MODEL_CARD.md" in out  # says what to open next

    score = subprocess.run(
        [sys.executable, "-m", "mlprod", "score", "--results", "reports/junit.xml", "--format", "json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    report = json.loads(score.stdout)
    assert report["total"] >= 18, score.stdout
    assert report["passed"] is True
    assert all(c["tests"]["failed"] == 0 for c in report["concerns"]), score.stdout
    # the demo's repository has everything committed
    status = subprocess.run(["git", "status", "--porcelain"], cwd=folder, capture_output=True, text=True)
    assert status.stdout.strip() == ""

    again = subprocess.run(
        [sys.executable, "-m", "mlprod", "demo", str(folder)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 3
    assert "already holds an mlprod project" in again.stderr
