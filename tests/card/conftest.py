"""A prepared, evaluated copy of the credit example, shared by the model card tests.

`evaluated_credit` copies examples/credit without anything generated, runs `prepare.py`,
then `mlprod evaluate --no-latency --html card.html` once per session. Tests that change
files copy it again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "credit"
TODAY = "2026-11-27"
GENERATED_TOP = {"tests", ".github", ".gitlab-ci.yml", "monitoring", "MODEL_CARD.md", ".mlprod", "deploy"}
GENERATED_TOP |= {"models", "logs", "mlprod.lock"}
GENERATED_ANY = {"__pycache__", ".pytest_cache", "train.csv", "test.csv", "current.csv", "junit.xml"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    top = Path(folder).resolve() == EXAMPLE.resolve()
    return {n for n in names if n in GENERATED_ANY or (top and n in GENERATED_TOP)}


def run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A command in `cwd` with today pinned and one OpenMP thread."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLPROD_TODAY": TODAY, "MPLBACKEND": "Agg"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def mlprod(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "mlprod", *args], root)


@pytest.fixture(scope="session")
def evaluated_credit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/credit copied (sources only), prepared and evaluated once per session."""
    root = tmp_path_factory.mktemp("card") / "credit"
    shutil.copytree(EXAMPLE, root, ignore=_ignore)
    proc = run([sys.executable, "prepare.py"], root)
    assert proc.returncode == 0, proc.stderr
    proc = mlprod(root, "evaluate", "--no-latency", "--html", "card.html")
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    return root


@pytest.fixture
def credit_copy(evaluated_credit: Path, tmp_path: Path) -> Path:
    """A fresh copy of the evaluated example, free to be changed."""
    root = tmp_path / "credit"
    shutil.copytree(evaluated_credit, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root
