"""The multiclass example end to end: its generated suite passes, and its CI job scores 20/20.

examples/chile is prepared in a temporary copy (prepare, lock, record, generate: the
`prepared_chile` fixture), then the tests here run what a team would run next: the
generated tests, `mlprod evaluate`, `mlprod monitor`, a commit, the generated CI job
(`mlprod ci run --skip-install`, in this environment) and `mlprod score` on its JUnit report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from suitekit import CHILE_NOT_JUDGED, IGNORE, mlprod, run_generated

from mlprod import CONCERNS

pytestmark = pytest.mark.slow

GIT = ("-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false")


def test_generated_suite_passes_on_the_example(prepared_chile: Path) -> None:
    outcomes, proc = run_generated(prepared_chile)
    bad = {n: o.message for n, o in outcomes.items() if o.status in ("failed", "error")}
    assert not bad, f"generated tests failed on the example:\n{proc.stdout[-4000:]}"
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert {o.concern for o in outcomes.values()} == set(CONCERNS)
    skipped = {n: o.message for n, o in outcomes.items() if o.status == "skipped"}
    served = [n for n in skipped if n.startswith("test_serving.py::")]
    assert sorted(set(skipped) - set(served)) == sorted(CHILE_NOT_JUDGED), skipped
    assert all("MODEL_URL" in skipped[n] for n in served), skipped
    for name, why in CHILE_NOT_JUDGED.items():
        assert "nothing to judge" in skipped[name] and why in skipped[name], skipped[name]
    assert len(outcomes) >= 60


def test_generated_files_pass_ruff_with_defaults(prepared_chile: Path) -> None:
    for args in (["check", "--isolated"], ["format", "--isolated", "--check", "--diff"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "tests/mlprod", "monitoring"],
            cwd=prepared_chile,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *GIT, *args], cwd=root, capture_output=True, text=True, check=True)
    return proc.stdout


def test_end_to_end_evaluate_monitor_ci_run_and_score_20(prepared_chile: Path, tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("the CI job runs on a clone of HEAD: needs git")
    root = tmp_path / "chile"
    shutil.copytree(prepared_chile, root, ignore=IGNORE)
    for args in (["validate"], ["evaluate"], ["monitor"]):
        proc = mlprod(root, *args)
        assert proc.returncode == 0, f"mlprod {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    card = (root / "MODEL_CARD.md").read_text(encoding="utf-8")
    for section in ("Multiclass classification", "### Confusion matrix", "### Class transitions"):
        assert section in card, section
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "chile example")
    proc = mlprod(root, "ci", "run", "--skip-install")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert proc.stdout.rstrip().splitlines()[-1].startswith("the CI job your push will run: passed (")
    junit = root / "reports" / "ci-run" / "junit.xml"
    score = mlprod(root, "score", "--results", str(junit), "--format", "json")
    report = json.loads(score.stdout)
    assert report["total"] == 20, score.stdout
    assert report["passed"] is True
    assert all(c["tests"]["failed"] == 0 for c in report["concerns"]), score.stdout
    assert _git(root, "status", "--porcelain") == ""
