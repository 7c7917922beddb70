"""Commands and paths shared by the model card tests (imported by name: `from cardrun import ...`;
`from conftest import` would pick whichever conftest pytest loaded first)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
