"""A prepared copy of the synthetic three-class project (tests/fixtures/multiclass)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from suitekit import FRESH, REPO, run

MULTICLASS = REPO / "tests" / "fixtures" / "multiclass"


def build_multiclass_project(root: Path) -> Path:
    """Copy the fixture to `root`, then prepare, lock, record and generate it; the root."""
    shutil.copytree(MULTICLASS, root, ignore=FRESH)
    steps = [
        [sys.executable, "prepare.py"],
        [sys.executable, "-m", "mlprod", "lock"],
        [sys.executable, "-m", "mlprod", "record"],
        [sys.executable, "-m", "mlprod", "generate", "--force"],
    ]
    for args in steps:
        proc = run(args, root, timeout=300)
        assert proc.returncode == 0, f"{' '.join(args[1:])} failed:\n{proc.stdout}\n{proc.stderr}"
    return root
