"""A prepared, evaluated copy of the credit example, shared by the model card tests.

`evaluated_credit` copies examples/credit without anything generated, runs `prepare.py`,
then `mlprod evaluate --no-latency --html card.html` once per session. Tests that change
files copy it again. The helpers live in cardrun.py.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from cardrun import EXAMPLE, _ignore, mlprod, run


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
