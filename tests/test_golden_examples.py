"""The examples' generated files are committed golden outputs, current with their specs.

Each example is copied as a clean clone has it (only files git tracks), so the check does
not depend on models or data built locally. Regenerate after a deliberate change with
`python scripts/regen_examples.py`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent for p in (REPO / "examples").glob("*/mlprod.yaml"))


def tracked_copy(example: Path, dest: Path) -> Path:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout to know which files are committed")
    files = subprocess.run(
        ["git", "ls-files", "-z", "--", str(example.relative_to(REPO))],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        target = dest / Path(rel).relative_to(example.relative_to(REPO))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    return dest


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlprod", "generate", "--check"], cwd=folder, capture_output=True, text=True
    )


def test_every_example_is_covered() -> None:
    # the binary and the multiclass example (issue 16); a spec moved away would drop its goldens
    assert {"credit", "chile"} <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_committed_golden_outputs_are_current(example: Path, tmp_path: Path) -> None:
    folder = tracked_copy(example, tmp_path / example.name)
    manifest = folder / ".mlprod" / "manifest.json"
    assert manifest.is_file(), "the example's generated files are not committed"
    proc = check(folder)
    assert proc.returncode == 0, f"run `python scripts/regen_examples.py`:\n{proc.stdout}{proc.stderr}"


def test_hand_edited_golden_file_is_reported(tmp_path: Path) -> None:
    folder = tracked_copy(REPO / "examples" / "credit", tmp_path / "credit")
    target = folder / "tests" / "mlprod" / "test_bias.py"
    target.write_text(target.read_text().replace("MIN_COHORT_ROWS = 30", "MIN_COHORT_ROWS = 3"))
    proc = check(folder)
    assert proc.returncode == 1
    assert "tests/mlprod/test_bias.py" in proc.stdout + proc.stderr
    assert "MIN_COHORT_ROWS = 3" in proc.stdout  # the diff shows the edit
