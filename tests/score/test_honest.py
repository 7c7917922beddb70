"""The honest paths still reach 20/20 with nothing failing: the credit example after a real
run of its generated suite (by its JUnit, then by its run record), `mlprod evaluate` after
it, and `mlprod demo`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "credit"
#: what a fresh checkout does not have: prepare, lock and record write them
FRESH = shutil.ignore_patterns(
    "__pycache__", ".pytest_cache", "*.pyc", "junit*.xml", "models", "logs", "train.csv", "test.csv",
    "current.csv", "mlprod.lock", "golden", "last-run.json",
)  # fmt: skip


def run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MLPROD_TODAY="2026-11-27", MPLBACKEND="Agg")
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("GIT_CEILING_DIRECTORIES", None)
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(args: list[str], cwd: Path) -> str:
    proc = run(args, cwd)
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def score(root: Path, *args: str) -> dict:
    proc = run([sys.executable, "-m", "mlprod", "score", "--format", "json", *args], root)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stdout
    return data


def assert_full_marks(data: dict) -> None:
    why = [(c["id"], c["why"]) for c in data["concerns"] if c["level"] < 2]
    assert data["total"] == 20, why
    assert data["failing"] == 0
    assert data["notes"] == []
    assert all(c["tests"]["failed"] == 0 for c in data["concerns"])


def test_the_credit_example_after_a_real_run_scores_20(tmp_path):
    root = tmp_path / "credit"
    shutil.copytree(EXAMPLE, root, ignore=FRESH)
    for step in (["prepare.py"], ["-m", "mlprod", "lock"], ["-m", "mlprod", "record"]):
        ok([sys.executable, *step], root)
    # Issue 14: the lock and the golden predictions are committed evidence, never ignored.
    gitignore = root / ".gitignore"
    lines = gitignore.read_text().splitlines(keepends=True)
    gitignore.write_text("".join(x for x in lines if x.strip() not in ("/mlprod.lock", "/tests/golden/")))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    ok([*git, "init", "-q"], root)
    ok([*git, "add", "-A"], root)
    ok([*git, "commit", "-q", "-m", "credit"], root)
    assert run([sys.executable, "-m", "mlprod", "generate", "--check"], root).returncode == 0

    junit = "reports/junit.xml"
    proc = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                "tests/mlprod", f"--junitxml={junit}"], root)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert_full_marks(score(root, "--results", junit))
    assert_full_marks(score(root))  # the run record of the same run

    ok([sys.executable, "-m", "mlprod", "evaluate"], root)  # timings change the evaluation
    assert_full_marks(score(root))


def test_the_demo_scores_20_with_nothing_failing(tmp_path):
    ok([sys.executable, "-m", "mlprod", "demo", str(tmp_path / "demo")], tmp_path)
    # The junit.xml of the CI job the demo ran (mlprod ci run), as CI would upload it.
    assert_full_marks(score(tmp_path / "demo", "--results", "reports/ci-run/junit.xml"))
